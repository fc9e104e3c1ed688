//! The readers the parser is built from: one per [`Type`] of key, each taking the key's entry
//! in `keys` (its name, its default, its allowed values) and giving either the value or an
//! error that points at the key or value as `file:line:col: message`.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::super::keys::{Key, Type};
use super::super::{JobError, JobWarning, LoadOptions};

pub(super) type Env<'e> = &'e dyn Fn(&str) -> Option<String>;
pub(super) type Result<T> = std::result::Result<T, JobError>;
type Value<'a, 'i> = &'a Spanned<DeValue<'i>>;

/// What every step needs: the text (for positions), the file name, the environment.
pub(super) struct Cx<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a Path,
    pub(super) env: Env<'a>,
    pub(super) opts: &'a LoadOptions,
    /// What is allowed but probably wrong, said in file order as the keys are read.
    pub(super) warnings: std::cell::RefCell<Vec<JobWarning>>,
}

/// One TOML table being read, with its dotted path for messages and where it is declared.
pub(super) struct Table<'a, 'i> {
    /// Dotted path (`source.limits`), empty for the document itself.
    pub(super) path: String,
    pub(super) table: &'a DeTable<'i>,
    /// Span of the table's name where it is declared (`0..0` for the document, or for a table
    /// the file leaves out).
    pub(super) span: Range<usize>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The value of `key`, a key of this table.
    pub(super) fn get(&self, key: &Key) -> Option<Value<'a, 'i>> {
        debug_assert_eq!(
            key.table, self.path,
            "{} read from the wrong table",
            key.name
        );
        debug_assert!(
            super::super::keys::keys_of(&self.path).any(|k| k.name == key.name),
            "{} is read but not listed in keys::KEYS",
            key.path()
        );
        self.table.get(key.name)
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
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> JobError {
        let (line, col) = line_col(self.text, span.start);
        JobError::Invalid {
            path: self.origin.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }

    /// Notes a warning at `span` (the job still loads).
    pub(super) fn warn(&self, span: Range<usize>, message: impl Into<String>) {
        let (line, col) = line_col(self.text, span.start);
        self.warnings.borrow_mut().push(JobWarning {
            path: self.origin.to_path_buf(),
            line,
            col,
            message: message.into(),
        });
    }

    /// Rejects the first (in file order) key of `t` that `keys` does not list for it.
    pub(super) fn known_keys(&self, t: &Table<'_, '_>) -> Result<()> {
        let allowed: Vec<&str> = super::super::keys::keys_of(&t.path)
            .map(|k| k.name)
            .collect();
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

    /// The sub-table `key` of `parent`, if the file has it.
    pub(super) fn table<'t, 'i>(
        &self,
        parent: &Table<'t, 'i>,
        key: &Key,
    ) -> Result<Option<Table<'t, 'i>>> {
        debug_assert_eq!(key.ty, Type::Table);
        let Some((k, v)) = parent.table.get_key_value(key.name) else {
            return Ok(None);
        };
        match v.get_ref() {
            DeValue::Table(table) => Ok(Some(Table {
                path: key.path(),
                table,
                span: k.span(),
            })),
            other => Err(self.err(
                v.span(),
                format!("{} must be a table, found {}", key.path(), type_name(other)),
            )),
        }
    }

    /// A string value with `${VAR}`s expanded; a missing variable is an error.
    pub(super) fn string(&self, key: &Key, v: Value<'_, '_>) -> Result<String> {
        let raw = self.raw_str(key, v)?;
        self.expand(raw, v, false)
    }

    /// As [`Cx::string`], but a missing variable leaves the value empty (credentials of a run
    /// that brings its own).
    pub(super) fn string_lenient(&self, key: &Key, v: Value<'_, '_>) -> Result<String> {
        let raw = self.raw_str(key, v)?;
        self.expand(raw, v, true)
    }

    /// A string key with a default: the value written (and where), or the default as if it
    /// were written (and the table's place).
    pub(super) fn string_or_default(
        &self,
        t: &Table<'_, '_>,
        key: &Key,
    ) -> Result<(String, Range<usize>)> {
        match t.get(key) {
            Some(v) => Ok((self.string(key, v)?, v.span())),
            None => Ok((key.string_default().to_string(), t.span.clone())),
        }
    }

    fn raw_str<'v>(&self, key: &Key, v: &'v Spanned<DeValue<'_>>) -> Result<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            other => Err(self.err(
                v.span(),
                format!(
                    "{} must be a string, found {}",
                    key.path(),
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

    /// A [`Type::Bool`] key, or its default.
    pub(super) fn boolean(&self, t: &Table<'_, '_>, key: &Key) -> Result<bool> {
        Ok(self
            .optional_boolean(t, key)?
            .unwrap_or_else(|| key.bool_default()))
    }

    /// A [`Type::Bool`] key, or `None` when the file leaves it out (a key whose default is
    /// derived from elsewhere).
    pub(super) fn optional_boolean(&self, t: &Table<'_, '_>, key: &Key) -> Result<Option<bool>> {
        debug_assert_eq!(key.ty, Type::Bool);
        match t.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Ok(Some(*b)),
                other => Err(self.err(
                    v.span(),
                    format!(
                        "{} must be true or false, found {}",
                        key.path(),
                        type_name(other)
                    ),
                )),
            },
        }
    }

    fn integer(&self, key: &Key, v: Value<'_, '_>) -> Result<i128> {
        match v.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.err(v.span(), format!("{}: integer out of range", key.path()))),
            other => Err(self.err(
                v.span(),
                format!(
                    "{} must be an integer, found {}",
                    key.path(),
                    type_name(other)
                ),
            )),
        }
    }

