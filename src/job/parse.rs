//! Job file parsing: TOML text → [`Job`], in the format `docs/job-file.md` describes (its
//! keys are defined in `super::keys`).
//!
//! The document is parsed to `toml::de::DeTable`, which keeps the byte span of every key and
//! value, and walked by hand so that every error — unknown key, wrong type, bad date, missing
//! `${VAR}` … — points at the offending key or value as `file:line:col: message`. Each key is
//! read through its entry in `super::keys` (the readers are in `read`); this file puts the
//! values together into a [`Job`] and holds the checks a type alone does not say. Owns only
//! the file format; what a job means at run time (ranges, periods) lives in `super`, and the
//! plan in `super::plan`.

mod read;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::keys::*;
use super::{
    DateRange, DirectorySource, ExtractSettings, Filters, Format, Job, Language, LoadOptions,
    LoadedJob, OutputSettings, Period, PlanSettings, RangeSpec, Relative, ReportKind, Source,
    StorageSettings,
};
use crate::wecom::{Limits, Secret};
use read::{Cx, Env, Result, Table};

/// Environment variable that overrides `source.api_base` (private deployments, the simulator).
pub(crate) const API_BASE_ENV: &str = "WECOM_API_BASE";
/// The longest `last = "<N>d"` accepted (ten years: beyond is surely a typo).
const MAX_RELATIVE_DAYS: u32 = 3660;

/// Parses the text of a job file. `origin` names the file in errors (and becomes
/// [`Job::path`]); its folder is what relative paths in it are relative to. `env` resolves
/// `${VAR}`s (the process environment in [`super::load`]).
pub(crate) fn parse(text: &str, origin: &Path, env: Env<'_>, opts: &LoadOptions) -> Result<Job> {
    parse_located(text, origin, env, opts).map(|loaded| loaded.job)
}

