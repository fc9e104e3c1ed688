//! The organisation directory as flatten needs it: departments (name, parent, path) and users
//! (main department, every department), from the API's `department/list` + `user/list`
//! responses, from an operator's CSV, or empty.
//!
//! Owns the rule "department of a user = main department; without one (an app whose visibility
//! scope hides it sends none), the first department the directory lists for them; without
//! any, `unknown` and a null id" (the README's "Pointing it at a real corp"). Reads files only
//! in [`Directory::from_csv`]; never calls the network.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::wecom::types::{DepartmentListResponse, UserListResponse};

use super::FlattenError;

/// The name given to a user's department when the directory has none for them.
pub const UNKNOWN_DEPARTMENT: &str = "unknown";

/// One department of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryDepartment {
    pub(crate) id: u64,
    pub(crate) name: String,
    /// `None` for a root (WeCom sends parentid 0 for the root department).
    pub(crate) parent_id: Option<u64>,
    /// Names from the root down, joined with `/` (`总部/研发/后端`).
    pub path: String,
}

/// One user of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUserEntry {
    pub(crate) userid: String,
    /// Display name, when the source gives one (used to render Contact controls).
    pub(crate) name: Option<String>,
    pub(crate) main_department: Option<u64>,
    /// Every department the user belongs to, main first when known, without repeats.
    pub(crate) department_ids: Vec<u64>,
}

/// The directory: departments by id and users by userid (in the order first seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    departments: BTreeMap<u64, DirectoryDepartment>,
    users: Vec<DirectoryUserEntry>,
    user_index: HashMap<String, usize>,
}

impl Directory {
    /// No directory (`directory = "none"`): every user's department is `unknown`.
    pub fn empty() -> Directory {
        Directory::default()
    }

    /// From `department/list` and the `user/list` responses of every department. A user listed
    /// under several departments appears once, with the union of their departments.
    pub fn from_api(departments: &DepartmentListResponse, users: &[UserListResponse]) -> Directory {
        let mut dir = Directory::default();
        let raw: Vec<(u64, String, Option<u64>)> = departments
            .department
            .iter()
            .map(|d| {
                (
                    d.id,
                    d.name.clone(),
                    (d.parentid != 0 && d.parentid != d.id).then_some(d.parentid),
                )
            })
            .collect();
        dir.set_departments(raw);
        for list in users {
            for u in &list.userlist {
                let name = (!u.name.is_empty()).then(|| u.name.clone());
                dir.add_user(&u.userid, name, u.main_department, &u.department);
            }
        }
        dir
    }

    /// From a CSV file with a header. Required columns: `userid`, `department_id` (the user's
    /// main department; empty for none). Optional: `department_name` and `parent_id`, which
    /// describe that department. Other columns are ignored. A user on several rows belongs to
    /// every department given; the first row's is the main one.
    pub fn from_csv(path: &Path) -> Result<Directory, FlattenError> {
        let text = std::fs::read_to_string(path).map_err(|source| FlattenError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Directory::from_csv_text(&text, path)
    }

    /// [`Directory::from_csv`] on text already read; `path` names it in errors.
    pub(crate) fn from_csv_text(text: &str, path: &Path) -> Result<Directory, FlattenError> {
        let err = |line: usize, message: String| FlattenError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        };
        let records = parse_csv(text).map_err(|(line, m)| err(line, m))?;
        let mut records = records.into_iter();
        let (header_line, header) = records.next().ok_or_else(|| {
            err(
                1,
                "empty file: expected a header `userid,department_id`".into(),
            )
        })?;
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
        };
        let (Some(userid_col), Some(dept_col)) = (find("userid"), find("department_id")) else {
            return Err(err(
                header_line,
                format!(
                    "header must name the columns `userid` and `department_id`, got {:?}",
                    header.join(",")
                ),
            ));
        };
        let name_col = find("department_name");
        let parent_col = find("parent_id");

