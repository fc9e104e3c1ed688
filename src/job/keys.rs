//! Every key of a job file, defined once: the table it lives in, its name, its type, its
//! default, the values it allows and one line on what it means.
//!
//! The parser reads each key through its entry here: the unknown-key check lists a table's
//! entries, a key left out takes the entry's default, and types, ranges and allowed values
//! are checked as the entry says. `docs/job-file.md` is generated from the same entries
//! ([`to_markdown`], printed by `wecom-journal schema --job-file`), and a test fails when the
//! file differs from it.

use crate::wecom::Limits;

use super::{Format, Language, Period, ReportKind};
use DefaultValue::{Absent, Credential, Derived, List, Required};

/// One key of a job file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// The table it lives in, dotted (`source.limits`); empty for the top level.
    pub(crate) table: &'static str,
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    pub(crate) default: DefaultValue,
    /// The values it takes, when they are a fixed set (patterns like `"<N>d"` included);
    /// empty when any value of its type will do.
    pub(crate) allowed: &'static [&'static str],
    /// What it means, in one line.
    pub(crate) doc: &'static str,
}

/// What a key holds in the TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// A table of keys of its own.
    Table,
    /// A string; `${VAR}`s in it are read from the environment.
    String,
    Bool,
    /// An integer from `min` to `u32::MAX`.
    Integer {
        min: u32,
    },
    /// A local date: a TOML date (`2026-10-01`) or a string `"2026-10-01"`.
    Date,
    /// A list of ids (strings), none empty, none twice.
    Ids,
    /// A list of ids written as strings or integers, none empty, none twice.
    IdsOrIntegers,
    /// A list of names from the key's `allowed`, none twice.
    Names,
    /// A duration written as a string, `"2h"`, `"90m"`, `"1h30m"`, `"45s"`.
    Duration,
}

/// What a key left out of the file means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultValue {
    /// It must be given.
    Required,
    /// It must be given, unless the run brings its own credentials (`run --sandbox`, `plan`).
    Credential,
    Bool(bool),
    Integer(u32),
    /// A string, read as if the file said it.
    String(&'static str),
    /// A list of strings, read as if the file said it.
    List(&'static [&'static str]),
    /// Worked out from other keys, as said.
    Derived(&'static str),
    /// No value; what that means, as said.
    Absent(&'static str),
}

impl Key {
    /// `source.limits.max_in_flight`: how messages name the key.
    pub(crate) fn path(&self) -> String {
        if self.table.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.table, self.name)
        }
    }

    /// The default of a [`Type::Bool`] key (the table's check below guarantees one).
    pub(crate) const fn bool_default(&self) -> bool {
        match self.default {
            DefaultValue::Bool(b) => b,
            _ => panic!("a boolean job key without a boolean default"),
        }
    }

    /// The default of a [`Type::Integer`] key (the table's check below guarantees one).
    pub(crate) const fn integer_default(&self) -> u32 {
        match self.default {
            DefaultValue::Integer(n) => n,
            _ => panic!("an integer job key without an integer default"),
        }
    }

    /// The default of a list key (the table's check below guarantees one).
    pub(crate) const fn list_default(&self) -> &'static [&'static str] {
        match self.default {
            DefaultValue::List(list) => list,
            _ => panic!("a list job key without a list default"),
        }
    }

    /// The default of a string key that has one (`api_base`, `timezone`, `directory`).
    pub(crate) const fn string_default(&self) -> &'static str {
        match self.default {
            DefaultValue::String(s) => s,
            _ => panic!("a string job key without a string default"),
        }
    }
}

// ---- the top level --------------------------------------------------------------------------

