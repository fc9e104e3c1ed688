//! The directory endpoints: departments and their members.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{Reply, Sim};
use crate::wecom::errcode;

impl Sim {
    pub(super) fn department_list(&self, query: &HashMap<String, String>) -> Reply {
        let id = match query.get("id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match s.parse::<u64>() {
                Ok(id) => Some(id),
                Err(_) => return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id"),
            },
        };
        let Some(list) = crate::sim::org::departments_under(&self.org, id) else {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        };
        let department: Vec<Value> = list
            .iter()
            .map(|d| json!({ "id": d.id, "name": d.name, "parentid": d.parentid, "order": 100_000_000 - d.id }))
            .collect();
        Reply::ok(json!({ "department": department }))
    }

    pub(super) fn user_list(&self, query: &HashMap<String, String>) -> Reply {
        let Some(raw) = query
            .get("department_id")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            return Reply::error(errcode::INVALID_DEPARTMENT_LIST, "invalid department list");
        };
        let Ok(id) = raw.parse::<u64>() else {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        };
        if !self.org.departments.iter().any(|d| d.id == id) {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        }
        let users = crate::sim::org::members_of(&self.org, id);
        match serde_json::to_value(users) {
            Ok(list) => Reply::ok(json!({ "userlist": list })),
            Err(_) => Reply::error(errcode::SYSTEM_BUSY, "system busy"),
        }
    }
}
