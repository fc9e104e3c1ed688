//! The `departments` and `users` tables of a [`Directory`].

use polars::prelude::DataFrame;

use super::columns::{frame, list_u64_col, opt_u64_col, str_col, u64_col};
use super::directory::{Directory, DirectoryDepartment};
use super::{schema, FlattenError};

/// The `departments` and `users` tables of a directory.
pub fn directory_tables(dir: &Directory) -> Result<(DataFrame, DataFrame), FlattenError> {
    let depts: Vec<&DirectoryDepartment> = dir.departments().collect();
    let departments = frame(
        &schema::DEPARTMENTS,
        depts.len(),
        vec![
            u64_col("department_id", depts.iter().map(|d| d.id).collect()),
            str_col(
                "name",
                depts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ),
            opt_u64_col("parent_id", depts.iter().map(|d| d.parent_id).collect()),
            str_col(
                "path",
                depts.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let users = dir.users();
    let department_ids: Vec<Vec<u64>> = users.iter().map(|u| u.department_ids.clone()).collect();
    let users = frame(
        &schema::USERS,
        users.len(),
        vec![
            str_col(
                "userid",
                users.iter().map(|u| u.userid.as_str()).collect::<Vec<_>>(),
            ),
            opt_u64_col(
                "department_id",
                users.iter().map(|u| u.main_department).collect(),
            ),
            list_u64_col("department_ids", &department_ids),
        ],
    )?;
    Ok((departments, users))
}