/// [`parse`], with the job's warnings and where each key's value is written ([`LoadedJob`]).
pub(crate) fn parse_located(
    text: &str,
    origin: &Path,
    env: Env<'_>,
    opts: &LoadOptions,
) -> Result<LoadedJob> {
    let cx = Cx {
        text,
        origin,
        env,
        opts,
        warnings: Default::default(),
    };
    let root = DeTable::parse(text).map_err(|e| {
        cx.err(
            e.span().unwrap_or(0..0),
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let root = Table {
        path: String::new(),
        table: root.get_ref(),
        span: 0..0,
    };
    let job = cx.job(&root)?;
    let mut places = BTreeMap::new();
    places_of(text, &root.path, root.table, &mut places);
    Ok(LoadedJob {
        job,
        warnings: cx.warnings.into_inner(),
        places,
        origin: origin.to_path_buf(),
    })
}

/// `(line, col)` of every value under `table`, by its key's dotted path.
fn places_of(
    text: &str,
    path: &str,
    table: &DeTable<'_>,
    out: &mut BTreeMap<String, (usize, usize)>,
) {
    for (key, value) in table {
        let dotted = if path.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{path}.{}", key.get_ref())
        };
        if let toml::de::DeValue::Table(sub) = value.get_ref() {
            places_of(text, &dotted, sub, out);
        }
        out.insert(dotted, read::line_col(text, value.span().start));
    }
}

/// `[extract]` with every key at its default.
pub(super) fn extract_defaults() -> ExtractSettings {
    defaults(&EXTRACT, |cx, t| cx.extract(t))
}

/// `[plan]` with every key at its default.
pub(super) fn plan_defaults() -> PlanSettings {
    defaults(&PLAN, |cx, t| cx.plan(t))
}

/// A table read with every key left out: its keys' defaults, read as if the file said them.
fn defaults<T>(table: &Key, read: impl FnOnce(&Cx<'_>, &Table<'_, '_>) -> Result<T>) -> T {
    let empty = DeTable::new();
    let cx = Cx {
        text: "",
        origin: Path::new("defaults"),
        env: &|_| None,
        opts: &LoadOptions::default(),
        warnings: Default::default(),
    };
    // The defaults are constants: `keys` checks at compile time that each fits its type, and
    // the parse tests read every one. Failing here is a bug in `keys`, never in a job file.
    read(&cx, &Table::left_out(&empty, &table.path())).expect("the job keys' defaults are valid")
}

impl<'a, 'i> Table<'a, 'i> {
    /// A table the file leaves out, read as an empty one: every key at its default.
    fn left_out(empty: &'a DeTable<'i>, path: &str) -> Table<'a, 'i> {
        Table {
            path: path.to_string(),
            table: empty,
            span: 0..0,
        }
    }
}

impl<'a> Cx<'a> {
    fn job(&self, root: &Table<'_, '_>) -> Result<Job> {
        self.known_keys(root)?;

        let name = match root.get(&NAME) {
            Some(v) => {
                let name = self.string(&NAME, v)?;
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

        let empty = DeTable::new();
        let optional = |key: &Key| -> Result<Table<'_, '_>> {
            Ok(match self.table(root, key)? {
                Some(t) => t,
                None => Table::left_out(&empty, &key.path()),
            })
        };
        let source = match self.table(root, &SOURCE)? {
            Some(t) => self.source(&t)?,
            None if self.opts.credentials_optional() => {
                self.source(&Table::left_out(&empty, &SOURCE.path()))?
            }
            None => {
                return Err(self.err(
                    0..0,
                    "missing table [source] (corp_id and secret of the journal app)",
                ))
            }
        };
        let (range, period_override) = match self.table(root, &RANGE)? {
            Some(range) => self.range(&range)?,
            None => {
                return Err(self.err(
                    0..0,
                    "missing table [range]: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\"",
                ))
            }
        };
        let filters = self.filters(&optional(&FILTERS)?)?;
        let extract = self.extract(&optional(&EXTRACT)?)?;
        let mut output = self.output(&optional(&OUTPUT)?, &name)?;
        output.store_path = self.store(&optional(&STORE)?)?;
        let plan = self.plan(&optional(&PLAN)?)?;

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

    fn source(&self, t: &Table<'_, '_>) -> Result<Source> {
        self.known_keys(t)?;
        let optional = self.opts.credentials_optional();

        // The credentials: required, non-empty and resolved — unless the run brings its own.
        let credential = |key: &Key, what: &str| -> Result<String> {
            match t.get(key) {
                None if optional => Ok(String::new()),
                None => Err(self.err(
                    t.span.clone(),
                    format!("missing key `{}` ({what})", key.path()),
                )),
                Some(v) => {
                    let value = if optional {
                        self.string_lenient(key, v)?
                    } else {
                        self.string(key, v)?
                    };
                    if value.trim().is_empty() && !optional {
                        return Err(self.err(v.span(), format!("{} is empty ({what})", key.path())));
                    }
                    Ok(value)
                }
            }
        };
        let corp_id = credential(&SOURCE_CORP_ID, "the corp id, e.g. \"${WECOM_CORP_ID}\"")?;
        let secret = Secret::new(credential(
            &SOURCE_SECRET,
            "the journal app's secret, e.g. \"${WECOM_JOURNAL_SECRET}\"",
        )?);

        let api_base = self.api_base(t)?;

        let (name, span) = self.string_or_default(t, &SOURCE_TIMEZONE)?;
        let timezone = name.parse::<chrono_tz::Tz>().map_err(|_| {
            self.err(span, format!("source.timezone: unknown timezone `{name}` (an IANA name such as \"Asia/Shanghai\")"))
        })?;

        let empty = DeTable::new();
        let limits = match self.table(t, &SOURCE_LIMITS)? {
            Some(l) => self.limits(&l)?,
            None => self.limits(&Table::left_out(&empty, &SOURCE_LIMITS.path()))?,
        };

        Ok(Source {
            corp_id,
            secret,
            api_base,
            timezone,
            limits,
        })
    }

    /// `source.api_base`, unless `WECOM_API_BASE` overrides it; left out, the documented base.
    /// A run that brings its own credentials also brings its own base: a `${VAR}` in it may
    /// stay unset.
    fn api_base(&self, t: &Table<'_, '_>) -> Result<String> {
        let optional = self.opts.credentials_optional();
        let from_file = match t.get(&SOURCE_API_BASE) {
            None => None,
            Some(v) => {
                let base = if optional {
                    self.string_lenient(&SOURCE_API_BASE, v)?
                } else {
                    self.string(&SOURCE_API_BASE, v)?
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
        let span = t
            .get(&SOURCE_API_BASE)
            .map(|v| v.span())
            .unwrap_or(t.span.clone());
        Ok(match self.api_base_override(from_file, &span)? {
            Some(base) => base,
            None => SOURCE_API_BASE.string_default().to_string(),
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

    fn limits(&self, t: &Table<'_, '_>) -> Result<Limits> {
        self.known_keys(t)?;
        // max_in_flight is checked first, as it always was (the first error is the one given).
        let max_in_flight = self.count(t, &LIMITS_MAX_IN_FLIGHT)? as usize;
        let limits = Limits {
            record_list_per_minute: self.count(t, &LIMITS_RECORD_LIST_PER_MINUTE)?,
            per_api_per_minute: self.count(t, &LIMITS_PER_API_PER_MINUTE)?,
            per_api_per_hour: self.count(t, &LIMITS_PER_API_PER_HOUR)?,
            max_in_flight,
            max_quota_wait: self.duration(t, &LIMITS_MAX_QUOTA_WAIT)?,
        };
        self.check_quotas(t, &limits)?;
        Ok(limits)
    }

    /// An hourly quota below the minute's cannot be what is meant (the run would crawl: one
    /// minute's calls an hour); a quota above WeCom's documented one is allowed (a corp may
    /// have been granted more) but said, as WeCom answers 45009 beyond it.
    fn check_quotas(&self, t: &Table<'_, '_>, limits: &Limits) -> Result<()> {
        let place = |key: &Key| t.get(key).map(|v| v.span()).unwrap_or(t.span.clone());
        if limits.per_api_per_hour < limits.per_api_per_minute {
            let at = match t.get(&LIMITS_PER_API_PER_HOUR) {
                Some(v) => v.span(),
                None => place(&LIMITS_PER_API_PER_MINUTE),
            };
            return Err(self.err(
                at,
                format!(
                    "{} ({}) is below {} ({}): an hour allows at least a minute's calls",
                    LIMITS_PER_API_PER_HOUR.path(),
                    limits.per_api_per_hour,
                    LIMITS_PER_API_PER_MINUTE.path(),
                    limits.per_api_per_minute
                ),
            ));
        }
        let documented = Limits::DOCUMENTED;
        for (key, value, quota) in [
            (
                &LIMITS_RECORD_LIST_PER_MINUTE,
                limits.record_list_per_minute,
                documented.record_list_per_minute,
            ),
            (
                &LIMITS_PER_API_PER_MINUTE,
                limits.per_api_per_minute,
                documented.per_api_per_minute,
            ),
            (
                &LIMITS_PER_API_PER_HOUR,
                limits.per_api_per_hour,
                documented.per_api_per_hour,
            ),
        ] {
            if value > quota {
                self.warn(
                    place(key),
                    format!(
                        "{} = {value} is above WeCom's documented quota ({quota}): unless the \
                         corp was granted more, WeCom answers errcode 45009 beyond it",
                        key.path()
                    ),
                );
            }
        }
        Ok(())
    }

    fn range(&self, t: &Table<'_, '_>) -> Result<(RangeSpec, Option<Period>)> {
        self.known_keys(t)?;
        let start = t
            .get(&RANGE_START)
            .map(|v| self.date(&RANGE_START, v).map(|d| (d, v)))
            .transpose()?;
        let end = t
            .get(&RANGE_END)
            .map(|v| self.date(&RANGE_END, v).map(|d| (d, v)))
            .transpose()?;
        let last = t.get(&RANGE_LAST);

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
                let text = self.string(&RANGE_LAST, v)?;
                RangeSpec::Last(parse_relative(&text).map_err(|m| self.err(v.span(), format!("range.last: {m}")))?)
            }
            (None, None, None) => {
                return Err(self.err(
                    t.span.clone(),
                    "range: give start = \"YYYY-MM-DD\" and end = \"YYYY-MM-DD\", or last = \"month\" | \"week\" | \"day\" | \"<N>d\"",
                ))
            }
        };

        let period = match t.get(&RANGE_PERIOD) {
            None => None,
            Some(v) => {
                let text = self.string(&RANGE_PERIOD, v)?;
                let Some(period) = Period::from_name(&text) else {
                    return Err(self.err(
                        v.span(),
                        format!(
                            "{}: unknown period `{text}` (expected {})",
                            RANGE_PERIOD.path(),
                            either_of(RANGE_PERIOD.allowed)
                        ),
                    ));
                };
                Some(period)
            }
        };
        Ok((spec, period))
    }

    fn filters(&self, t: &Table<'_, '_>) -> Result<Filters> {
        self.known_keys(t)?;
        Ok(Filters {
            template_ids: self.id_list(t, &FILTERS_TEMPLATE_IDS)?,
            creators: self.id_list(t, &FILTERS_CREATORS)?,
            // Department ids are numbers in the directory and strings on the wire: take both.
            departments: self.id_list(t, &FILTERS_DEPARTMENTS)?,
        })
    }

    fn extract(&self, t: &Table<'_, '_>) -> Result<ExtractSettings> {
        self.known_keys(t)?;
        let (text, span) = self.string_or_default(t, &EXTRACT_DIRECTORY)?;
        let directory = match parse_directory(&text)
            .map_err(|m| self.err(span, format!("extract.directory: {m}")))?
        {
            DirectorySource::Csv(path) => DirectorySource::Csv(self.beside_the_job(path)),
            other => other,
        };
        Ok(ExtractSettings {
            details: self.boolean(t, &EXTRACT_DETAILS)?,
            stats: self.boolean(t, &EXTRACT_STATS)?,
            directory,
            wedrive_files: self.boolean(t, &EXTRACT_WEDRIVE_FILES)?,
            refresh_days: self.count(t, &EXTRACT_REFRESH_DAYS)?,
        })
    }

    fn output(&self, t: &Table<'_, '_>, name: &str) -> Result<OutputSettings> {
        self.known_keys(t)?;
        let dir = match t.get(&OUTPUT_DIR) {
            // `output/<name>`
            None => PathBuf::from("output").join(name),
            Some(v) => {
                let dir = self.string(&OUTPUT_DIR, v)?;
                if dir.trim().is_empty() {
                    return Err(self.err(v.span(), "output.dir is empty"));
                }
                check_output_location(&dir).map_err(|m| self.err(v.span(), m))?;
                if super::is_object_storage(Path::new(&dir)) {
                    PathBuf::from(dir)
                } else {
                    self.beside_the_job(PathBuf::from(dir))
                }
            }
        };
        let storage = match self.table(t, &OUTPUT_STORAGE)? {
            Some(storage) => self.storage(&storage)?,
            None => StorageSettings::default(),
        };
        let (formats, span) = self.names(t, &OUTPUT_FORMATS, Format::from_name)?;
        if formats.is_empty() {
            let all = OUTPUT_FORMATS
                .allowed
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(self.err(
                span,
                format!("output.formats is empty: list at least one of {all}"),
            ));
        }
        let (reports, _) = self.names(t, &OUTPUT_REPORTS, ReportKind::from_name)?;
        Ok(OutputSettings {
            dir,
            storage,
            store_path: None,
            formats,
            reports,
            csv_bom: self.boolean(t, &OUTPUT_CSV_BOM)?,
            csv_escape_formulas: self.boolean(t, &OUTPUT_CSV_ESCAPE_FORMULAS)?,
            language: self.language(t)?,
            min_group_size: self.count(t, &OUTPUT_MIN_GROUP_SIZE)?,
        })
    }

    fn language(&self, t: &Table<'_, '_>) -> Result<Language> {
        let (text, span) = self.string_or_default(t, &OUTPUT_LANGUAGE)?;
        Language::from_name(&text).ok_or_else(|| {
            self.err(
                span,
                format!(
                    "{}: unknown language `{text}` (expected {})",
                    OUTPUT_LANGUAGE.path(),
                    either_of(OUTPUT_LANGUAGE.allowed)
                ),
            )
        })
    }

    fn storage(&self, t: &Table<'_, '_>) -> Result<StorageSettings> {
        self.known_keys(t)?;
        let endpoint = match t.get(&STORAGE_ENDPOINT) {
            None => None,
            Some(v) => {
                let endpoint = self.string(&STORAGE_ENDPOINT, v)?;
                check_endpoint(&endpoint)
                    .map_err(|m| self.err(v.span(), format!("output.storage.endpoint: {m}")))?;
                Some(endpoint)
            }
        };
        let region = match t.get(&STORAGE_REGION) {
            None => None,
            Some(v) => Some(self.string(&STORAGE_REGION, v)?),
        };
        Ok(StorageSettings {
            endpoint,
            region,
            path_style: self.optional_boolean(t, &STORAGE_PATH_STYLE)?,
            allow_http: self.optional_boolean(t, &STORAGE_ALLOW_HTTP)?,
        })
    }

    /// `[store]`: the store's file, when given.
    fn store(&self, t: &Table<'_, '_>) -> Result<Option<PathBuf>> {
        self.known_keys(t)?;
        match t.get(&STORE_PATH) {
            None => Ok(None),
            Some(v) => {
                let path = self.string(&STORE_PATH, v)?;
                if path.trim().is_empty() {
                    return Err(self.err(v.span(), "store.path is empty"));
                }
                if path.contains("://") {
                    return Err(self.err(
                        v.span(),
                        "store.path must be a local file: SQLite needs a local file system \
                         (object storage has no locks); put it on a persistent volume",
                    ));
                }
                Ok(Some(PathBuf::from(path)))
            }
        }
    }

    fn plan(&self, t: &Table<'_, '_>) -> Result<PlanSettings> {
        self.known_keys(t)?;
        Ok(PlanSettings {
            journals_per_day: self.count(t, &PLAN_JOURNALS_PER_DAY)?,
            templates: self.count(t, &PLAN_TEMPLATES)?,
            departments: self.count(t, &PLAN_DEPARTMENTS)?,
        })
    }
}

/// `output.dir`: a local path, or `s3://bucket[/prefix]`.
fn check_output_location(dir: &str) -> std::result::Result<(), String> {
    let Some((scheme, rest)) = dir.split_once("://") else {
        return Ok(());
    };
    if scheme != "s3" {
        return Err(format!(
            "output.dir `{dir}`: {scheme}:// is not supported (a local directory, or \
             s3://bucket/prefix for S3 and S3-compatible stores)"
        ));
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("output.dir `{dir}`: no bucket name after s3://"));
    }
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty()
        && prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(format!(
            "output.dir `{dir}`: the prefix must not hold `.`, `..` or empty segments"
        ));
    }
    Ok(())
}

/// `output.storage.endpoint`: an http(s) URL without credentials in it.
fn check_endpoint(endpoint: &str) -> std::result::Result<(), String> {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return Err(format!(
            "`{endpoint}` is not a URL (e.g. https://minio.internal:9000)"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{endpoint}`: the scheme must be http or https"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "the endpoint must not carry credentials: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY in the environment"
                .into(),
        );
    }
    Ok(())
}

/// `"a", "b" or "c"`.
fn either_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
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

/// `"month" | "week" | "day" | "<N>d"` (the allowed values of [`RANGE_LAST`]).
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

/// `"api" | "none" | "csv:PATH"` (the allowed values of [`EXTRACT_DIRECTORY`]).
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
mod tests;