pub(crate) const NAME: Key = Key {
    table: "",
    name: "name",
    ty: Type::String,
    default: Required,
    allowed: &[],
    doc: "The job's name: names the default output directory and the run manifests (no `/`, `\\` \
          or control characters).",
};
pub(crate) const SOURCE: Key = Key {
    table: "",
    name: "source",
    ty: Type::Table,
    default: Credential,
    allowed: &[],
    doc: "The corp and its journal app.",
};
pub(crate) const RANGE: Key = Key {
    table: "",
    name: "range",
    ty: Type::Table,
    default: Required,
    allowed: &[],
    doc: "The dates the job covers: `start` and `end`, or `last`.",
};
pub(crate) const FILTERS: Key = Key {
    table: "",
    name: "filters",
    ty: Type::Table,
    default: Absent("no filter"),
    allowed: &[],
    doc: "Which journals to extract; a list left empty or out does not filter.",
};
pub(crate) const EXTRACT: Key = Key {
    table: "",
    name: "extract",
    ty: Type::Table,
    default: Absent("every key at its default"),
    allowed: &[],
    doc: "What to fetch besides the journal list.",
};
pub(crate) const OUTPUT: Key = Key {
    table: "",
    name: "output",
    ty: Type::Table,
    default: Absent("every key at its default"),
    allowed: &[],
    doc: "Where and what to write.",
};
pub(crate) const STORE: Key = Key {
    table: "",
    name: "store",
    ty: Type::Table,
    default: Absent("every key at its default"),
    allowed: &[],
    doc: "The job's SQLite store: its raw responses and resume state, always on local disk.",
};
pub(crate) const PLAN: Key = Key {
    table: "",
    name: "plan",
    ty: Type::Table,
    default: Absent("every key at its default"),
    allowed: &[],
    doc: "What `plan` assumes before a run has measured the corp; once a run has filled the \
          store, `plan` scales what it measured instead.",
};

// ---- [source] -------------------------------------------------------------------------------

/// The documented WeCom API base.
pub(crate) const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com";

pub(crate) const SOURCE_CORP_ID: Key = Key {
    table: "source",
    name: "corp_id",
    ty: Type::String,
    default: Credential,
    allowed: &[],
    doc: "The corp id, e.g. `\"${WECOM_CORP_ID}\"`.",
};
pub(crate) const SOURCE_SECRET: Key = Key {
    table: "source",
    name: "secret",
    ty: Type::String,
    default: Credential,
    allowed: &[],
    doc: "The journal app's secret, e.g. `\"${WECOM_JOURNAL_SECRET}\"`; never logged or written \
          anywhere.",
};
pub(crate) const SOURCE_API_BASE: Key = Key {
    table: "source",
    name: "api_base",
    ty: Type::String,
    default: DefaultValue::String(DEFAULT_API_BASE),
    allowed: &[],
    doc: "The API's base URL (`http://` or `https://`); the environment variable \
          `WECOM_API_BASE` overrides it (private deployments, the simulator).",
};
pub(crate) const SOURCE_TIMEZONE: Key = Key {
    table: "source",
    name: "timezone",
    ty: Type::String,
    default: DefaultValue::String("Asia/Shanghai"),
    allowed: &[],
    doc: "An IANA timezone: dates, windows and partitions are local to it.",
};
pub(crate) const SOURCE_LIMITS: Key = Key {
    table: "source",
    name: "limits",
    ty: Type::Table,
    default: Absent("the documented quotas"),
    allowed: &[],
    doc: "The quotas the client keeps to.",
};

// ---- [source.limits] ------------------------------------------------------------------------

