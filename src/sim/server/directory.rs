//! The directory endpoints a client of the journal app calls: `department/list` and
//! `department/simplelist` (a department and everything below it), `user/list` and
//! `user/simplelist` (a department's members, `fetch_child=1` for its whole subtree) and
//! `user/get` (one user), in the shapes of the real examples, written by the
//! world's [`Wire`](crate::sim::Wire).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{no_privilege, Reply, Sim};
use crate::sim::org::{departments_under, members_of};
use crate::wecom::errcode;
use crate::wecom::types::{Department, DirectoryUser};

type Query = HashMap<String, String>;

/// A query parameter, trimmed; `None` when absent or blank.
fn param<'q>(query: &'q Query, name: &str) -> Option<&'q str> {
    query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn invalid_department() -> Reply {
    Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id")
}

/// The `order` WeCom gives a department (larger first); the simulator's is fixed by its id.
fn order(d: &Department) -> u64 {
    100_000_000 - d.id
}

impl Sim {
    /// The departments `?id=` names (the whole tree without it) that the app's visibility
    /// scope shows, or the answer to a bad or hidden id (60011).
    fn departments_of_query(&self, query: &Query) -> Result<Vec<&Department>, Reply> {
        let id = match param(query, "id") {
            None => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| invalid_department())?),
        };
        let list = departments_under(&self.org, id).ok_or_else(invalid_department)?;
        if id.is_some_and(|id| self.visibility.hides(id)) {
            return Err(no_privilege());
        }
        Ok(list
            .into_iter()
            .filter(|d| !self.visibility.hides(d.id))
            .collect())
    }

    pub(super) fn department_list(&self, query: &Query) -> Reply {
        self.departments_reply(query, "department", true)
    }

    /// `department/simplelist`: ids only (`department_id: [{id, parentid, order}]`).
    pub(super) fn department_simplelist(&self, query: &Query) -> Reply {
        self.departments_reply(query, "department_id", false)
    }

    /// The departments `?id=` names under `key`, each `{id, [name,] parentid, order}` as the
    /// wire writes it.
    fn departments_reply(&self, query: &Query, key: &str, named: bool) -> Reply {
        let list = match self.departments_of_query(query) {
            Ok(l) => l,
            Err(reply) => return reply,
        };
        let departments: Vec<Value> = list
            .iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("id".into(), json!(d.id));
                if named {
                    m.insert("name".into(), json!(d.name));
                }
                m.insert("parentid".into(), json!(d.parentid));
                m.insert("order".into(), json!(order(d)));
                self.org.wire.department(&mut m);
                Value::Object(m)
            })
            .collect();
        let mut body = Map::new();
        body.insert(key.into(), Value::Array(departments));
        Reply::ok(Value::Object(body))
    }

    /// The members `?department_id=&fetch_child=` names, as the app's visibility scope shows
    /// them (without hidden departments, and nobody only there), or the answer to a bad or
    /// hidden id (60011).
    fn members_of_query(&self, query: &Query) -> Result<Vec<DirectoryUser>, Reply> {
        let Some(raw) = param(query, "department_id") else {
            return Err(Reply::error(
                errcode::INVALID_DEPARTMENT_LIST,
                "invalid department list",
            ));
        };
        let id = raw.parse::<u64>().map_err(|_| invalid_department())?;
        if !self.org.departments.iter().any(|d| d.id == id) {
            return Err(invalid_department());
        }
        if self.visibility.hides(id) {
            return Err(no_privilege());
        }
        let fetch_child = param(query, "fetch_child") == Some("1");
        let asked: Vec<u64> = if fetch_child {
            departments_under(&self.org, Some(id))
                .unwrap_or_default()
                .iter()
                .map(|d| d.id)
                .collect()
        } else {
            vec![id]
        };
        Ok(members_of(&self.org, id, fetch_child)
            .into_iter()
            .map(|u| self.visibility.user(u))
            .filter(|u| u.department.iter().any(|d| asked.contains(d)))
            .collect())
    }

    /// `user/list`: members with their departments and `main_department` (when the app may
    /// see it).
    pub(super) fn user_list(&self, query: &Query) -> Reply {
        let users = match self.members_of_query(query) {
            Ok(u) => u,
            Err(reply) => return reply,
        };
        let userlist: Vec<Value> = users
            .iter()
            .map(|u| {
                let mut m = self.org.wire.user(u);
                m.insert("status".into(), json!(1));
                Value::Object(m)
            })
            .collect();
        Reply::ok(json!({ "userlist": userlist }))
    }

    /// `user/simplelist`: userid, name and departments only (no main department).
    pub(super) fn user_simplelist(&self, query: &Query) -> Reply {
        let users = match self.members_of_query(query) {
            Ok(u) => u,
            Err(reply) => return reply,
        };
        let userlist: Vec<Value> = users
            .iter()
            .map(|u| {
                let mut m = self.org.wire.user(u);
                m.remove("main_department");
                m.insert("open_userid".into(), json!(format!("wo{}", u.userid)));
                Value::Object(m)
            })
            .collect();
        Reply::ok(json!({ "userlist": userlist }))
    }

    /// `user/get?userid=`: one user, with `order` per department; 60111 for an unknown one,
    /// 60011 for one wholly outside the app's visibility scope.
    pub(super) fn user_get(&self, query: &Query) -> Reply {
        let Some(user) = param(query, "userid").and_then(|id| self.org.user(id)) else {
            return Reply::error(errcode::USER_NOT_FOUND, "userid not found");
        };
        let user = self.visibility.user(user);
        if user.department.is_empty() {
            return no_privilege();
        }
        let mut m = self.org.wire.user(&user);
        m.insert("order".into(), json!(vec![0; user.department.len()]));
        m.insert("status".into(), json!(1));
        Reply::ok(Value::Object(m))
    }
}
