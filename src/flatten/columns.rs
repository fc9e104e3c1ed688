//! The column constructors every flatten table is built from, each giving exactly the polars
//! type of its [`ColumnType`](super::schema::ColumnType), and [`frame`], which assembles a
//! table and checks it against its schema. Also the one conversion of WeCom's seconds to a
//! column's milliseconds and local date.

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use polars::prelude::*;

use super::schema::TableSpec;
use super::FlattenError;

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");

/// Seconds → (milliseconds, local date as days since 1970-01-01), or an error naming `what`.
pub(super) fn time_and_date(
    secs: i64,
    tz: Tz,
    what: impl FnOnce() -> String,
) -> Result<(i64, i32), FlattenError> {
    let err = |what: String| FlattenError::Timestamp {
        what,
        value: secs.into(),
    };
    let (Some(ms), Some(t)) = (secs.checked_mul(1000), DateTime::from_timestamp(secs, 0)) else {
        return Err(err(what()));
    };
    let days = t
        .with_timezone(&tz)
        .date_naive()
        .signed_duration_since(EPOCH)
        .num_days();
    let days = i32::try_from(days).map_err(|_| err(what()))?;
    Ok((ms, days))
}

pub(super) fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A String column from `String`s, `&str`s or `Cow<str>`s (borrowed text is copied once, into
/// the column's buffers).
pub(super) fn str_col<T, S: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, S>,
{
    Series::new(name.into(), v).into_column()
}
/// [`str_col`] with nulls.
pub(super) fn opt_str_col<T, S: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, S>,
{
    Series::new(name.into(), v).into_column()
}
pub(super) fn u32_col(name: &str, v: Vec<u32>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn opt_u32_col(name: &str, v: Vec<Option<u32>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn u64_col(name: &str, v: Vec<u64>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn opt_u64_col(name: &str, v: Vec<Option<u64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn opt_i64_col(name: &str, v: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn opt_f64_col(name: &str, v: Vec<Option<f64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn bool_col(name: &str, v: Vec<bool>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn opt_bool_col(name: &str, v: Vec<Option<bool>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(super) fn date_col(name: &str, days: Vec<i32>) -> Column {
    Series::new(name.into(), days).into_date().into_column()
}
pub(super) fn time_col(name: &str, ms: Vec<i64>) -> Column {
    Series::new(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}
pub(super) fn opt_time_col(name: &str, ms: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}
pub(super) fn opt_list_str_col<S: AsRef<str>>(name: &str, v: &[Option<Vec<S>>]) -> Column {
    let values: usize = v.iter().flatten().map(Vec::len).sum();
    let mut b = ListStringChunkedBuilder::new(name.into(), v.len(), values);
    for item in v {
        match item {
            Some(list) => b.append_values_iter(list.iter().map(AsRef::as_ref)),
            None => b.append_null(),
        }
    }
    b.finish().into_series().into_column()
}
pub(super) fn list_u64_col(name: &str, v: &[Vec<u64>]) -> Column {
    let values: usize = v.iter().map(Vec::len).sum();
    let mut b = ListPrimitiveChunkedBuilder::<UInt64Type>::new(
        name.into(),
        v.len(),
        values,
        DataType::UInt64,
    );
    for list in v {
        b.append_slice(list);
    }
    b.finish().into_series().into_column()
}

/// Assembles a frame and checks it against its table's schema.
pub(super) fn frame(
    spec: &'static TableSpec,
    height: usize,
    columns: Vec<Column>,
) -> Result<DataFrame, FlattenError> {
    let df = DataFrame::new(height, columns).map_err(FlattenError::polars(spec.name))?;
    spec.check(&df).map_err(FlattenError::Schema)?;
    Ok(df)
}