pub(crate) const LIMITS_RECORD_LIST_PER_MINUTE: Key = Key {
    table: "source.limits",
    name: "record_list_per_minute",
    ty: Type::Integer { min: 1 },
    default: DefaultValue::Integer(Limits::DOCUMENTED.record_list_per_minute),
    allowed: &[],
    doc: "Journal record-list calls a minute (doc 93393). Above the documented quota is a \
          warning: WeCom answers 45009 beyond it.",
};
pub(crate) const LIMITS_PER_API_PER_MINUTE: Key = Key {
    table: "source.limits",
    name: "per_api_per_minute",
    ty: Type::Integer { min: 1 },
    default: DefaultValue::Integer(Limits::DOCUMENTED.per_api_per_minute),
    allowed: &[],
    doc: "Calls a minute to every other API, per corp (above the documented quota: a warning).",
};
pub(crate) const LIMITS_PER_API_PER_HOUR: Key = Key {
    table: "source.limits",
    name: "per_api_per_hour",
    ty: Type::Integer { min: 1 },
    default: DefaultValue::Integer(Limits::DOCUMENTED.per_api_per_hour),
    allowed: &[],
    doc: "Calls an hour to every other API, per corp: at least `per_api_per_minute` (above the \
          documented quota: a warning).",
};
pub(crate) const LIMITS_MAX_IN_FLIGHT: Key = Key {
    table: "source.limits",
    name: "max_in_flight",
    ty: Type::Integer { min: 1 },
    default: DefaultValue::Integer(Limits::DOCUMENTED.max_in_flight as u32),
    allowed: &[],
    doc: "Calls in flight at once (too many gives errcode 45033).",
};
/// `Limits::DOCUMENTED.max_quota_wait` as written (a test checks they agree).
pub(crate) const MAX_QUOTA_WAIT_DEFAULT: &str = "2h";
pub(crate) const LIMITS_MAX_QUOTA_WAIT: Key = Key {
    table: "source.limits",
    name: "max_quota_wait",
    ty: Type::Duration,
    default: DefaultValue::String(MAX_QUOTA_WAIT_DEFAULT),
    allowed: &[],
    doc: "How long one call may wait in all for quotas WeCom says are spent (errcode 45009), \
          before the run fails; these waits never spend a retry. The client's own pacing under \
          the quotas is not counted.",
};

// ---- [range] --------------------------------------------------------------------------------

/// What leaving out all three of `start`, `end` and `last` needs.
const START_END_OR_LAST: DefaultValue = Absent("give `start` and `end`, or `last`");

pub(crate) const RANGE_START: Key = Key {
    table: "range",
    name: "start",
    ty: Type::Date,
    default: START_END_OR_LAST,
    allowed: &[],
    doc: "The first local day, inclusive (from 2016-01-01: WeCom keeps no older journal).",
};
pub(crate) const RANGE_END: Key = Key {
    table: "range",
    name: "end",
    ty: Type::Date,
    default: START_END_OR_LAST,
    allowed: &[],
    doc: "The day after the last local day (exclusive; at most 2100-01-01).",
};
pub(crate) const RANGE_LAST: Key = Key {
    table: "range",
    name: "last",
    ty: Type::String,
    default: START_END_OR_LAST,
    allowed: &["month", "week", "day", "<N>d"],
    doc: "Resolved when the job runs: the last whole calendar month, the last whole week (Monday \
          to Sunday), yesterday, or the N days ending yesterday (N from 1 to 3660).",
};
pub(crate) const RANGE_PERIOD: Key = Key {
    table: "range",
    name: "period",
    ty: Type::String,
    default: Derived(
        "a relative range's own unit (`\"<N>d\"`: day); an absolute range of 28 days or more by \
         month, of 7 or more by week, else by day",
    ),
    allowed: &Period::NAMES,
    doc: "The grain of the reports' `period` column.",
};

// ---- [filters] ------------------------------------------------------------------------------

pub(crate) const FILTERS_TEMPLATE_IDS: Key = Key {
    table: "filters",
    name: "template_ids",
    ty: Type::Ids,
    default: List(&[]),
    allowed: &[],
    doc: "Only journals of these templates (and only their stats); empty: every template.",
};
pub(crate) const FILTERS_CREATORS: Key = Key {
    table: "filters",
    name: "creators",
    ty: Type::Ids,
    default: List(&[]),
    allowed: &[],
    doc: "Only journals these userids wrote; empty: everyone's.",
};
pub(crate) const FILTERS_DEPARTMENTS: Key = Key {
    table: "filters",
    name: "departments",
    ty: Type::IdsOrIntegers,
    default: List(&[]),
    allowed: &[],
    doc: "Only journals of direct members of these departments; empty: every department.",
};

