//! Job file parsing: TOML text → [`Job`], in the format of design §3.
//!
//! The document is parsed to `toml::de::DeTable`, which keeps the byte span of every key and
//! value, and walked by hand so that every error — unknown key, wrong type, bad date, missing
//! `${VAR}` … — points at the offending key or value as `file:line:col: message`. Owns only
//! the file format; what a job means at run time (ranges, periods) lives in `super`, and the
//! plan in `super::plan`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    DateRange, DirectorySource, ExtractSettings, Filters, Format, Job, JobError, LoadOptions,
    OutputSettings, Period, PlanSettings, RangeSpec, Relative, ReportKind, Source,
};
use crate::wecom::{Limits, Secret};

/// The documented WeCom API base.
pub const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com";
/// Environment variable that overrides `source.api_base` (private deployments, the simulator).
pub const API_BASE_ENV: &str = "WECOM_API_BASE";
/// The longest `last = "<N>d"` accepted (ten years: beyond is surely a typo).
const MAX_RELATIVE_DAYS: u32 = 3660;

type Env<'e> = &'e dyn Fn(&str) -> Option<String>;
type Result<T> = std::result::Result<T, JobError>;

/// Parses the text of a job file. `origin` names the file in errors (and becomes
/// [`Job::path`]); `env` resolves `${VAR}`s (the process environment in [`super::load`]).
pub fn parse(text: &str, origin: &Path, env: Env<'_>, opts: &LoadOptions) -> Result<Job> {
    let cx = Cx {
        text,
        origin,
        env,
        opts,
    };
    let root = DeTable::parse(text).map_err(|e| {
        cx.err(
            e.span().unwrap_or(0..0),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = Table {
        path: "",
        table: root.get_ref(),
        span: 0..0,
    };
    cx.job(&root)
}

/// What every step needs: the text (for positions), the file name, the environment.
struct Cx<'a> {
    text: &'a str,
    origin: &'a Path,
    env: Env<'a>,
    opts: &'a LoadOptions,
}

/// One TOML table being read, with its dotted path for messages and where it is declared.
struct Table<'a, 'i> {
    /// Dotted path (`source.limits`), empty for the document itself.
    path: &'static str,
    table: &'a DeTable<'i>,
    /// Span of the table's name where it is declared (`0..0` for the document).
    span: Range<usize>,
}

type Value<'a, 'i> = &'a Spanned<DeValue<'i>>;

impl<'a, 'i> Table<'a, 'i> {
    fn get(&self, key: &str) -> Option<Value<'a, 'i>> {
        self.table.get(key)
    }

    /// `source.limits.max_in_flight` for key `max_in_flight`.
    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// `[source]`, or "the top level".
    fn describe(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", self.path)
        }
    }
}

impl<'a> Cx<'a> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> JobError {
        let (line, col) = line_col(self.text, span.start);
        JobError::Invalid {
            path: self.origin.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }

    fn job(&self, root: &Table<'_, '_>) -> Result<Job> {
        self.known_keys(
            root,
            &[
                "name", "source", "range", "filters", "extract", "output", "plan",
            ],
        )?;

        let name = match root.get("name") {
            Some(v) => {
                let name = self.string(root, "name", v)?;
                check_name(&name).map_err(|m| self.err(v.span(), m))?;
                name
            }
            None => {
                return Err(self.err(
                    0..0,
                    "missing key `name` (the job's name, e.g. name = \"monthly-compliance\")",
                ))
            }
        };

        let source = self.source(self.table(root, "source")?.as_ref())?;
        let (range, period_override) = match self.table(root, "range")? {
            Some(range) => self.range(&range)?,
            None => {
                return Err(self.err(
                    0..0,
                    "missing table [range]: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\"",
                ))
            }
        };
        let filters = match self.table(root, "filters")? {
            Some(t) => self.filters(&t)?,
            None => Filters::default(),
        };
        let extract = match self.table(root, "extract")? {
            Some(t) => self.extract(&t)?,
            None => ExtractSettings::default(),
        };
        let output = self.output(self.table(root, "output")?.as_ref(), &name)?;
        let plan = match self.table(root, "plan")? {
            Some(t) => self.plan(&t)?,
            None => PlanSettings::default(),
        };

        Ok(Job {
            name,
            path: Some(self.origin.to_path_buf()),
            source,
            range,
            filters,
            extract,
            output,
            period_override,
            plan,
        })
    }

    fn source(&self, t: Option<&Table<'_, '_>>) -> Result<Source> {
        let optional = self.opts.credentials_optional();
        let Some(t) = t else {
            if optional {
                return Ok(Source {
                    corp_id: String::new(),
                    secret: Secret::default(),
                    api_base: self
                        .api_base_override(None, &(0..0))?
                        .unwrap_or_else(|| DEFAULT_API_BASE.to_string()),
                    timezone: chrono_tz::Asia::Shanghai,
                    limits: Limits::default(),
                });
            }
            return Err(self.err(
                0..0,
                "missing table [source] (corp_id and secret of the journal app)",
            ));
        };
        self.known_keys(t, &["corp_id", "secret", "api_base", "timezone", "limits"])?;

        // The credentials: required, non-empty and resolved — unless the run brings its own.
        let credential = |key: &str, what: &str| -> Result<String> {
            match t.get(key) {
                None if optional => Ok(String::new()),
                None => Err(self.err(
                    t.span.clone(),
                    format!("missing key `{}` ({what})", t.key_path(key)),
                )),
                Some(v) => {
                    let value = if optional {
                        self.string_lenient(t, key, v)?
                    } else {
                        self.string(t, key, v)?
                    };
                    if value.trim().is_empty() && !optional {
                        return Err(
                            self.err(v.span(), format!("{} is empty ({what})", t.key_path(key)))
                        );
                    }
                    Ok(value)
                }
            }
        };
        let corp_id = credential("corp_id", "the corp id, e.g. \"${WECOM_CORP_ID}\"")?;
        let secret = Secret::new(credential(
            "secret",
            "the journal app's secret, e.g. \"${WECOM_JOURNAL_SECRET}\"",
        )?);

        let api_base = match t.get("api_base") {
            None => None,
            Some(v) => {
                let base = if optional {
                    self.string_lenient(t, "api_base", v)?
                } else {
                    self.string(t, "api_base", v)?
                };
                if base.is_empty() && optional {
                    None
                } else {
                    Some(
                        check_api_base(&base)
                            .map_err(|m| self.err(v.span(), format!("source.api_base: {m}")))?,
                    )
                }
            }
        };
        let api_span = t
            .get("api_base")
            .map(|v| v.span())
            .unwrap_or(t.span.clone());
        let api_base = match self.api_base_override(api_base, &api_span)? {
            Some(base) => base,
            None => DEFAULT_API_BASE.to_string(),
        };

        let timezone = match t.get("timezone") {
            None => chrono_tz::Asia::Shanghai,
            Some(v) => {
                let name = self.string(t, "timezone", v)?;
                name.parse::<chrono_tz::Tz>().map_err(|_| {
                    self.err(v.span(), format!("source.timezone: unknown timezone `{name}` (an IANA name such as \"Asia/Shanghai\")"))
                })?
            }
        };

        let limits = match self.table_in(t, "limits", "source.limits")? {
            None => Limits::default(),
            Some(l) => {
                self.known_keys(
                    &l,
                    &[
                        "record_list_per_minute",
                        "per_api_per_minute",
                        "per_api_per_hour",
                        "max_in_flight",
                        "max_quota_wait",
                    ],
                )?;
                let d = Limits::default();
                let max_in_flight = self
                    .positive(&l, "max_in_flight")?
                    .unwrap_or(d.max_in_flight as u32);
                Limits {
                    record_list_per_minute: self
                        .positive(&l, "record_list_per_minute")?
                        .unwrap_or(d.record_list_per_minute),
                    per_api_per_minute: self
                        .positive(&l, "per_api_per_minute")?
                        .unwrap_or(d.per_api_per_minute),
                    per_api_per_hour: self
                        .positive(&l, "per_api_per_hour")?
                        .unwrap_or(d.per_api_per_hour),
                    max_in_flight: max_in_flight as usize,
                    max_quota_wait: self
                        .duration(&l, "max_quota_wait")?
                        .unwrap_or(d.max_quota_wait),
                }
            }
        };

        Ok(Source {
            corp_id,
            secret,
            api_base,
            timezone,
            limits,
        })
    }

    /// `WECOM_API_BASE` from the environment, if set, else `from_file`.
    fn api_base_override(
        &self,
        from_file: Option<String>,
        span: &Range<usize>,
    ) -> Result<Option<String>> {
        match (self.env)(API_BASE_ENV) {
            Some(base) if !base.trim().is_empty() => {
                let base = check_api_base(base.trim()).map_err(|m| {
                    self.err(
                        span.clone(),
                        format!("environment {API_BASE_ENV} overrides source.api_base: {m}"),
                    )
                })?;
                Ok(Some(base))
            }
            _ => Ok(from_file),
        }
    }

    fn range(&self, t: &Table<'_, '_>) -> Result<(RangeSpec, Option<Period>)> {
        self.known_keys(t, &["start", "end", "last", "period"])?;
        let start = t
            .get("start")
            .map(|v| self.date(t, "start", v).map(|d| (d, v)))
            .transpose()?;
        let end = t
            .get("end")
            .map(|v| self.date(t, "end", v).map(|d| (d, v)))
            .transpose()?;
        let last = t.get("last");

        let spec = match (start, end, last) {
            (Some(_), _, Some(last)) | (_, Some(_), Some(last)) => {
                return Err(self.err(last.span(), "range: give either start/end or last, not both"));
            }
            (Some((start, _)), Some((end, end_v)), None) => {
                RangeSpec::Absolute(DateRange::new(start, end).map_err(|m| self.err(end_v.span(), format!("range: {m}")))?)
            }
            (Some(_), None, None) => {
                return Err(self.err(t.span.clone(), "range: `start` is given without `end` (end is exclusive: the day after the last day)"))
            }
            (None, Some(_), None) => return Err(self.err(t.span.clone(), "range: `end` is given without `start`")),
            (None, None, Some(v)) => {
                let text = self.string(t, "last", v)?;
                RangeSpec::Last(parse_relative(&text).map_err(|m| self.err(v.span(), format!("range.last: {m}")))?)
            }
            (None, None, None) => {
                return Err(self.err(
                    t.span.clone(),
                    "range: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\"",
                ))
            }
        };

        let period = match t.get("period") {
            None => None,
            Some(v) => {
                let text = self.string(t, "period", v)?;
                Some(match text.as_str() {
                    "day" => Period::Day,
                    "week" => Period::Week,
                    "month" => Period::Month,
                    other => {
                        return Err(self.err(v.span(), format!("range.period: unknown period `{other}` (expected \"day\", \"week\" or \"month\")")))
                    }
                })
            }
        };
        Ok((spec, period))
    }

    fn filters(&self, t: &Table<'_, '_>) -> Result<Filters> {
        self.known_keys(t, &["template_ids", "creators", "departments"])?;
        Ok(Filters {
            template_ids: self.id_list(t, "template_ids", false)?,
            creators: self.id_list(t, "creators", false)?,
            // Department ids are numbers in the directory and strings on the wire: take both.
            departments: self.id_list(t, "departments", true)?,
        })
    }

    fn extract(&self, t: &Table<'_, '_>) -> Result<ExtractSettings> {
        self.known_keys(
            t,
            &[
                "details",
                "stats",
                "directory",
                "wedrive_files",
                "refresh_days",
            ],
        )?;
        let d = ExtractSettings::default();
        let directory = match t.get("directory") {
            None => d.directory.clone(),
            Some(v) => {
                let text = self.string(t, "directory", v)?;
                parse_directory(&text)
                    .map_err(|m| self.err(v.span(), format!("extract.directory: {m}")))?
            }
        };
        Ok(ExtractSettings {
            details: self.boolean(t, "details")?.unwrap_or(d.details),
            stats: self.boolean(t, "stats")?.unwrap_or(d.stats),
            directory,
            wedrive_files: self.boolean(t, "wedrive_files")?.unwrap_or(d.wedrive_files),
            refresh_days: self
                .non_negative(t, "refresh_days")?
                .unwrap_or(d.refresh_days),
        })
    }

    fn output(&self, t: Option<&Table<'_, '_>>, name: &str) -> Result<OutputSettings> {
        let default_dir = PathBuf::from("output").join(name);
        let Some(t) = t else {
            return Ok(OutputSettings {
                dir: default_dir,
                formats: default_formats(),
                reports: ReportKind::ALL.to_vec(),
                csv_bom: true,
            });
        };
        self.known_keys(t, &["dir", "formats", "reports", "csv_bom"])?;
        let dir = match t.get("dir") {
            None => default_dir,
            Some(v) => {
                let dir = self.string(t, "dir", v)?;
                if dir.trim().is_empty() {
                    return Err(self.err(v.span(), "output.dir is empty"));
                }
                PathBuf::from(dir)
            }
        };
        let formats = match t.get("formats") {
            None => default_formats(),
            Some(v) => {
                let formats = self.named_list(
                    t,
                    "formats",
                    v,
                    Format::from_name,
                    &Format::ALL.map(Format::name),
                )?;
                if formats.is_empty() {
                    return Err(self.err(v.span(), "output.formats is empty: list at least one of \"parquet\", \"csv\", \"xlsx\", \"arrow\""));
                }
                formats
            }
        };
        let reports = match t.get("reports") {
            None => ReportKind::ALL.to_vec(),
            Some(v) => self.named_list(
                t,
                "reports",
                v,
                ReportKind::from_name,
                &ReportKind::ALL.map(ReportKind::name),
            )?,
        };
        Ok(OutputSettings {
            dir,
            formats,
            reports,
            csv_bom: self.boolean(t, "csv_bom")?.unwrap_or(true),
        })
    }

    fn plan(&self, t: &Table<'_, '_>) -> Result<PlanSettings> {
        self.known_keys(t, &["journals_per_day", "templates", "departments"])?;
        let d = PlanSettings::default();
        Ok(PlanSettings {
            journals_per_day: self
                .non_negative(t, "journals_per_day")?
                .unwrap_or(d.journals_per_day),
            templates: self.non_negative(t, "templates")?.unwrap_or(d.templates),
            departments: self
                .non_negative(t, "departments")?
                .unwrap_or(d.departments),
        })
    }

    // ---- generic readers -------------------------------------------------------------------

    /// Rejects the first (in file order) key of `t` not in `allowed`.
    fn known_keys(&self, t: &Table<'_, '_>, allowed: &[&str]) -> Result<()> {
        let unknown = t
            .table
            .iter()
            .filter(|(k, _)| !allowed.contains(&k.get_ref().as_ref()))
            .min_by_key(|(k, _)| k.span().start);
        match unknown {
            None => Ok(()),
            Some((k, _)) => Err(self.err(
                k.span(),
                format!(
                    "unknown key `{}` in {} (expected one of: {})",
                    k.get_ref(),
                    t.describe(),
                    allowed.join(", ")
                ),
            )),
        }
    }

    /// The sub-table `key` of the document.
    fn table<'t, 'i>(
        &self,
        root: &Table<'t, 'i>,
        key: &'static str,
    ) -> Result<Option<Table<'t, 'i>>> {
        self.table_in(root, key, key)
    }

    fn table_in<'t, 'i>(
        &self,
        parent: &Table<'t, 'i>,
        key: &str,
        path: &'static str,
    ) -> Result<Option<Table<'t, 'i>>> {
        let Some((k, v)) = parent.table.get_key_value(key) else {
            return Ok(None);
        };
        match v.get_ref() {
            DeValue::Table(table) => Ok(Some(Table {
                path,
                table,
                span: k.span(),
            })),
            other => Err(self.err(
                v.span(),
                format!(
                    "{} must be a table, found {}",
                    parent.key_path(key),
                    type_name(other)
                ),
            )),
        }
    }

    /// A string value with `${VAR}`s expanded; a missing variable is an error.
    fn string(&self, t: &Table<'_, '_>, key: &str, v: Value<'_, '_>) -> Result<String> {
        let raw = self.raw_str(t, key, v)?;
        self.expand(raw, v, false)
    }

    /// As [`Cx::string`], but a missing variable leaves the value empty (credentials of a run
    /// that brings its own).
    fn string_lenient(&self, t: &Table<'_, '_>, key: &str, v: Value<'_, '_>) -> Result<String> {
        let raw = self.raw_str(t, key, v)?;
        self.expand(raw, v, true)
    }

    fn raw_str<'v>(
        &self,
        t: &Table<'_, '_>,
        key: &str,
        v: &'v Spanned<DeValue<'_>>,
    ) -> Result<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            other => Err(self.err(
                v.span(),
                format!(
                    "{} must be a string, found {}",
                    t.key_path(key),
                    type_name(other)
                ),
            )),
        }
    }

    /// Expands `${NAME}` from the environment. `lenient`: a missing variable gives `""` for the
    /// whole value instead of an error.
    fn expand(&self, raw: &str, v: Value<'_, '_>, lenient: bool) -> Result<String> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(close) = after.find('}') else {
                return Err(self.err(v.span(), "unterminated `${` in a string (write ${NAME})"));
            };
            let name = &after[..close];
            if !is_var_name(name) {
                return Err(self.err(
                    self.var_span(v, &format!("${{{name}}}")),
                    format!("`${{{name}}}` is not a variable name (letters, digits and _, not starting with a digit)"),
                ));
            }
            match (self.env)(name) {
                Some(value) => out.push_str(&value),
                None if lenient => return Ok(String::new()),
                None => {
                    return Err(self.err(
                        self.var_span(v, &format!("${{{name}}}")),
                        format!("environment variable `{name}` is not set"),
                    ))
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Where `${NAME}` is written inside the value, or the value itself.
    fn var_span(&self, v: Value<'_, '_>, needle: &str) -> Range<usize> {
        let span = v.span();
        match self.text.get(span.clone()).and_then(|raw| raw.find(needle)) {
            Some(at) => span.start + at..span.start + at + needle.len(),
            None => span,
        }
    }

    fn boolean(&self, t: &Table<'_, '_>, key: &str) -> Result<Option<bool>> {
        match t.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Ok(Some(*b)),
                other => Err(self.err(
                    v.span(),
                    format!(
                        "{} must be true or false, found {}",
                        t.key_path(key),
                        type_name(other)
                    ),
                )),
            },
        }
    }

    fn integer(&self, t: &Table<'_, '_>, key: &str, v: Value<'_, '_>) -> Result<i128> {
        match v.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                self.err(
                    v.span(),
                    format!("{}: integer out of range", t.key_path(key)),
                )
            }),
            other => Err(self.err(
                v.span(),
                format!(
                    "{} must be an integer, found {}",
                    t.key_path(key),
                    type_name(other)
                ),
            )),
        }
    }

    /// An integer ≥ 1 that fits a u32 (quotas, concurrency).
    fn positive(&self, t: &Table<'_, '_>, key: &str) -> Result<Option<u32>> {
        self.u32_from(t, key, 1, "a positive integer (1 to")
    }

    /// An integer ≥ 0 that fits a u32.
    fn non_negative(&self, t: &Table<'_, '_>, key: &str) -> Result<Option<u32>> {
        self.u32_from(t, key, 0, "an integer from 0 to")
    }

    /// An integer from `min` to `u32::MAX`; `expected` opens the message ("must be …").
    fn u32_from(
        &self,
        t: &Table<'_, '_>,
        key: &str,
        min: u32,
        expected: &str,
    ) -> Result<Option<u32>> {
        let Some(v) = t.get(key) else { return Ok(None) };
        let n = self.integer(t, key, v)?;
        if n < i128::from(min) || n > i128::from(u32::MAX) {
            let close = if min > 0 { ")" } else { "" };
            return Err(self.err(
                v.span(),
                format!(
                    "{} must be {expected} {}{close}, found {n}",
                    t.key_path(key),
                    u32::MAX
                ),
            ));
        }
        Ok(Some(n as u32))
    }

    /// A duration: a string such as `"2h"` or `"90m"` ([`super::parse_duration`]).
    fn duration(&self, t: &Table<'_, '_>, key: &str) -> Result<Option<std::time::Duration>> {
        let Some(v) = t.get(key) else { return Ok(None) };
        let text = self.string(t, key, v)?;
        super::parse_duration(&text)
            .map(Some)
            .map_err(|m| self.err(v.span(), format!("{}: {m}", t.key_path(key))))
    }

    /// A local date: a TOML date (`2026-10-01`) or a string `"2026-10-01"`.
    fn date(&self, t: &Table<'_, '_>, key: &str, v: Value<'_, '_>) -> Result<NaiveDate> {
        let text = match v.get_ref() {
            DeValue::String(_) => self.string(t, key, v)?,
            DeValue::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => dt.to_string(),
            DeValue::Datetime(dt) => {
                return Err(self.err(
                    v.span(),
                    format!(
                        "{}: `{dt}` has a time; give a local date YYYY-MM-DD",
                        t.key_path(key)
                    ),
                ))
            }
            other => {
                return Err(self.err(
                    v.span(),
                    format!(
                        "{} must be a date YYYY-MM-DD, found {}",
                        t.key_path(key),
                        type_name(other)
                    ),
                ))
            }
        };
        super::parse_local_date(&text)
            .map_err(|m| self.err(v.span(), format!("{}: {m}", t.key_path(key))))
    }

    /// A list of ids (strings; with `numbers_too`, integers as well), no empty or repeated one.
    fn id_list(&self, t: &Table<'_, '_>, key: &str, numbers_too: bool) -> Result<Vec<String>> {
        let Some(v) = t.get(key) else {
            return Ok(Vec::new());
        };
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.err(
                v.span(),
                format!(
                    "{} must be a list, found {}",
                    t.key_path(key),
                    type_name(v.get_ref())
                ),
            ));
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let id = match item.get_ref() {
                DeValue::String(_) => self.string(t, key, item)?,
                DeValue::Integer(_) if numbers_too => self.integer(t, key, item)?.to_string(),
                other => {
                    let want = if numbers_too {
                        "strings or integers"
                    } else {
                        "strings"
                    };
                    return Err(self.err(
                        item.span(),
                        format!(
                            "{} must hold {want}, found {}",
                            t.key_path(key),
                            type_name(other)
                        ),
                    ));
                }
            };
            if id.trim().is_empty() {
                return Err(self.err(item.span(), format!("{}: empty id", t.key_path(key))));
            }
            if out.contains(&id) {
                return Err(self.err(
                    item.span(),
                    format!("{}: `{id}` is listed twice", t.key_path(key)),
                ));
            }
            out.push(id);
        }
        Ok(out)
    }

    /// A list of names from a fixed set (formats, reports), no repeats.
    fn named_list<T: PartialEq>(
        &self,
        t: &Table<'_, '_>,
        key: &str,
        v: Value<'_, '_>,
        from_name: fn(&str) -> Option<T>,
        names: &[&str],
    ) -> Result<Vec<T>> {
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.err(
                v.span(),
                format!(
                    "{} must be a list, found {}",
                    t.key_path(key),
                    type_name(v.get_ref())
                ),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let name = self.string(t, key, item)?;
            let Some(value) = from_name(&name) else {
                let expected = names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(self.err(
                    item.span(),
                    format!(
                        "{}: unknown `{name}` (expected one of: {expected})",
                        t.key_path(key)
                    ),
                ));
            };
            if out.contains(&value) {
                return Err(self.err(
                    item.span(),
                    format!("{}: `{name}` is listed twice", t.key_path(key)),
                ));
            }
            out.push(value);
        }
        Ok(out)
    }
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            details: true,
            stats: true,
            directory: DirectorySource::Api,
            wedrive_files: false,
            refresh_days: 7,
        }
    }
}

