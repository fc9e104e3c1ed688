//! The directory: `department/list` and `user/list`, which flatten reads for each journal's
//! department.

use serde::{Deserialize, Serialize};

use crate::wecom::num::{opt_u64_lenient, u64_lenient};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct DepartmentListResponse {
    #[serde(default)]
    pub department: Vec<Department>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Department {
    #[serde(deserialize_with = "u64_lenient")]
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub parentid: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct UserListResponse {
    #[serde(default)]
    pub userlist: Vec<DirectoryUser>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DirectoryUser {
    pub userid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub department: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub main_department: Option<u64>,
}
