//! The directory snapshot: the raw `department/list` response and each department's raw
//! `user/list` response, replaced whole by each fetch, read back decoded.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::{Result, SqlContext, Store, StoreError};
use crate::wecom::types::{Department, DepartmentListResponse, DirectoryUser, UserListResponse};

/// The latest directory snapshot: the raw `department/list` response and each department's
/// raw `user/list` response, decoded.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    pub fetched_at: i64,
    pub departments_raw: String,
    /// `(department_id, raw user/list response)`, by department id.
    pub user_lists_raw: Vec<(u64, String)>,
    pub departments: Vec<Department>,
    /// Every user once (the first department listing them wins), by userid.
    pub users: Vec<DirectoryUser>,
}

impl Store {
    /// Replaces the directory snapshot with a new one, whole, in one transaction.
    pub fn put_directory(
        &self,
        fetched_at: i64,
        departments_raw: &str,
        user_lists_raw: &[(u64, String)],
    ) -> Result<()> {
        let what = "storing the directory snapshot";
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what)?;
        tx.execute("DELETE FROM directory_user_lists", [])
            .ctx(what)?;
        tx.execute("DELETE FROM directory_snapshots", [])
            .ctx(what)?;
        tx.execute(
            "INSERT INTO directory_snapshots (fetched_at, departments_raw) VALUES (?1, ?2)",
            params![fetched_at, departments_raw],
        )
        .ctx(what)?;
        let id = tx.last_insert_rowid();
        for (department_id, raw) in user_lists_raw {
            tx.execute(
                "INSERT OR REPLACE INTO directory_user_lists (snapshot_id, department_id, raw) VALUES (?1, ?2, ?3)",
                params![id, *department_id as i64, raw],
            )
            .ctx(what)?;
        }
        tx.commit().ctx(what)
    }

    /// When the stored directory snapshot was fetched, if there is one.
    pub(crate) fn directory_fetched_at(&self) -> Result<Option<i64>> {
        let conn = self.conn();
        conn.query_row("SELECT max(fetched_at) FROM directory_snapshots", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .ctx("reading the directory snapshot's time")
    }

    /// The latest directory snapshot, decoded.
    pub fn directory(&self) -> Result<Option<DirectorySnapshot>> {
        let what = "reading the directory snapshot";
        let conn = self.conn();
        let head: Option<(i64, i64, String)> = conn
            .query_row(
                "SELECT snapshot_id, fetched_at, departments_raw FROM directory_snapshots
                 ORDER BY snapshot_id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .ctx(what)?;
        let Some((id, fetched_at, departments_raw)) = head else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare("SELECT department_id, raw FROM directory_user_lists WHERE snapshot_id = ?1 ORDER BY department_id")
            .ctx(what)?;
        let user_lists_raw = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .ctx(what)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(what)?;
        let decode = |what: String, source| StoreError::Decode { what, source };
        let list: DepartmentListResponse = serde_json::from_str(&departments_raw)
            .map_err(|e| decode("department/list response".into(), e))?;
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for (department_id, raw) in &user_lists_raw {
            let list: UserListResponse = serde_json::from_str(raw).map_err(|e| {
                decode(
                    format!("user/list response of department {department_id}"),
                    e,
                )
            })?;
            for user in list.userlist {
                if seen.insert(user.userid.clone()) {
                    users.push(user);
                }
            }
        }
        users.sort_by(|a, b| a.userid.cmp(&b.userid));
        Ok(Some(DirectorySnapshot {
            fetched_at,
            departments_raw,
            user_lists_raw,
            departments: list.department,
            users,
        }))
    }
}

/// Departments of the latest snapshot (its `department/list` response).
pub(super) fn count_directory_departments(conn: &Connection) -> Result<u64> {
    let raw: Option<String> = conn
        .query_row(
            "SELECT departments_raw FROM directory_snapshots ORDER BY snapshot_id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading the directory snapshot")?;
    let Some(raw) = raw else { return Ok(0) };
    let list: DepartmentListResponse =
        serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
            what: "department/list response".into(),
            source,
        })?;
    Ok(list.department.len() as u64)
}

/// Distinct users of the latest snapshot, over all its `user/list` responses.
pub(super) fn count_directory_users(conn: &Connection) -> Result<u64> {
    let what = "reading the directory snapshot";
    let mut stmt = conn
        .prepare(
            "SELECT raw FROM directory_user_lists
             WHERE snapshot_id = (SELECT max(snapshot_id) FROM directory_snapshots)",
        )
        .ctx(what)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).ctx(what)?;
    let mut seen = HashSet::new();
    for raw in rows {
        let raw = raw.ctx(what)?;
        let list: UserListResponse =
            serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                what: "user/list response".into(),
                source,
            })?;
        seen.extend(list.userlist.into_iter().map(|u| u.userid));
    }
    Ok(seen.len() as u64)
}
