//! The parser: defaults, `${VAR}`s, positions, and every message it gives, whole.

use std::path::{Path, PathBuf};

use super::read::line_col;
use super::*;
use crate::job::keys;

fn env(name: &str) -> Option<String> {
    match name {
        "WECOM_CORP_ID" => Some("ww0123".into()),
        "WECOM_JOURNAL_SECRET" => Some("s3cret".into()),
        _ => None,
    }
}

fn parse_with(text: &str, opts: LoadOptions) -> Result<Job> {
    parse(text, Path::new("job.toml"), &env, &opts)
}

const MINIMAL: &str = "name = \"j\"\n[source]\ncorp_id = \"${WECOM_CORP_ID}\"\nsecret = \"${WECOM_JOURNAL_SECRET}\"\n[range]\nlast = \"week\"\n";

#[test]
fn minimal_job_gets_the_documented_defaults() {
    let job = parse_with(MINIMAL, LoadOptions::default()).expect("minimal job parses");
    assert_eq!(job.name, "j");
    assert_eq!(job.source.corp_id, "ww0123");
    assert_eq!(job.source.secret.expose(), "s3cret");
    assert_eq!(job.source.api_base, DEFAULT_API_BASE);
    assert_eq!(job.source.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(job.source.limits, Limits::default());
    assert_eq!(job.range, RangeSpec::Last(Relative::Week));
    assert_eq!(job.extract, ExtractSettings::default());
    assert_eq!(job.output.dir, PathBuf::from("output/j"));
    assert_eq!(
        job.output.formats,
        vec![Format::Parquet, Format::Csv, Format::Xlsx]
    );
    assert_eq!(job.output.reports, ReportKind::ALL.to_vec());
    assert!(job.output.csv_bom);
    assert_eq!(job.plan, PlanSettings::default());
    assert_eq!(job.period_override, None);
}

#[test]
fn env_api_base_overrides_the_file() {
    let env = |n: &str| {
        if n == API_BASE_ENV {
            Some("http://127.0.0.1:9/".into())
        } else {
            self::env(n)
        }
    };
    let text = format!("{MINIMAL}[source.limits]\nmax_in_flight = 2\n");
    let text = text.replace("secret = ", "api_base = \"https://example.com\"\nsecret = ");
    let job = parse(&text, Path::new("j.toml"), &env, &LoadOptions::default()).expect("parses");
    assert_eq!(job.source.api_base, "http://127.0.0.1:9");
    assert_eq!(job.source.limits.max_in_flight, 2);
}

#[test]
fn sandbox_lets_credentials_stay_unresolved_but_not_other_vars() {
    let text = "name = \"j\"\n[source]\ncorp_id = \"${NOPE_CORP}\"\nsecret = \"${NOPE_SECRET}\"\n[range]\nlast = \"day\"\n";
    let err =
        parse_with(text, LoadOptions::default()).expect_err("strict load needs the variables");
    assert_eq!(
        err.to_string(),
        "job.toml:3:12: environment variable `NOPE_CORP` is not set"
    );
    let job = parse_with(
        text,
        LoadOptions {
            sandbox: true,
            ..Default::default()
        },
    )
    .expect("sandbox load");
    assert!(job.source.secret.is_empty());

    let text = text.replace("[range]", "[output]\ndir = \"out/${NOPE_DIR}\"\n[range]");
    let err = parse_with(
        &text,
        LoadOptions {
            sandbox: true,
            ..Default::default()
        },
    )
    .expect_err("other vars still must resolve");
    assert_eq!(
        err.to_string(),
        "job.toml:6:12: environment variable `NOPE_DIR` is not set"
    );
}

#[test]
fn relative_and_period_keys() {
    assert_eq!(parse_relative("30d"), Ok(Relative::Days(30)));
    assert!(parse_relative("0d").is_err());
    assert!(parse_relative("d").is_err());
    assert!(parse_relative("-3d").is_err());
    assert!(parse_relative("fortnight").is_err());
    let job = parse_with(
        &MINIMAL.replace("last = \"week\"", "last = \"week\"\nperiod = \"day\""),
        LoadOptions::default(),
    )
    .expect("parses");
    assert_eq!(job.period(), Period::Day);
}

#[test]
fn toml_dates_and_string_dates_both_work() {
    let text = MINIMAL.replace(
        "last = \"week\"",
        "start = 2026-10-01\nend = \"2026-11-01\"",
    );
    let job = parse_with(&text, LoadOptions::default()).expect("parses");
    let want = DateRange::parse("2026-10-01", "2026-11-01").expect("valid");
    assert_eq!(job.range, RangeSpec::Absolute(want));
    assert_eq!(job.period(), Period::Month);
}

#[test]
fn line_col_counts_characters_not_bytes() {
    let text = "a = \"汇报\"\nbé = 1\n";
    assert_eq!(line_col(text, 0), (1, 1));
    let at = text.find("1").expect("present");
    assert_eq!(line_col(text, at), (2, 6));
}

/// Every message the parser gives, whole: `(the edit of MINIMAL: replace .0 with .1, the
/// message)`. The wording is the interface (`validate` prints it), so it is pinned here.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("name = \"j\"", "name = \"j", "job.toml:1:10: invalid TOML: invalid basic string, expected `\"`"),
    ("name = \"j\"", "name = \"j\"\nnom = 1", "job.toml:2:1: unknown key `nom` in the top level (expected one of: name, source, range, filters, extract, output, store, plan)"),
    ("name = \"j\"\n", "", "job.toml:1:1: missing key `name` (the job's name, e.g. name = \"monthly-compliance\")"),
    ("name = \"j\"", "name = 1", "job.toml:1:8: name must be a string, found an integer"),
    ("name = \"j\"", "name = \"j\"\nfilters = []", "job.toml:2:11: filters must be a table, found a list"),
    ("name = \"j\"", "name = \"j\"\nplan = 1", "job.toml:2:8: plan must be a table, found an integer"),
    ("name = \"j\"", "name = \"j\"\nextract = \"api\"", "job.toml:2:11: extract must be a table, found a string"),
    ("name = \"j\"", "name = \"j\"\noutput = []", "job.toml:2:10: output must be a table, found a list"),
    ("name = \"j\"", "name = \" \"", "job.toml:1:8: name is empty"),
    ("name = \"j\"", "name = \"a/b\"", "job.toml:1:8: name `a/b` must not contain `/`, `\\` or control characters (it names the output directory)"),
    ("name = \"j\"", "name = \"..\"", "job.toml:1:8: name `..` must not contain `/`, `\\` or control characters (it names the output directory)"),
    ("[source]\ncorp_id = \"${WECOM_CORP_ID}\"\nsecret = \"${WECOM_JOURNAL_SECRET}\"\n", "", "job.toml:1:1: missing table [source] (corp_id and secret of the journal app)"),
    ("[source]\ncorp_id = \"${WECOM_CORP_ID}\"\nsecret = \"${WECOM_JOURNAL_SECRET}\"\n", "source = 1\n", "job.toml:2:10: source must be a table, found an integer"),
    ("[source]\n", "[source]\ncorp = 1\n", "job.toml:3:1: unknown key `corp` in [source] (expected one of: corp_id, secret, api_base, timezone, limits)"),
    ("corp_id = \"${WECOM_CORP_ID}\"\n", "", "job.toml:2:2: missing key `source.corp_id` (the corp id, e.g. \"${WECOM_CORP_ID}\")"),
    ("secret = \"${WECOM_JOURNAL_SECRET}\"\n", "", "job.toml:2:2: missing key `source.secret` (the journal app's secret, e.g. \"${WECOM_JOURNAL_SECRET}\")"),
    ("corp_id = \"${WECOM_CORP_ID}\"", "corp_id = \" \"", "job.toml:3:11: source.corp_id is empty (the corp id, e.g. \"${WECOM_CORP_ID}\")"),
    ("secret = \"${WECOM_JOURNAL_SECRET}\"", "secret = 7", "job.toml:4:10: source.secret must be a string, found an integer"),
    ("[source]\n", "[source]\napi_base = \"ftp://x\"\n", "job.toml:3:12: source.api_base: `ftp://x` is not an http:// or https:// URL"),
    ("[source]\n", "[source]\napi_base = \"https://\"\n", "job.toml:3:12: source.api_base: `https://` is not an http:// or https:// URL"),
    ("[source]\n", "[source]\napi_base = 1\n", "job.toml:3:12: source.api_base must be a string, found an integer"),
    ("[source]\n", "[source]\ntimezone = \"Asia/Peking\"\n", "job.toml:3:12: source.timezone: unknown timezone `Asia/Peking` (an IANA name such as \"Asia/Shanghai\")"),
    ("[source]\n", "[source]\ntimezone = 8\n", "job.toml:3:12: source.timezone must be a string, found an integer"),
    ("[source]\n", "[source]\nlimits = 8\n", "job.toml:3:10: source.limits must be a table, found an integer"),
    ("[range]", "[source.limits]\nmax_in_flight = 1\nburst = 2\n[range]", "job.toml:7:1: unknown key `burst` in [source.limits] (expected one of: record_list_per_minute, per_api_per_minute, per_api_per_hour, max_in_flight, max_quota_wait)"),
    ("[range]", "[source.limits]\nmax_in_flight = 0\n[range]", "job.toml:6:17: source.limits.max_in_flight must be a positive integer (1 to 4294967295), found 0"),
    ("[range]", "[source.limits]\nper_api_per_hour = 4294967296\n[range]", "job.toml:6:20: source.limits.per_api_per_hour must be a positive integer (1 to 4294967295), found 4294967296"),
    ("[range]", "[source.limits]\nper_api_per_minute = \"10\"\n[range]", "job.toml:6:22: source.limits.per_api_per_minute must be an integer, found a string"),
    ("[range]", "[source.limits]\nrecord_list_per_minute = -1\n[range]", "job.toml:6:26: source.limits.record_list_per_minute must be a positive integer (1 to 4294967295), found -1"),
    ("[range]", "[source.limits]\nrecord_list_per_minute = 1.5\n[range]", "job.toml:6:26: source.limits.record_list_per_minute must be an integer, found a float"),
    ("[range]", "[source.limits]\nrecord_list_per_minute = 999999999999999999999999999999999999999999\n[range]", "job.toml:6:26: source.limits.record_list_per_minute: integer out of range"),
    ("[range]\nlast = \"week\"\n", "", "job.toml:1:1: missing table [range]: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\""),
    ("[range]\nlast = \"week\"\n", "range = \"week\"\n", "job.toml:5:1: unknown key `range` in [source] (expected one of: corp_id, secret, api_base, timezone, limits)"),
    ("last = \"week\"", "last = \"week\"\nfirst = 1", "job.toml:7:1: unknown key `first` in [range] (expected one of: start, end, last, period)"),
    ("last = \"week\"", "start = 2026-01-01\nlast = \"week\"", "job.toml:7:8: range: give either start/end or last, not both"),
    ("last = \"week\"", "last = \"week\"\nend = 2026-01-01", "job.toml:6:8: range: give either start/end or last, not both"),
    ("last = \"week\"", "start = 2026-02-01\nend = 2026-02-01", "job.toml:7:7: range: start 2026-02-01 must be before end 2026-02-01 (end is exclusive)"),
    ("last = \"week\"", "start = 2026-02-01", "job.toml:5:2: range: `start` is given without `end` (end is exclusive: the day after the last day)"),
    ("last = \"week\"", "end = 2026-02-01", "job.toml:5:2: range: `end` is given without `start`"),
    ("last = \"week\"", "", "job.toml:5:2: range: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\""),
    ("last = \"week\"", "last = \"fortnight\"", "job.toml:6:8: range.last: `fortnight` is not \"month\", \"week\", \"day\" or a number of days like \"30d\""),
    ("last = \"week\"", "last = \"0d\"", "job.toml:6:8: range.last: `0d`: the number of days must be from 1 to 3660"),
    ("last = \"week\"", "last = \"3661d\"", "job.toml:6:8: range.last: `3661d`: the number of days must be from 1 to 3660"),
    ("last = \"week\"", "last = 7", "job.toml:6:8: range.last must be a string, found an integer"),
    ("last = \"week\"", "start = 2026-02-01T10:00:00\nend = 2026-03-01", "job.toml:6:9: range.start: `2026-02-01T10:00:00` has a time; give a local date YYYY-MM-DD"),
    ("last = \"week\"", "start = 20260201\nend = 2026-03-01", "job.toml:6:9: range.start must be a date YYYY-MM-DD, found an integer"),
    ("last = \"week\"", "start = \"2026-02-30\"\nend = 2026-03-01", "job.toml:6:9: range.start: `2026-02-30` is not a date YYYY-MM-DD (input is out of range)"),
    ("last = \"week\"", "start = \"0000-01-01\"\nend = 2026-03-01", "job.toml:6:9: range.start: 0000-01-01 is before 2016-01-01: WeCom keeps no journal that old"),
    ("last = \"week\"", "start = 2026-01-01\nend = 2200-03-01", "job.toml:7:7: range.end: 2200-03-01 is after 2100-01-01, the latest date a job may name"),
    ("[range]", "[source.limits]\nper_api_per_minute = 100\nper_api_per_hour = 99\n[range]", "job.toml:7:20: source.limits.per_api_per_hour (99) is below source.limits.per_api_per_minute (100): an hour allows at least a minute's calls"),
    ("[range]", "[source.limits]\nper_api_per_hour = 5000\n[range]", "job.toml:6:20: source.limits.per_api_per_hour (5000) is below source.limits.per_api_per_minute (10000): an hour allows at least a minute's calls"),
    ("last = \"week\"", "last = \"week\"\nperiod = \"year\"", "job.toml:7:10: range.period: unknown period `year` (expected \"day\", \"week\" or \"month\")"),
    ("last = \"week\"", "last = \"week\"\nperiod = 1", "job.toml:7:10: range.period must be a string, found an integer"),
    ("[range]", "[filters]\ntemplates = []\n[range]", "job.toml:6:1: unknown key `templates` in [filters] (expected one of: template_ids, creators, departments)"),
    ("[range]", "[filters]\ntemplate_ids = \"a\"\n[range]", "job.toml:6:16: filters.template_ids must be a list, found a string"),
    ("[range]", "[filters]\ntemplate_ids = [1]\n[range]", "job.toml:6:17: filters.template_ids must hold strings, found an integer"),
    ("[range]", "[filters]\ndepartments = [1.5]\n[range]", "job.toml:6:16: filters.departments must hold strings or integers, found a float"),
    ("[range]", "[filters]\ncreators = [\"a\", \" \"]\n[range]", "job.toml:6:18: filters.creators: empty id"),
    ("[range]", "[filters]\ndepartments = [\"3\", 3]\n[range]", "job.toml:6:21: filters.departments: `3` is listed twice"),
    ("[range]", "filters = []\n[range]", "job.toml:5:1: unknown key `filters` in [source] (expected one of: corp_id, secret, api_base, timezone, limits)"),
    ("[range]", "[extract]\nverbose = true\n[range]", "job.toml:6:1: unknown key `verbose` in [extract] (expected one of: details, stats, directory, wedrive_files, refresh_days)"),
    ("[range]", "[extract]\nstats = \"yes\"\n[range]", "job.toml:6:9: extract.stats must be true or false, found a string"),
    ("[range]", "[extract]\ndirectory = \"ldap\"\n[range]", "job.toml:6:13: extract.directory: `ldap` is not \"api\", \"none\" or \"csv:path/to/org.csv\""),
    ("[range]", "[extract]\ndirectory = \"csv: \"\n[range]", "job.toml:6:13: extract.directory: `csv:` needs a path, e.g. \"csv:path/to/org.csv\""),
    ("[range]", "[extract]\ndirectory = 1\n[range]", "job.toml:6:13: extract.directory must be a string, found an integer"),
    ("[range]", "[extract]\nrefresh_days = -1\n[range]", "job.toml:6:16: extract.refresh_days must be an integer from 0 to 4294967295, found -1"),
    ("[range]", "[extract]\nwedrive_files = 1\n[range]", "job.toml:6:17: extract.wedrive_files must be true or false, found an integer"),
    ("[range]", "[output]\nformat = []\n[range]", "job.toml:6:1: unknown key `format` in [output] (expected one of: dir, formats, reports, csv_bom, csv_escape_formulas, language, min_group_size, storage)"),
    ("[range]", "[output]\ndir = \" \"\n[range]", "job.toml:6:7: output.dir is empty"),
    ("[range]", "[output]\ndir = 1\n[range]", "job.toml:6:7: output.dir must be a string, found an integer"),
    ("[range]", "[output]\ndir = \"gs://b/p\"\n[range]", "job.toml:6:7: output.dir `gs://b/p`: gs:// is not supported (a local directory, or s3://bucket/prefix for S3 and S3-compatible stores)"),
    ("[range]", "[output]\ndir = \"s3:///p\"\n[range]", "job.toml:6:7: output.dir `s3:///p`: no bucket name after s3://"),
    ("[range]", "[output]\ndir = \"s3://b/a/../c\"\n[range]", "job.toml:6:7: output.dir `s3://b/a/../c`: the prefix must not hold `.`, `..` or empty segments"),
    ("[range]", "[output.storage]\nendpoint = \"http://k:s@minio:9000\"\n[range]", "job.toml:6:12: output.storage.endpoint: the endpoint must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"),
    ("[range]", "[output.storage]\nendpoint = \"minio:9000\"\n[range]", "job.toml:6:12: output.storage.endpoint: `minio:9000` is not a URL (e.g. https://minio.internal:9000)"),
    ("[range]", "[output.storage]\nsecret_access_key = \"x\"\n[range]", "job.toml:6:1: unknown key `secret_access_key` in [output.storage] (expected one of: endpoint, region, path_style, allow_http)"),
    ("[range]", "[store]\npath = \"s3://b/store.sqlite\"\n[range]", "job.toml:6:8: store.path must be a local file: SQLite needs a local file system (object storage has no locks); put it on a persistent volume"),
    ("[range]", "[output]\nformats = []\n[range]", "job.toml:6:11: output.formats is empty: list at least one of \"parquet\", \"csv\", \"xlsx\", \"arrow\", \"delta\""),
    ("[range]", "[output]\nformats = [\"xls\"]\n[range]", "job.toml:6:12: output.formats: unknown `xls` (expected one of: \"parquet\", \"csv\", \"xlsx\", \"arrow\", \"delta\")"),
    ("[range]", "[output]\nformats = [\"csv\", \"csv\"]\n[range]", "job.toml:6:19: output.formats: `csv` is listed twice"),
    ("[range]", "[output]\nformats = \"csv\"\n[range]", "job.toml:6:11: output.formats must be a list, found a string"),
    ("[range]", "[output]\nformats = [1]\n[range]", "job.toml:6:12: output.formats must be a string, found an integer"),
    ("[range]", "[output]\nreports = [\"nope\"]\n[range]", "job.toml:6:12: output.reports: unknown `nope` (expected one of: \"late_rate_by_department\", \"late_rate_by_user\", \"unreported_roster\", \"read_rate_by_template\")"),
    ("[range]", "[output]\ncsv_bom = \"no\"\n[range]", "job.toml:6:11: output.csv_bom must be true or false, found a string"),
    ("[range]", "[plan]\njournals = 1\n[range]", "job.toml:6:1: unknown key `journals` in [plan] (expected one of: journals_per_day, templates, departments)"),
    ("[range]", "[plan]\njournals_per_day = -5\n[range]", "job.toml:6:20: plan.journals_per_day must be an integer from 0 to 4294967295, found -5"),
    ("[range]", "[plan]\ntemplates = \"4\"\n[range]", "job.toml:6:13: plan.templates must be an integer, found a string"),
    ("[range]", "[output]\ndir = \"out/${OUT\"\n[range]", "job.toml:6:7: unterminated `${` in a string (write ${NAME})"),
    ("[range]", "[output]\ndir = \"out/${1X}\"\n[range]", "job.toml:6:12: `${1X}` is not a variable name (letters, digits and _, not starting with a digit)"),
    ("[range]", "[output]\ndir = \"out/${NOPE}/x\"\n[range]", "job.toml:6:12: environment variable `NOPE` is not set"),
];