// ---- [extract] ------------------------------------------------------------------------------

pub(crate) const EXTRACT_DETAILS: Key = Key {
    table: "extract",
    name: "details",
    ty: Type::Bool,
    default: DefaultValue::Bool(true),
    allowed: &[],
    doc: "Fetch each journal's detail (controls, receivers, comments).",
};
pub(crate) const EXTRACT_STATS: Key = Key {
    table: "extract",
    name: "stats",
    ty: Type::Bool,
    default: DefaultValue::Bool(true),
    allowed: &[],
    doc: "Fetch the stat cycles of every template in `filters.template_ids`, or of every \
          template seen.",
};
pub(crate) const EXTRACT_DIRECTORY: Key = Key {
    table: "extract",
    name: "directory",
    ty: Type::String,
    default: DefaultValue::String("api"),
    allowed: &["api", "none", "csv:PATH"],
    doc: "Where departments and users come from: the API, nowhere, or a CSV file \
          (`userid,department_id,…`; a relative `PATH` is relative to the job file's folder). \
          `validate` and `run` read the CSV before any call, and an error in it gives its line.",
};
pub(crate) const EXTRACT_WEDRIVE_FILES: Key = Key {
    table: "extract",
    name: "wedrive_files",
    ty: Type::Bool,
    default: DefaultValue::Bool(false),
    allowed: &[],
    doc: "Download the files attached through WedriveFile controls (to `<output.dir>/files/`).",
};
pub(crate) const EXTRACT_REFRESH_DAYS: Key = Key {
    table: "extract",
    name: "refresh_days",
    ty: Type::Integer { min: 0 },
    default: DefaultValue::Integer(7),
    allowed: &[],
    doc: "How long data keeps moving: every run re-fetches, whatever its range, the details of \
          journals younger than this many days (from their report time, or their stat cycle's \
          end) and the stat cycles that ended less than this many days ago. Must cover how late \
          reports, comments and reads come (README: what \"final\" means).",
};

// ---- [output] -------------------------------------------------------------------------------

pub(crate) const OUTPUT_DIR: Key = Key {
    table: "output",
    name: "dir",
    ty: Type::String,
    default: Derived("`output/<name>`"),
    allowed: &[],
    doc: "Where the outputs go: a local directory, or object storage as `s3://bucket/prefix` \
          (S3 or an S3-compatible store; see `[output.storage]`). A relative directory is \
          relative to the job file's folder (as in a compose file); left out, `output/<name>` \
          is under the working directory.",
};
pub(crate) const OUTPUT_FORMATS: Key = Key {
    table: "output",
    name: "formats",
    ty: Type::Names,
    default: List(&["parquet", "csv", "xlsx"]),
    allowed: &Format::NAMES,
    doc: "The formats the tables are written in (at least one); `delta` writes Delta Lake \
          tables under `delta/`, and reports are written in the others.",
};
pub(crate) const OUTPUT_REPORTS: Key = Key {
    table: "output",
    name: "reports",
    ty: Type::Names,
    default: List(&ReportKind::NAMES),
    allowed: &ReportKind::NAMES,
    doc: "The reports to write; `[]` for none.",
};
pub(crate) const OUTPUT_CSV_BOM: Key = Key {
    table: "output",
    name: "csv_bom",
    ty: Type::Bool,
    default: DefaultValue::Bool(true),
    allowed: &[],
    doc: "Start CSV files with a UTF-8 BOM, so that Excel reads Chinese text right.",
};
pub(crate) const OUTPUT_CSV_ESCAPE_FORMULAS: Key = Key {
    table: "output",
    name: "csv_escape_formulas",
    ty: Type::Bool,
    default: DefaultValue::Bool(true),
    allowed: &[],
    doc: "In the CSV written for people — the reports, and the tables when `csv_bom = true` — \
          start a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return with \
          `'`, so that a spreadsheet shows it as text instead of running it as a formula (CSV \
          injection); `false` keeps the exact text, for CSV read only by programs. Parquet, \
          Arrow and XLSX always keep the exact text.",
};

