//! The people of the synthetic organisation: the department tree, the users (names, departments,
//! how reliably each reports) and who receives whose journals.

use std::collections::HashMap;

use super::super::rng::Rng;
use crate::wecom::types::{Department, DirectoryUser};

/// The department tree: (id, name, parentid). Four levels under the root.
pub(super) const DEPARTMENTS: &[(u64, &str, u64)] = &[
    (1, "模拟科技有限公司", 0),
    (2, "研发中心", 1),
    (3, "销售部", 1),
    (4, "人事行政部", 1),
    (5, "后端组", 2),
    (6, "前端组", 2),
    (7, "测试组", 2),
    (8, "华东区", 3),
    (9, "华南区", 3),
    (10, "自动化测试小组", 7),
    (11, "市场部", 1),
];

const SURNAMES: &[(&str, &str)] = &[
    ("张", "Zhang"),
    ("王", "Wang"),
    ("李", "Li"),
    ("赵", "Zhao"),
    ("陈", "Chen"),
    ("刘", "Liu"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
];

const GIVEN: &[(&str, &str)] = &[
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("磊", "Lei"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("军", "Jun"),
    ("强", "Qiang"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀英", "XiuYing"),
    ("晓东", "XiaoDong"),
    ("建华", "JianHua"),
    ("子涵", "ZiHan"),
];

/// How reliably one user reports.
#[derive(Debug, Clone, Copy)]
pub(super) struct Habit {
    /// Probability of not reporting a cycle (1.0: never reports).
    pub(super) skip: f64,
    /// Probability a report is late.
    pub(super) late: f64,
}

/// The department tree as `department/list` serves it.
pub(super) fn departments() -> Vec<Department> {
    DEPARTMENTS
        .iter()
        .map(|(id, name, parentid)| Department {
            id: *id,
            name: (*name).into(),
            parentid: *parentid,
        })
        .collect()
}

/// Department id → name.
pub(super) fn department_names() -> HashMap<u64, &'static str> {
    DEPARTMENTS
        .iter()
        .map(|(id, name, _)| (*id, *name))
        .collect()
}

/// `count` users and their habits. The first is the boss (root department); the others spread
/// over the tree, some in two departments (the main one not always listed first).
pub(super) fn users(rng: &mut Rng, count: usize) -> (Vec<DirectoryUser>, Vec<Habit>) {
    let mut users = Vec::with_capacity(count);
    let mut habits = Vec::with_capacity(count);
    for i in 0..count {
        let (sz, sp) = *rng.pick(SURNAMES).unwrap_or(&SURNAMES[0]);
        let (gz, gp) = *rng.pick(GIVEN).unwrap_or(&GIVEN[0]);
        let main = if i == 0 {
            1
        } else {
            DEPARTMENTS[1 + rng.below(DEPARTMENTS.len() as u64 - 1) as usize].0
        };
        let mut department = vec![main];
        // Every seventh user also belongs to a second department (main not always first).
        if i % 7 == 3 {
            let others: Vec<u64> = DEPARTMENTS[1..]
                .iter()
                .map(|d| d.0)
                .filter(|d| *d != main)
                .collect();
            let other = *rng.pick(&others).unwrap_or(&main);
            if rng.chance(0.5) {
                department.insert(0, other);
            } else {
                department.push(other);
            }
        }
        users.push(DirectoryUser {
            userid: format!("{sp}{gp}{}", i + 1),
            name: format!("{sz}{gz}"),
            department,
            main_department: Some(main),
        });
        let roll = rng.unit();
        let skip = if i == 0 {
            0.5
        } else if roll < 0.05 {
            1.0
        } else if roll < 0.2 {
            0.15
        } else if roll < 0.8 {
            0.03
        } else {
            0.0
        };
        let late = *rng.pick(&[0.02, 0.1, 0.1, 0.35]).unwrap_or(&0.1);
        habits.push(Habit { skip, late });
    }
    (users, habits)
}

/// A department's leader: its first member by main department.
pub(super) fn leaders(users: &[DirectoryUser]) -> HashMap<u64, usize> {
    let mut leader: HashMap<u64, usize> = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        if let Some(m) = u.main_department {
            leader.entry(m).or_insert(i);
        }
    }
    leader
}

/// The receivers of each user's journals (indexes into `users`): the nearest leader above
/// them (not themselves), and the boss for every fourth user.
pub(super) fn receivers(users: &[DirectoryUser], leader: &HashMap<u64, usize>) -> Vec<Vec<usize>> {
    let parent: HashMap<u64, u64> = DEPARTMENTS.iter().map(|(id, _, p)| (*id, *p)).collect();
    users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut dept = u.main_department.unwrap_or(1);
            let mut out = Vec::new();
            loop {
                if let Some(&l) = leader.get(&dept) {
                    if l != i {
                        out.push(l);
                        break;
                    }
                }
                match parent.get(&dept) {
                    Some(&p) if p != 0 => dept = p,
                    _ => break,
                }
            }
            if i != 0 && !out.contains(&0) && !users.is_empty() && i % 4 == 0 {
                out.push(0);
            }
            out
        })
        .collect()
}

/// A department and every department below it.
pub(super) fn subtree(root: u64) -> Vec<u64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let id = out[i];
        out.extend(
            DEPARTMENTS
                .iter()
                .filter(|(_, _, p)| *p == id)
                .map(|(d, _, _)| *d),
        );
        i += 1;
    }
    out
}

/// Leaves `main_department` out for about one user in ten, and one in two of those in several
/// departments (whose main one is then not always the first listed), as the directory does for
/// users whose main department the app may not see. Its own random stream, so the rest of the
/// organisation does not depend on it.
pub(super) fn hide_main_departments(seed: u64, users: &mut [DirectoryUser]) {
    let mut rng = Rng::derived(seed, 6);
    for u in users.iter_mut() {
        let p = if u.department.len() > 1 { 0.5 } else { 0.1 };
        if rng.chance(p) {
            u.main_department = None;
        }
    }
}