/// As [`MESSAGES`], for a run that brings its own credentials (`--sandbox`, `plan`).
const SANDBOX_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "corp_id = \"${WECOM_CORP_ID}\"",
        "corp_id = 5",
        "job.toml:3:11: source.corp_id must be a string, found an integer",
    ),
    (
        "corp_id = \"${WECOM_CORP_ID}\"",
        "corp_id = \"${NOPE\"",
        "job.toml:3:11: unterminated `${` in a string (write ${NAME})",
    ),
    (
        "[source]\n",
        "[source]\napi_base = \"${NOPE}\"\n",
        "parses: https://qyapi.weixin.qq.com",
    ),
    (
        "[source]\n",
        "[source]\napi_base = \"ftp://x\"\n",
        "job.toml:3:12: source.api_base: `ftp://x` is not an http:// or https:// URL",
    ),
    (
        "[source]\n",
        "[source]\napi_base = \"http://a/${NOPE}\"\n",
        "parses: https://qyapi.weixin.qq.com",
    ),
    (
        "[source]\ncorp_id = \"${WECOM_CORP_ID}\"\nsecret = \"${WECOM_JOURNAL_SECRET}\"\n",
        "",
        "parses: https://qyapi.weixin.qq.com",
    ),
];

#[test]
fn every_message_is_pinned() {
    let mut wrong = Vec::new();
    for (from, to, want) in MESSAGES {
        assert!(MINIMAL.contains(from), "the edit {from:?} must apply");
        let text = MINIMAL.replacen(from, to, 1);
        let got = match parse_with(&text, LoadOptions::default()) {
            Ok(_) => "parses".to_string(),
            Err(e) => e.to_string(),
        };
        if got != *want {
            wrong.push(format!(
                "{from:?} → {to:?}:\n  want {want:?}\n  got  {got:?}"
            ));
        }
    }
    let sandbox = LoadOptions {
        sandbox: true,
        ..Default::default()
    };
    for (from, to, want) in SANDBOX_MESSAGES {
        assert!(MINIMAL.contains(from), "the edit {from:?} must apply");
        let text = MINIMAL.replacen(from, to, 1);
        let got = match parse_with(&text, sandbox) {
            Ok(job) => format!("parses: {}", job.source.api_base),
            Err(e) => e.to_string(),
        };
        if got != *want {
            wrong.push(format!(
                "{from:?} → {to:?}:\n  want {want:?}\n  got  {got:?}"
            ));
        }
    }
    // The environment's API base is checked as the file's is, and named.
    let env = |n: &str| (n == API_BASE_ENV).then(|| "ftp://x".to_string());
    let got = parse(MINIMAL, Path::new("job.toml"), &env, &sandbox)
        .map(|_| ())
        .expect_err("a bad WECOM_API_BASE")
        .to_string();
    let want = "job.toml:2:2: environment WECOM_API_BASE overrides source.api_base: `ftp://x` is not an http:// or https:// URL";
    if got != want {
        wrong.push(format!("{API_BASE_ENV}:\n  want {want:?}\n  got  {got:?}"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_point_at_the_offender() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        ("[source]\n", "[sourse]\n", (2, 2)),
        ("last = \"week\"", "last = \"fortnight\"", (6, 8)),
        (
            "last = \"week\"",
            "start = \"2026-11-01\"\nend = \"2026-10-01\"",
            (7, 7),
        ),
        (
            "last = \"week\"",
            "last = \"week\"\nstart = 2026-01-01",
            (6, 8),
        ),
        (
            "[range]",
            "[extract]\ndirectory = \"ldap\"\n[range]",
            (6, 13),
        ),
        (
            "[range]",
            "[source.limits]\nmax_in_flight = 0\n[range]",
            (6, 17),
        ),
        (
            "[range]",
            "[output]\nreports = [\"late_rate_by_user\", \"nope\"]\n[range]",
            (6, 33),
        ),
    ];
    for (from, to, (line, col)) in cases {
        let text = MINIMAL.replace(from, to);
        let err = parse_with(&text, LoadOptions::default()).expect_err(&text);
        assert_eq!(err.position(), Some((*line, *col)), "{err} in\n{text}");
        assert!(
            err.to_string()
                .starts_with(&format!("job.toml:{line}:{col}: ")),
            "{err}"
        );
    }
}

// ---- the key table and the parser agree ------------------------------------------------------

/// A job with every table of the key table declared, the required keys given.
const EVERY_TABLE: &str = "name = \"j\"\n[source]\ncorp_id = \"${WECOM_CORP_ID}\"\nsecret = \"${WECOM_JOURNAL_SECRET}\"\n[source.limits]\n[range]\nlast = \"week\"\n[filters]\n[extract]\n[output]\n[output.storage]\n[store]\n[plan]\n";

/// `text` with the line `line` put into the table `table` (`""`: the top level): in place of
/// the table's line for the same key if there is one, else right after the table's header.
fn with_line(text: &str, table: &str, key: &str, line: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = format!("[{table}]");
    let start = if table.is_empty() {
        0
    } else {
        lines.iter().position(|l| *l == header).expect("the table") + 1
    };
    let end = lines[start..]
        .iter()
        .position(|l| l.starts_with('['))
        .map_or(lines.len(), |i| start + i);
    match lines[start..end]
        .iter()
        .position(|l| l.starts_with(&format!("{key} = ")))
    {
        Some(i) => lines[start + i] = line.to_string(),
        None => lines.insert(start, line.to_string()),
    }
    lines.join("\n") + "\n"
}

/// Without `[table]`, its keys and its sub-tables.
fn without_table(text: &str, table: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for l in text.lines() {
        if l.starts_with('[') {
            skipping = l == format!("[{table}]") || l.starts_with(&format!("[{table}."));
        }
        if !skipping {
            out.push(l);
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn every_key_of_the_table_is_read_with_its_type() {
    for key in keys::KEYS {
        // A value of the wrong type for every key: a table where a value belongs, a number
        // where a table does.
        let text = if key.ty == keys::Type::Table {
            let text = without_table(EVERY_TABLE, &key.path());
            with_line(&text, key.table, key.name, &format!("{} = 1", key.name))
        } else {
            with_line(
                EVERY_TABLE,
                key.table,
                key.name,
                &format!("{} = {{}}", key.name),
            )
        };
        let err = parse_with(&text, LoadOptions::default())
            .map(|_| ())
            .expect_err(&format!(
                "{} = a wrong type must not parse:\n{text}",
                key.path()
            ));
        let line = text
            .lines()
            .position(|l| l.starts_with(&format!("{} = ", key.name)))
            .expect("the line")
            + 1;
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("job.toml:{line}:"))
                && message.contains(&format!(": {} must ", key.path())),
            "{}: {message}\n{text}",
            key.path()
        );
    }
}

#[test]
fn the_documented_defaults_are_the_defaults() {
    // Every key that has a value as its default, written out with it.
    let mut text = EVERY_TABLE.to_string();
    for key in keys::KEYS {
        if let Some(value) = key.default.toml() {
            text = with_line(
                &text,
                key.table,
                key.name,
                &format!("{} = {value}", key.name),
            );
        }
    }
    let written = parse_with(&text, LoadOptions::default()).expect(&text);
    let left_out = parse_with(MINIMAL, LoadOptions::default()).expect("minimal job");
    assert_eq!(written.source.api_base, left_out.source.api_base);
    assert_eq!(written.source.timezone, left_out.source.timezone);
    assert_eq!(written.source.limits, left_out.source.limits);
    assert_eq!(written.source.limits, Limits::DOCUMENTED);
    assert_eq!(written.filters, left_out.filters);
    assert_eq!(written.extract, left_out.extract);
    assert_eq!(written.output, left_out.output);
    assert_eq!(written.plan, left_out.plan);
    assert_eq!(written.period_override, left_out.period_override);
    // Every list default is among the values the key allows.
    for key in keys::KEYS {
        if let keys::DefaultValue::List(list) = key.default {
            if !key.allowed.is_empty() {
                assert!(
                    list.iter().all(|v| key.allowed.contains(v)),
                    "{}",
                    key.path()
                );
            }
        }
    }
}

#[test]
fn each_table_lists_its_keys_as_its_unknown_key_message_does() {
    let tables: Vec<String> = keys::KEYS
        .iter()
        .filter(|k| k.ty == keys::Type::Table)
        .map(keys::Key::path)
        .chain([String::new()])
        .collect();
    for table in tables {
        let text = with_line(EVERY_TABLE, &table, "zzz", "zzz = 1");
        let err = parse_with(&text, LoadOptions::default()).expect_err(&text);
        let names: Vec<&str> = keys::keys_of(&table).map(|k| k.name).collect();
        assert!(
            err.to_string()
                .ends_with(&format!("(expected one of: {})", names.join(", "))),
            "{err}"
        );
    }
}

#[test]
fn the_reference_states_the_longest_relative_range() {
    let bound = format!("(N from 1 to {MAX_RELATIVE_DAYS})");
    assert!(
        keys::RANGE_LAST.doc.contains(&bound),
        "{}",
        keys::RANGE_LAST.doc
    );
}

fn parse_located_with(text: &str, origin: &str) -> LoadedJob {
    parse_located(text, Path::new(origin), &env, &LoadOptions::default()).unwrap()
}

#[test]
fn quotas_above_the_documented_ones_are_warnings_at_their_place() {
    let text = format!(
        "{MINIMAL}[source.limits]\nrecord_list_per_minute = 601\nper_api_per_hour = 150000\n"
    );
    let loaded = parse_located_with(&text, "jobs/j.toml");
    let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "jobs/j.toml:8:26: source.limits.record_list_per_minute = 601 is above WeCom's \
          documented quota (600): unless the corp was granted more, WeCom answers errcode \
          45009 beyond it"
        ]
    );
    assert!(parse_located_with(MINIMAL, "j.toml").warnings.is_empty());
}

#[test]
fn relative_paths_are_relative_to_the_job_files_folder() {
    let text = format!(
        "{MINIMAL}[extract]\ndirectory = \"csv:org/users.csv\"\n[output]\ndir = \"../out/j\"\n"
    );
    let job = parse_located_with(&text, "/srv/wj/jobs/j.toml").job;
    assert_eq!(
        job.extract.directory,
        DirectorySource::Csv(PathBuf::from("/srv/wj/jobs/org/users.csv"))
    );
    assert_eq!(job.output.dir, PathBuf::from("/srv/wj/out/j"));
    // A relative job path keeps them relative (to the same folder, from the working directory).
    let job = parse_located_with(&text, "jobs/j.toml").job;
    assert_eq!(job.output.dir, PathBuf::from("out/j"));
    assert_eq!(
        job.extract.directory,
        DirectorySource::Csv(PathBuf::from("jobs/org/users.csv"))
    );
    // Absolute paths stay; the default output directory is under the working directory.
    let text = format!("{MINIMAL}[extract]\ndirectory = \"csv:/data/org.csv\"\n");
    let job = parse_located_with(&text, "/srv/wj/jobs/j.toml").job;
    assert_eq!(
        job.extract.directory,
        DirectorySource::Csv(PathBuf::from("/data/org.csv"))
    );
    assert_eq!(job.output.dir, PathBuf::from("output/j"));
}

#[test]
fn a_later_check_points_at_the_key_it_is_about() {
    let text = format!("{MINIMAL}[extract]\ndirectory = \"csv:x.csv\"\n");
    let loaded = parse_located_with(&text, "j.toml");
    let err = loaded.invalid_at(&keys::EXTRACT_DIRECTORY, "no such file".into());
    assert_eq!(err.to_string(), "j.toml:8:13: no such file");
    // A key the file leaves out: its first line.
    let err = loaded.invalid_at(&keys::OUTPUT_DIR, "x".into());
    assert_eq!(err.to_string(), "j.toml:1:1: x");
}

#[test]
fn csv_formulas_are_escaped_unless_turned_off() {
    assert!(
        parse_located_with(MINIMAL, "j.toml")
            .job
            .output
            .csv_escape_formulas
    );
    let text = format!("{MINIMAL}[output]\ncsv_escape_formulas = false\n");
    assert!(
        !parse_located_with(&text, "j.toml")
            .job
            .output
            .csv_escape_formulas
    );
}

#[test]
fn max_quota_wait_is_a_duration_defaulting_to_the_clients() {
    let job = parse_with(MINIMAL, LoadOptions::default()).unwrap();
    assert_eq!(
        job.source.limits.max_quota_wait,
        crate::wecom::Limits::DOCUMENTED.max_quota_wait
    );
    assert_eq!(
        crate::job::parse_duration(keys::MAX_QUOTA_WAIT_DEFAULT),
        Ok(crate::wecom::Limits::DOCUMENTED.max_quota_wait),
        "the key's documented default is the client's"
    );
    let text = format!("{MINIMAL}[source.limits]\nmax_quota_wait = \"1h30m\"\n");
    let job = parse_with(&text, LoadOptions::default()).unwrap();
    assert_eq!(
        job.source.limits.max_quota_wait,
        std::time::Duration::from_secs(5400)
    );
    let text = format!("{MINIMAL}[source.limits]\nmax_quota_wait = \"2 hours\"\n");
    let err = parse_with(&text, LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "job.toml:8:18: source.limits.max_quota_wait: `2 hours` is not a duration like \"2h\", \"90m\", \"1h30m\" or \"45s\""
    );
}

#[test]
fn durations_are_units_largest_first_up_to_a_week() {
    use crate::job::parse_duration;
    use std::time::Duration;
    assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
    assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
    assert_eq!(parse_duration(" 0s "), Ok(Duration::ZERO));
    assert_eq!(parse_duration("168h"), Ok(Duration::from_secs(7 * 86_400)));
    for bad in ["", "2", "h", "2x", "1m1h", "1h1h", "-1h", "1.5h", "2h 3m"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        parse_duration("169h"),
        Err("`169h` is more than a week".to_string())
    );
}

#[test]
fn object_storage_settings_and_the_store_path_are_read() {
    let text = MINIMAL.replacen(
        "[range]",
        "[output]\ndir = \"s3://lake/wecom\"\nformats = [\"delta\"]\n\
         [output.storage]\nendpoint = \"https://minio.internal:9000\"\nregion = \"cn-1\"\n\
         path_style = true\n[store]\npath = \"/var/lib/w/store.sqlite\"\n[range]",
        1,
    );
    let job = parse_with(&text, LoadOptions::default()).unwrap();
    assert!(job.output.is_object_storage());
    assert_eq!(job.output.formats, [Format::Delta]);
    assert_eq!(
        job.output.storage,
        StorageSettings {
            endpoint: Some("https://minio.internal:9000".into()),
            region: Some("cn-1".into()),
            path_style: Some(true),
            allow_http: None,
        }
    );
    assert_eq!(
        job.output.store_path,
        Some(PathBuf::from("/var/lib/w/store.sqlite"))
    );
    // Left out, nothing overrides the environment and the store path is derived.
    let plain = parse_with(MINIMAL, LoadOptions::default()).unwrap();
    assert_eq!(plain.output.storage, StorageSettings::default());
    assert_eq!(plain.output.store_path, None);
    assert!(!plain.output.is_object_storage());
}