fn default_formats() -> Vec<Format> {
    vec![Format::Parquet, Format::Csv, Format::Xlsx]
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The job's name names its output directory and store: no path separators, no control
/// characters.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(format!("name `{name}` must not contain `/`, `\\` or control characters (it names the output directory)"));
    }
    Ok(())
}

/// An `http(s)://host…` base without a trailing slash.
fn check_api_base(base: &str) -> std::result::Result<String, String> {
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    match rest {
        Some(host) if !host.trim_matches('/').is_empty() && !host.contains(char::is_whitespace) => {
            Ok(base.trim_end_matches('/').to_string())
        }
        _ => Err(format!("`{base}` is not an http:// or https:// URL")),
    }
}

/// `"month" | "week" | "day" | "<N>d"`.
fn parse_relative(text: &str) -> std::result::Result<Relative, String> {
    match text {
        "month" => Ok(Relative::Month),
        "week" => Ok(Relative::Week),
        "day" => Ok(Relative::Day),
        _ => {
            let bad = || {
                format!(
                    "`{text}` is not \"month\", \"week\", \"day\" or a number of days like \"30d\""
                )
            };
            let digits = text.strip_suffix('d').ok_or_else(bad)?;
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            match digits.parse::<u32>() {
                Ok(n) if (1..=MAX_RELATIVE_DAYS).contains(&n) => Ok(Relative::Days(n)),
                _ => Err(format!(
                    "`{text}`: the number of days must be from 1 to {MAX_RELATIVE_DAYS}"
                )),
            }
        }
    }
}

/// `"api" | "none" | "csv:PATH"`.
fn parse_directory(text: &str) -> std::result::Result<DirectorySource, String> {
    match text {
        "api" => Ok(DirectorySource::Api),
        "none" => Ok(DirectorySource::None),
        _ => match text.strip_prefix("csv:") {
            Some(path) if !path.trim().is_empty() => {
                Ok(DirectorySource::Csv(PathBuf::from(path.trim())))
            }
            Some(_) => Err("`csv:` needs a path, e.g. \"csv:path/to/org.csv\"".into()),
            None => Err(format!(
                "`{text}` is not \"api\", \"none\" or \"csv:path/to/org.csv\""
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