        let mut dir = Directory::default();
        // Department facts from the rows: the first name / parent given for an id wins.
        let mut depts: BTreeMap<u64, (Option<String>, Option<u64>)> = BTreeMap::new();
        for (line, fields) in records {
            if fields.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let field = |i: usize| fields.get(i).map(|f| f.trim()).unwrap_or("");
            let userid = field(userid_col);
            if userid.is_empty() {
                return Err(err(line, "empty userid".into()));
            }
            let dept =
                parse_id(field(dept_col)).map_err(|m| err(line, format!("department_id: {m}")))?;
            let parent = match parent_col {
                Some(c) => parse_id(field(c)).map_err(|m| err(line, format!("parent_id: {m}")))?,
                None => None,
            };
            let name = name_col
                .map(field)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            if let Some(d) = dept {
                let entry = depts.entry(d).or_default();
                if entry.0.is_none() {
                    entry.0 = name;
                }
                if entry.1.is_none() {
                    entry.1 = parent.filter(|p| *p != 0 && *p != d);
                }
                // A parent named only as a parent still exists (named by its id).
                if let Some(p) = entry.1 {
                    depts.entry(p).or_default();
                }
            }
            // add_user keeps the first main department it is given: the user's first row.
            dir.add_user(userid, None, dept, dept.as_slice());
        }
        let raw = depts
            .into_iter()
            .map(|(id, (name, parent))| (id, name.unwrap_or_else(|| id.to_string()), parent))
            .collect();
        dir.set_departments(raw);
        Ok(dir)
    }

    fn set_departments(&mut self, raw: Vec<(u64, String, Option<u64>)>) {
        let by_id: HashMap<u64, (&str, Option<u64>)> = raw
            .iter()
            .map(|(id, n, p)| (*id, (n.as_str(), *p)))
            .collect();
        let mut out = BTreeMap::new();
        for (id, name, parent) in &raw {
            // Walk up to the root; a cycle or a missing parent ends the walk (bounded either way).
            let mut names = vec![name.as_str()];
            let mut seen = vec![*id];
            let mut next = *parent;
            while let Some(p) = next {
                if seen.contains(&p) {
                    break;
                }
                let Some((pname, pparent)) = by_id.get(&p) else {
                    break;
                };
                names.push(pname);
                seen.push(p);
                next = *pparent;
            }
            names.reverse();
            out.insert(
                *id,
                DirectoryDepartment {
                    id: *id,
                    name: name.clone(),
                    parent_id: *parent,
                    path: names.join("/"),
                },
            );
        }
        self.departments = out;
    }

    fn add_user(
        &mut self,
        userid: &str,
        name: Option<String>,
        main: Option<u64>,
        departments: &[u64],
    ) {
        let idx = match self.user_index.get(userid) {
            Some(i) => *i,
            None => {
                self.users.push(DirectoryUserEntry {
                    userid: userid.to_string(),
                    name: None,
                    main_department: None,
                    department_ids: Vec::new(),
                });
                self.user_index
                    .insert(userid.to_string(), self.users.len() - 1);
                self.users.len() - 1
            }
        };
        let u = &mut self.users[idx];
        if u.name.is_none() {
            u.name = name;
        }
        if u.main_department.is_none() {
            u.main_department = main.filter(|m| *m != 0);
        }
        for d in u.main_department.iter().chain(departments) {
            if !u.department_ids.contains(d) {
                u.department_ids.push(*d);
            }
        }
        if let Some(m) = u.main_department {
            // Keep the main department first.
            if let Some(pos) = u.department_ids.iter().position(|d| *d == m) {
                u.department_ids[..=pos].rotate_right(1);
            }
        }
    }

    pub(crate) fn departments(&self) -> impl Iterator<Item = &DirectoryDepartment> {
        self.departments.values()
    }

    pub(crate) fn users(&self) -> &[DirectoryUserEntry] {
        &self.users
    }

    pub fn department(&self, id: u64) -> Option<&DirectoryDepartment> {
        self.departments.get(&id)
    }

    pub(crate) fn user(&self, userid: &str) -> Option<&DirectoryUserEntry> {
        self.user_index.get(userid).map(|i| &self.users[*i])
    }

    /// The department a user's rows are counted under: the main department's id and name; for
    /// a user listed without one, the first department listed for them; `(None, "unknown")`
    /// for a user the directory does not know or lists in no department. A department missing
    /// from the department list keeps its id and is named by it.
    pub fn department_of(&self, userid: &str) -> (Option<u64>, String) {
        let user = self.user(userid);
        let department = user.and_then(|u| u.main_department.or(u.department_ids.first().copied()));
        match department {
            Some(id) => {
                let name = self
                    .department(id)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| id.to_string());
                (Some(id), name)
            }
            None => (None, UNKNOWN_DEPARTMENT.to_string()),
        }
    }

    /// A user's display name, when the directory has one.
    pub(crate) fn user_name(&self, userid: &str) -> Option<&str> {
        self.user(userid).and_then(|u| u.name.as_deref())
    }
}

fn parse_id(text: &str) -> Result<Option<u64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("{text:?} is not a department id (an unsigned integer)"))
}

/// A CSV record: the 1-based line it starts on, and its fields.
type CsvRecord = (usize, Vec<String>);

