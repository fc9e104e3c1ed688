//! A corp set up wrong, on purpose: one [`SimConfig`] field (and one `sim` flag) per way a real
//! corp's configuration refuses a client, as the README's "The simulator" lists them. Pure
//! decisions over the config and the organisation; the server asks them before answering.
//!
//! Choices where WeCom's documentation is silent:
//! - the trusted-IP check (60020) applies to every call made with an access token, directory
//!   calls included, and not to `gettoken`, which answers from anywhere (as operators report:
//!   the token comes, then every call fails);
//! - 301065 (app not added under 汇报 → 可调用接口的应用) and 48002 (the 汇报 system app's
//!   secret) refuse the four journal endpoints only; the directory answers as usual;
//! - a visibility scope hides whole subtrees: the directory lists only the visible
//!   departments, a visible department lists only its members, each without the departments
//!   it hides and without `main_department` when that one is hidden; a hidden department asked
//!   for by id is 60011. Journals and stats are not filtered by the scope, so a client meets
//!   submitters the directory does not know.

use std::collections::BTreeSet;

use super::server::{RECORD_DETAIL, RECORD_LIST, STAT_LIST, WEDRIVE_DOWNLOAD};
use super::{DirectoryUser, Org, SimConfig};
use crate::wecom::errcode;

/// The errcode and message a misconfiguration answers a call to `path` with, if it refuses it
/// (the caller's access token already checked).
pub(crate) fn refusal(config: &SimConfig, path: &str) -> Option<(i64, &'static str)> {
    if config.untrusted_ip {
        return Some((errcode::IP_NOT_TRUSTED, "not allow to access from your ip"));
    }
    let journal = [RECORD_LIST, RECORD_DETAIL, STAT_LIST, WEDRIVE_DOWNLOAD].contains(&path);
    if journal && config.system_app_secret {
        return Some((errcode::API_FORBIDDEN, "api forbidden"));
    }
    if journal && config.app_not_authorised {
        return Some((
            errcode::JOURNAL_NO_PERMISSION,
            "no permission to pull journal data",
        ));
    }
    None
}

/// What the app's visibility scope hides of the department tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Visibility {
    hidden: BTreeSet<u64>,
}

impl Visibility {
    /// A scope without the last `hidden_departments` departments by id (never a root) and
    /// everything below them. The simulator's tree lists parents before children, so these
    /// are whole subtrees and exactly that many (at most all but the roots).
    pub(crate) fn new(org: &Org, hidden_departments: usize) -> Visibility {
        let mut hidden: BTreeSet<u64> = org
            .departments
            .iter()
            .filter(|d| d.parentid != 0)
            .map(|d| d.id)
            .rev()
            .take(hidden_departments)
            .collect();
        // Below a hidden department everything is hidden too (a fixpoint: the tree is finite).
        loop {
            let below: Vec<u64> = org
                .departments
                .iter()
                .filter(|d| hidden.contains(&d.parentid) && !hidden.contains(&d.id))
                .map(|d| d.id)
                .collect();
            if below.is_empty() {
                break;
            }
            hidden.extend(below);
        }
        Visibility { hidden }
    }

    pub(crate) fn hides(&self, department_id: u64) -> bool {
        self.hidden.contains(&department_id)
    }

    /// `user` as the app sees them: without the departments the scope hides, and without a
    /// main department when it is one of them.
    pub(crate) fn user(&self, user: &DirectoryUser) -> DirectoryUser {
        DirectoryUser {
            department: user
                .department
                .iter()
                .copied()
                .filter(|d| !self.hides(*d))
                .collect(),
            main_department: user.main_department.filter(|d| !self.hides(*d)),
            ..user.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Org {
        Org::generate(&SimConfig {
            users: 30,
            days: 1,
            ..SimConfig::default()
        })
    }

    #[test]
    fn hidden_departments_are_the_last_ones_with_their_subtrees() {
        let org = org();
        let ids: Vec<u64> = org.departments.iter().map(|d| d.id).collect();
        assert_eq!(Visibility::new(&org, 0).hidden.len(), 0);
        let v = Visibility::new(&org, 3);
        let last3: BTreeSet<u64> = ids.iter().rev().take(3).copied().collect();
        assert_eq!(v.hidden, last3);
        // Never the root, however many are asked for.
        let all = Visibility::new(&org, 1000);
        assert_eq!(all.hidden.len(), ids.len() - 1);
        assert!(!all.hides(1));
    }

    #[test]
    fn users_lose_hidden_departments_and_a_hidden_main_one() {
        let v = Visibility {
            hidden: BTreeSet::from([7]),
        };
        let u = DirectoryUser {
            userid: "u".into(),
            name: "U".into(),
            department: vec![7, 3],
            main_department: Some(7),
        };
        let seen = v.user(&u);
        assert_eq!(seen.department, vec![3]);
        assert_eq!(seen.main_department, None);
        let visible_main = DirectoryUser {
            main_department: Some(3),
            ..u
        };
        assert_eq!(v.user(&visible_main).main_department, Some(3));
    }

    #[test]
    fn each_misconfiguration_refuses_what_it_should() {
        let ok = SimConfig::default();
        assert_eq!(refusal(&ok, RECORD_LIST), None);
        let ip = SimConfig {
            untrusted_ip: true,
            ..SimConfig::default()
        };
        assert_eq!(
            refusal(&ip, super::super::server::DEPARTMENT_LIST).map(|r| r.0),
            Some(60020)
        );
        let app = SimConfig {
            app_not_authorised: true,
            ..SimConfig::default()
        };
        assert_eq!(refusal(&app, STAT_LIST).map(|r| r.0), Some(301065));
        assert_eq!(refusal(&app, super::super::server::USER_LIST), None);
        let system = SimConfig {
            system_app_secret: true,
            ..SimConfig::default()
        };
        assert_eq!(refusal(&system, RECORD_DETAIL).map(|r| r.0), Some(48002));
    }
}