pub(crate) const OUTPUT_LANGUAGE: Key = Key {
    table: "output",
    name: "language",
    ty: Type::String,
    default: DefaultValue::String("zh"),
    allowed: &Language::NAMES,
    doc: "The language of the workbook's reader: its sheet names, headers, summary labels and \
          chart and axis titles. The data files (Parquet, CSV, Arrow, Delta) keep their stable \
          column names.",
};
pub(crate) const OUTPUT_MIN_GROUP_SIZE: Key = Key {
    table: "output",
    name: "min_group_size",
    ty: Type::Integer { min: 1 },
    default: DefaultValue::Integer(3),
    allowed: &[],
    doc: "In the workbook, a department or person with fewer expected reports than this is \
          marked as small and never highlighted (one late report out of one is not a 100 % \
          problem). The report tables keep every group as it is.",
};

pub(crate) const OUTPUT_STORAGE: Key = Key {
    table: "output",
    name: "storage",
    ty: Type::Table,
    default: Absent("the `AWS_*` environment alone"),
    allowed: &[],
    doc: "How to reach an `s3://` output: each key overrides its `AWS_*` variable. Credentials \
          (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, web identity, \
          instance roles) come from the environment only.",
};

// ---- [output.storage] -----------------------------------------------------------------------

pub(crate) const STORAGE_ENDPOINT: Key = Key {
    table: "output.storage",
    name: "endpoint",
    ty: Type::String,
    default: Derived("`AWS_ENDPOINT_URL`, else AWS's endpoint for the region"),
    allowed: &[],
    doc: "An S3-compatible endpoint URL (`https://minio.internal:9000`), without credentials.",
};
pub(crate) const STORAGE_REGION: Key = Key {
    table: "output.storage",
    name: "region",
    ty: Type::String,
    default: Derived("`AWS_REGION` or `AWS_DEFAULT_REGION`, else `us-east-1`"),
    allowed: &[],
    doc: "The bucket's region.",
};
pub(crate) const STORAGE_PATH_STYLE: Key = Key {
    table: "output.storage",
    name: "path_style",
    ty: Type::Bool,
    default: Derived("path style, unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`"),
    allowed: &[],
    doc: "Path-style requests (`endpoint/bucket/key`, as MinIO and Ceph want); `false` for \
          virtual-hosted style (`bucket.endpoint/key`).",
};
pub(crate) const STORAGE_ALLOW_HTTP: Key = Key {
    table: "output.storage",
    name: "allow_http",
    ty: Type::Bool,
    default: Derived("`AWS_ALLOW_HTTP`, else `false`"),
    allowed: &[],
    doc: "Allow a plain-HTTP endpoint (a loopback test server).",
};

// ---- [store] --------------------------------------------------------------------------------

pub(crate) const STORE_PATH: Key = Key {
    table: "store",
    name: "path",
    ty: Type::String,
    default: Derived(
        "`<output.dir>/store.sqlite` for a local output directory, \
         `.wecom-journal/<name>/store.sqlite` (under the current directory) for object storage",
    ),
    allowed: &[],
    doc: "The SQLite store's file, on a local file system (SQLite needs working locks; keep it \
          on a persistent volume in a container so runs resume and stay incremental).",
};

// ---- [plan] ---------------------------------------------------------------------------------

pub(crate) const PLAN_JOURNALS_PER_DAY: Key = Key {
    table: "plan",
    name: "journals_per_day",
    ty: Type::Integer { min: 0 },
    default: DefaultValue::Integer(200),
    allowed: &[],
    doc: "Journals a day over the whole corp (all filters together).",
};
pub(crate) const PLAN_TEMPLATES: Key = Key {
    table: "plan",
    name: "templates",
    ty: Type::Integer { min: 0 },
    default: DefaultValue::Integer(4),
    allowed: &[],
    doc: "Templates to fetch stats for, when `filters.template_ids` does not list them.",
};
pub(crate) const PLAN_DEPARTMENTS: Key = Key {
    table: "plan",
    name: "departments",
    ty: Type::Integer { min: 0 },
    default: DefaultValue::Integer(10),
    allowed: &[],
    doc: "Departments visible to the app (one `user/list` call each).",
};