/// Splits CSV text into records (RFC 4180: commas, double-quoted fields with `""` escapes and
/// line breaks inside quotes). An error is a line and a message.
fn parse_csv(text: &str) -> Result<Vec<CsvRecord>, (usize, String)> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut in_quotes = false;
    let mut quote_start_line = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
                quote_start_line = line;
            }
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err((quote_start_line, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wecom::types::{Department, DirectoryUser};

    #[test]
    fn paths_walk_up_to_the_root() {
        let depts = DepartmentListResponse {
            department: vec![
                Department {
                    id: 1,
                    name: "总部".into(),
                    parentid: 0,
                },
                Department {
                    id: 2,
                    name: "研发".into(),
                    parentid: 1,
                },
                Department {
                    id: 3,
                    name: "后端".into(),
                    parentid: 2,
                },
            ],
        };
        let users = vec![UserListResponse {
            userlist: vec![
                DirectoryUser {
                    userid: "a".into(),
                    name: "A".into(),
                    department: vec![2, 3],
                    main_department: Some(3),
                },
                DirectoryUser {
                    userid: "b".into(),
                    name: String::new(),
                    department: vec![1],
                    main_department: None,
                },
            ],
        }];
        let dir = Directory::from_api(&depts, &users);
        assert_eq!(
            dir.department(3).map(|d| d.path.as_str()),
            Some("总部/研发/后端")
        );
        assert_eq!(dir.department(1).and_then(|d| d.parent_id), None);
        assert_eq!(dir.department_of("a"), (Some(3), "后端".to_string()));
        assert_eq!(
            dir.user("a").map(|u| u.department_ids.clone()),
            Some(vec![3, 2])
        );
        // No main department: the first one listed for them.
        assert_eq!(dir.department_of("b"), (Some(1), "总部".to_string()));
        assert_eq!(
            dir.department_of("nobody"),
            (None, UNKNOWN_DEPARTMENT.to_string())
        );
    }

    #[test]
    fn users_without_a_main_department_fall_back_to_the_first_listed_then_unknown() {
        let depts = DepartmentListResponse {
            department: vec![Department {
                id: 4,
                name: "销售".into(),
                parentid: 0,
            }],
        };
        let user = |userid: &str, department: Vec<u64>| DirectoryUser {
            userid: userid.into(),
            name: String::new(),
            department,
            main_department: None,
        };
        let users = vec![
            UserListResponse {
                userlist: vec![user("two", vec![9, 4]), user("none", vec![])],
            },
            // Listed again under another department: the first listing's order stays.
            UserListResponse {
                userlist: vec![user("two", vec![4, 9])],
            },
        ];
        let dir = Directory::from_api(&depts, &users);
        // Department 9 is not in the department list: it keeps its id, named by it.
        assert_eq!(dir.department_of("two"), (Some(9), "9".to_string()));
        assert_eq!(
            dir.department_of("none"),
            (None, UNKNOWN_DEPARTMENT.to_string())
        );
    }

    #[test]
    fn a_parent_cycle_does_not_loop() {
        let depts = DepartmentListResponse {
            department: vec![
                Department {
                    id: 1,
                    name: "x".into(),
                    parentid: 2,
                },
                Department {
                    id: 2,
                    name: "y".into(),
                    parentid: 1,
                },
            ],
        };
        let dir = Directory::from_api(&depts, &[]);
        assert_eq!(dir.department(1).map(|d| d.path.as_str()), Some("y/x"));
    }

    #[test]
    fn csv_quotes_and_line_numbers() {
        let text = "userid,department_id,department_name,parent_id,extra\n\
                    u1,2,\"研发, 一部\",1,zz\n\
                    u2,,,,\n\
                    u1,3,后端,2,\n";
        let dir = Directory::from_csv_text(text, Path::new("org.csv")).unwrap();
        assert_eq!(dir.department_of("u1"), (Some(2), "研发, 一部".to_string()));
        assert_eq!(
            dir.user("u1").map(|u| u.department_ids.clone()),
            Some(vec![2, 3])
        );
        assert_eq!(dir.department_of("u2").0, None);
        // Department 1 is only named as a parent: it exists, named by its id.
        assert_eq!(
            dir.department(3).map(|d| d.path.as_str()),
            Some("1/研发, 一部/后端")
        );

        let bad = "userid,department_id\nu1,2\nu2,two\n";
        let e = Directory::from_csv_text(bad, Path::new("org.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("org.csv:3"), "{e}");
        assert!(e.contains("\"two\""), "{e}");

        let e = Directory::from_csv_text("user,dept\n", Path::new("org.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("org.csv:1") && e.contains("userid"), "{e}");
    }
}
