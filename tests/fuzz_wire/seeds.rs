//! The seed corpus: the wire fixtures, the control fixtures (wrapped in a detail), the fuzz
//! regressions, the real API examples when `shared/api-examples` is beside the repository,
//! and the simulator's own answers (a generated organisation's details, stats and directory),
//! each parsed once into a JSON tree for the mutator.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{json, Value};

use wecom_journal::flatten::Directory;
use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::wecom::types::{DepartmentListResponse, UserListResponse};

/// Which response a seed (and every input made from it) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Detail,
    RecordList,
    StatList,
    DepartmentList,
    UserList,
    /// gettoken, errors, wedrive downloads: decoded as envelopes and tokens only.
    Other,
}

impl Kind {
    /// The kind a file's name says (`detail_…`, `journal_get_stat_list_response…`, …).
    pub fn of_file(name: &str) -> Kind {
        let n = name.to_ascii_lowercase();
        if n.contains("record_detail") || n.starts_with("detail") || n.contains("approval") {
            Kind::Detail
        } else if n.contains("record_list") {
            Kind::RecordList
        } else if n.contains("stat_list") {
            Kind::StatList
        } else if n.contains("department") {
            Kind::DepartmentList
        } else if n.contains("user") {
            Kind::UserList
        } else {
            Kind::Other
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Detail => "detail",
            Kind::RecordList => "record_list",
            Kind::StatList => "stat_list",
            Kind::DepartmentList => "department_list",
            Kind::UserList => "user_list",
            Kind::Other => "other",
        }
    }
}

pub struct Seed {
    pub kind: Kind,
    /// Where it came from, for the report.
    pub origin: String,
    pub tree: Value,
}

/// Where the seed files are, relative to the repository.
pub struct Sources {
    pub wire: PathBuf,
    pub controls: PathBuf,
    pub regressions: PathBuf,
    pub api_examples: Option<PathBuf>,
}

impl Sources {
    pub fn of_repository() -> Sources {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // `shared/` sits beside the repository (or beside the folder of its worktrees).
        let api_examples = root
            .ancestors()
            .skip(1)
            .take(3)
            .map(|a| a.join("shared/api-examples"))
            .find(|p| p.is_dir());
        Sources {
            wire: root.join("tests/fixtures/wire"),
            controls: root.join("tests/fixtures/controls"),
            regressions: root.join("tests/fixtures/fuzz"),
            api_examples,
        }
    }
}

/// The JSON files of `dir`, by name (none when `dir` does not exist).
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every seed. Files that are not JSON (a regression may be any bytes) are not seeds.
pub fn load(sources: &Sources) -> Vec<Seed> {
    let mut seeds = vec![];
    let mut dirs = vec![&sources.wire, &sources.regressions];
    if let Some(api) = &sources.api_examples {
        dirs.push(api);
    }
    for dir in dirs {
        for path in json_files(dir) {
            let name = file_name(&path);
            if name.contains("request") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(tree) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            seeds.push(Seed {
                kind: Kind::of_file(&name),
                origin: path.display().to_string(),
                tree,
            });
        }
    }
    for path in json_files(&sources.controls) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(contents) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        seeds.push(Seed {
            kind: Kind::Detail,
            origin: path.display().to_string(),
            tree: json!({"errcode": 0, "errmsg": "ok", "info": {
                "journal_uuid": format!("controls-{}", file_name(&path)),
                "template_name": "日报", "template_id": "tpl-fixture",
                "report_time": 1_791_787_200, "submitter": {"userid": "zhangsan"},
                "receivers": [{"userid": "lisi"}], "readed_receivers": [],
                "apply_data": {"contents": contents}, "comments": []}}),
        });
    }
    seeds.extend(simulator());
    seeds
}

/// The small organisation the simulator seeds come from (a month end inside its days).
fn simulator_org() -> Org {
    Org::generate(&SimConfig {
        seed: 11,
        users: 24,
        start: NaiveDate::from_ymd_opt(2026, 1, 26).expect("a date"),
        days: 14,
        ..SimConfig::default()
    })
}

/// The directory of [`simulator_org`], as flatten builds it from the API's answers: the
/// directory of every batch that brings none of its own.
pub fn simulator_directory() -> Directory {
    let org = simulator_org();
    let departments = DepartmentListResponse {
        department: org.departments,
    };
    let users = UserListResponse {
        userlist: org.users,
    };
    Directory::from_api(&departments, &[users])
}

/// The simulator's answers for a small organisation: a spread of its journals (every control
/// shape it makes), its stat cycles a few at a time, its department list and user lists.
fn simulator() -> Vec<Seed> {
    let org = simulator_org();
    let mut seeds = vec![];
    let step = (org.journals.len() / 48).max(1);
    for j in org.journals.iter().step_by(step) {
        seeds.push(Seed {
            kind: Kind::Detail,
            origin: format!("simulator journal {}", j.journal_uuid),
            tree: json!({"errcode": 0, "errmsg": "ok", "info": j}),
        });
    }
    for chunk in org.stats.chunks(3).take(24) {
        seeds.push(Seed {
            kind: Kind::StatList,
            origin: "simulator stat cycles".into(),
            tree: json!({"errcode": 0, "errmsg": "ok", "stat_list": chunk}),
        });
    }
    seeds.push(Seed {
        kind: Kind::DepartmentList,
        origin: "simulator department/list".into(),
        tree: json!({"errcode": 0, "errmsg": "ok", "department": org.departments}),
    });
    for chunk in org.users.chunks(6) {
        seeds.push(Seed {
            kind: Kind::UserList,
            origin: "simulator user/list".into(),
            tree: json!({"errcode": 0, "errmsg": "ok", "userlist": chunk}),
        });
    }
    seeds
}