/// Every key, table by table in the order of the documentation, each table's keys in the
/// order its unknown-key message lists them.
pub(crate) const KEYS: &[Key] = &[
    NAME,
    SOURCE,
    RANGE,
    FILTERS,
    EXTRACT,
    OUTPUT,
    STORE,
    PLAN,
    SOURCE_CORP_ID,
    SOURCE_SECRET,
    SOURCE_API_BASE,
    SOURCE_TIMEZONE,
    SOURCE_LIMITS,
    LIMITS_RECORD_LIST_PER_MINUTE,
    LIMITS_PER_API_PER_MINUTE,
    LIMITS_PER_API_PER_HOUR,
    LIMITS_MAX_IN_FLIGHT,
    LIMITS_MAX_QUOTA_WAIT,
    RANGE_START,
    RANGE_END,
    RANGE_LAST,
    RANGE_PERIOD,
    FILTERS_TEMPLATE_IDS,
    FILTERS_CREATORS,
    FILTERS_DEPARTMENTS,
    EXTRACT_DETAILS,
    EXTRACT_STATS,
    EXTRACT_DIRECTORY,
    EXTRACT_WEDRIVE_FILES,
    EXTRACT_REFRESH_DAYS,
    OUTPUT_DIR,
    OUTPUT_FORMATS,
    OUTPUT_REPORTS,
    OUTPUT_CSV_BOM,
    OUTPUT_CSV_ESCAPE_FORMULAS,
    OUTPUT_LANGUAGE,
    OUTPUT_MIN_GROUP_SIZE,
    OUTPUT_STORAGE,
    STORAGE_ENDPOINT,
    STORAGE_REGION,
    STORAGE_PATH_STYLE,
    STORAGE_ALLOW_HTTP,
    STORE_PATH,
    PLAN_JOURNALS_PER_DAY,
    PLAN_TEMPLATES,
    PLAN_DEPARTMENTS,
];

/// Checked when the crate compiles: a boolean key has a boolean default, an integer key an
/// integer one in its range, a list key a list — so the parser's `*_default` calls cannot fail.
const _: () = {
    let mut i = 0;
    while i < KEYS.len() {
        let default = KEYS[i].default;
        let fits = match KEYS[i].ty {
            // A derived boolean is read as optional (`[output.storage]`: unset leaves the
            // environment's value).
            Type::Bool => matches!(default, DefaultValue::Bool(_) | DefaultValue::Derived(_)),
            Type::Integer { min } => match default {
                DefaultValue::Integer(n) => n >= min,
                _ => false,
            },
            Type::Ids | Type::IdsOrIntegers | Type::Names => {
                matches!(default, DefaultValue::List(_))
            }
            Type::String => !matches!(
                default,
                DefaultValue::Bool(_) | DefaultValue::Integer(_) | DefaultValue::List(_)
            ),
            Type::Duration => matches!(default, DefaultValue::String(_)),
            Type::Table | Type::Date => matches!(
                default,
                DefaultValue::Required
                    | DefaultValue::Credential
                    | DefaultValue::Derived(_)
                    | DefaultValue::Absent(_)
            ),
        };
        assert!(fits, "a job key's default does not fit its type");
        i += 1;
    }
};

/// The keys of the table at `path` (`""` for the top level), in order.
pub(crate) fn keys_of(path: &str) -> impl Iterator<Item = &'static Key> + '_ {
    KEYS.iter().filter(move |k| k.table == path)
}

// ---- the generated reference -----------------------------------------------------------------

