//! The directory: `department/list` and `user/list`, which flatten reads for each journal's
//! department.

use serde::{Deserialize, Deserializer, Serialize};

use super::lenient;
use crate::wecom::num::{opt_u64_lenient, u64_lenient};

/// `department/list`. Decoding one names the field path of what does not decode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(remote = "Self")]
pub struct DepartmentListResponse {
    #[serde(default, deserialize_with = "lenient::list")]
    pub department: Vec<Department>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Department {
    #[serde(deserialize_with = "u64_lenient")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub parentid: u64,
}

/// `user/list`. Decoding one names the field path of what does not decode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(remote = "Self")]
pub struct UserListResponse {
    #[serde(default, deserialize_with = "lenient::list")]
    pub userlist: Vec<DirectoryUser>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DirectoryUser {
    #[serde(deserialize_with = "lenient::string")]
    pub userid: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// The departments the user is a member of, numbers or numeric strings as sent.
    #[serde(default, deserialize_with = "lenient::u64_list")]
    pub department: Vec<u64>,
    /// Absent when the app cannot see it; `null` or `""` is absent too.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub main_department: Option<u64>,
}

// `remote = "Self"` makes the derives above inherent functions; these are the trait impls.
impl<'de> Deserialize<'de> for DepartmentListResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::with_path(d, |d| DepartmentListResponse::deserialize(d))
    }
}

impl Serialize for DepartmentListResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DepartmentListResponse::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for UserListResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::with_path(d, |d| UserListResponse::deserialize(d))
    }
}

impl Serialize for UserListResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        UserListResponse::serialize(self, s)
    }
}