    /// A [`Type::Integer`] key — from its `min` (a positive integer when 1) to `u32::MAX` —
    /// or its default.
    pub(super) fn count(&self, t: &Table<'_, '_>, key: &Key) -> Result<u32> {
        debug_assert!(matches!(key.ty, Type::Integer { .. }));
        let min = match key.ty {
            Type::Integer { min } => min,
            _ => 0,
        };
        let Some(v) = t.get(key) else {
            return Ok(key.integer_default());
        };
        let n = self.integer(key, v)?;
        if n < i128::from(min) || n > i128::from(u32::MAX) {
            let (expected, close) = if min > 0 {
                (format!("a positive integer ({min} to"), ")")
            } else {
                (format!("an integer from {min} to"), "")
            };
            return Err(self.err(
                v.span(),
                format!(
                    "{} must be {expected} {}{close}, found {n}",
                    key.path(),
                    u32::MAX
                ),
            ));
        }
        Ok(n as u32)
    }

    /// A [`Type::Date`] value: a TOML date (`2026-10-01`) or a string `"2026-10-01"`.
    /// A duration key ([`Type::Duration`]): the value written, or the default.
    pub(super) fn duration(&self, t: &Table<'_, '_>, key: &Key) -> Result<std::time::Duration> {
        let (text, span) = self.string_or_default(t, key)?;
        super::super::parse_duration(&text)
            .map_err(|m| self.err(span, format!("{}: {m}", key.path())))
    }

    pub(super) fn date(&self, key: &Key, v: Value<'_, '_>) -> Result<NaiveDate> {
        let text = match v.get_ref() {
            DeValue::String(_) => self.string(key, v)?,
            DeValue::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => dt.to_string(),
            DeValue::Datetime(dt) => {
                return Err(self.err(
                    v.span(),
                    format!(
                        "{}: `{dt}` has a time; give a local date YYYY-MM-DD",
                        key.path()
                    ),
                ))
            }
            other => {
                return Err(self.err(
                    v.span(),
                    format!(
                        "{} must be a date YYYY-MM-DD, found {}",
                        key.path(),
                        type_name(other)
                    ),
                ))
            }
        };
        super::super::parse_local_date(&text)
            .and_then(super::super::check_date_bounds)
            .map_err(|m| self.err(v.span(), format!("{}: {m}", key.path())))
    }

    /// A path written in the job file: relative to the job file's folder (as a compose file's
    /// are), so a job means the same from any working directory.
    /// `..` is taken lexically (`jobs/../output` is `output`), as compose does, so that the
    /// path shown in messages is the one a person would write.
    pub(super) fn beside_the_job(&self, path: PathBuf) -> PathBuf {
        if !path.is_relative() {
            return path;
        }
        let folder = self.origin.parent().unwrap_or(Path::new(""));
        let mut out = PathBuf::new();
        for part in folder.join(&path).components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir
                    if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
                {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        if out.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            out
        }
    }

    /// A [`Type::Ids`] or [`Type::IdsOrIntegers`] key, no empty or repeated id; left out, no id.
    pub(super) fn id_list(&self, t: &Table<'_, '_>, key: &Key) -> Result<Vec<String>> {
        debug_assert!(matches!(key.ty, Type::Ids | Type::IdsOrIntegers));
        let numbers_too = key.ty == Type::IdsOrIntegers;
        let Some(v) = t.get(key) else {
            return Ok(key.list_default().iter().map(|s| s.to_string()).collect());
        };
        let items = self.list(key, v)?;
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let id = match item.get_ref() {
                DeValue::String(_) => self.string(key, item)?,
                DeValue::Integer(_) if numbers_too => self.integer(key, item)?.to_string(),
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
                            key.path(),
                            type_name(other)
                        ),
                    ));
                }
            };
            if id.trim().is_empty() {
                return Err(self.err(item.span(), format!("{}: empty id", key.path())));
            }
            if out.contains(&id) {
                return Err(self.err(
                    item.span(),
                    format!("{}: `{id}` is listed twice", key.path()),
                ));
            }
            out.push(id);
        }
        Ok(out)
    }

    /// A [`Type::Names`] key: names from the key's `allowed`, no repeats; left out, its
    /// default. Also gives where the list is written (the table's place when left out).
    pub(super) fn names<T: PartialEq>(
        &self,
        t: &Table<'_, '_>,
        key: &Key,
        from_name: fn(&str) -> Option<T>,
    ) -> Result<(Vec<T>, Range<usize>)> {
        debug_assert_eq!(key.ty, Type::Names);
        let Some(v) = t.get(key) else {
            let defaults = key.list_default().iter().filter_map(|n| from_name(n));
            return Ok((defaults.collect(), t.span.clone()));
        };
        let items = self.list(key, v)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let name = self.string(key, item)?;
            let Some(value) = from_name(&name) else {
                let expected = key
                    .allowed
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(self.err(
                    item.span(),
                    format!(
                        "{}: unknown `{name}` (expected one of: {expected})",
                        key.path()
                    ),
                ));
            };
            if out.contains(&value) {
                return Err(self.err(
                    item.span(),
                    format!("{}: `{name}` is listed twice", key.path()),
                ));
            }
            out.push(value);
        }
        Ok((out, v.span()))
    }

    fn list<'v, 'i>(
        &self,
        key: &Key,
        v: &'v Spanned<DeValue<'i>>,
    ) -> Result<&'v [Spanned<DeValue<'i>>]> {
        match v.get_ref() {
            DeValue::Array(items) => Ok(items),
            other => Err(self.err(
                v.span(),
                format!("{} must be a list, found {}", key.path(), type_name(other)),
            )),
        }
    }
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