impl Type {
    /// How the reference names the type.
    fn label(self) -> String {
        match self {
            Type::Table => "table".into(),
            Type::String => "string".into(),
            Type::Bool => "boolean".into(),
            Type::Integer { min } => format!("integer ≥ {min}"),
            Type::Date => "date".into(),
            Type::Ids => "list of strings".into(),
            Type::IdsOrIntegers => "list of strings or integers".into(),
            Type::Names => "list of names".into(),
            Type::Duration => "duration (`\"2h\"`, `\"90m\"`, `\"45s\"`)".into(),
        }
    }
}

impl DefaultValue {
    /// The default as TOML would write it, when it is a value.
    pub(crate) fn toml(self) -> Option<String> {
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        match self {
            DefaultValue::Bool(b) => Some(b.to_string()),
            DefaultValue::Integer(n) => Some(n.to_string()),
            DefaultValue::String(s) => Some(quoted(s)),
            DefaultValue::List(list) => Some(format!(
                "[{}]",
                list.iter()
                    .map(|s| quoted(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => None,
        }
    }

    /// How the reference states the default.
    fn describe(self) -> String {
        match (self, self.toml()) {
            (_, Some(toml)) => format!("`{toml}`"),
            (DefaultValue::Required, _) => "required".into(),
            (DefaultValue::Credential, _) => {
                "required, unless the run brings its own (`run --sandbox`, `plan`)".into()
            }
            (DefaultValue::Derived(prose) | DefaultValue::Absent(prose), _) => prose.into(),
            _ => String::new(),
        }
    }

    /// How the reference states what leaving a table out means.
    fn describe_table(self) -> String {
        match self {
            DefaultValue::Required => "Required.".into(),
            DefaultValue::Credential => {
                "Required, unless the run brings its own credentials (`run --sandbox`, `plan`)."
                    .into()
            }
            DefaultValue::Derived(prose) | DefaultValue::Absent(prose) => {
                format!("Left out: {prose}.")
            }
            other => format!("Default: {}.", other.describe()),
        }
    }
}

/// The table at `path` and every table under it, depth first, in the order of [`KEYS`].
fn tables_under(path: String, out: &mut Vec<String>) {
    let sub_tables: Vec<String> = keys_of(&path)
        .filter(|k| k.ty == Type::Table)
        .map(Key::path)
        .collect();
    out.push(path);
    for sub in sub_tables {
        tables_under(sub, out);
    }
}

/// `docs/job-file.md`: every key, table by table.
pub fn to_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Job files\n\n");
    out.push_str(
        "<!-- Generated by `wecom-journal schema --job-file > docs/job-file.md`; do not edit by hand. -->\n\n",
    );
    out.push_str(
        "A job file is TOML: what to extract over which dates and what to write. Every key is \
         below with its type and default. A string's `${VAR}`s are read from the environment \
         when the job is loaded, and a variable that is not set is an error. Unknown keys, \
         wrong types, bad dates and values outside the allowed ones are errors that give the \
         file, line and column (`wecom-journal validate jobs/*.toml`). The jobs in `jobs/` are \
         examples.\n",
    );
    let mut tables = Vec::new();
    tables_under(String::new(), &mut tables);
    for path in tables {
        match KEYS
            .iter()
            .find(|k| k.ty == Type::Table && k.path() == path)
        {
            None => out.push_str("\n## The top level\n\n"),
            Some(table) => out.push_str(&format!(
                "\n## `[{path}]`\n\n{} {}\n\n",
                table.doc,
                table.default.describe_table()
            )),
        }
        out.push_str("| key | type | default | values | meaning |\n|---|---|---|---|---|\n");
        for k in keys_of(&path).filter(|k| k.ty != Type::Table) {
            let values = k
                .allowed
                .iter()
                .map(|v| format!("`\"{v}\"`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                k.name,
                k.ty.label(),
                k.default.describe(),
                if values.is_empty() {
                    "—".into()
                } else {
                    values
                },
                k.doc.replace('|', "\\|")
            ));
        }
    }
    out
}
