//! polars frames as arrow-rs record batches, through the Arrow C data interface: the arrays'
//! buffers are handed over, not copied, and no file is involved.
//!
//! polars (polars-arrow) and delta-rs (arrow-rs) are two Rust implementations of Arrow with
//! distinct types; the C data interface is the one layout both speak.

use deltalake::arrow::array::{make_array, ArrayRef, RecordBatch};
use deltalake::arrow::compute::{cast_with_options, CastOptions};
use deltalake::arrow::datatypes::{Field, SchemaRef};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use polars::prelude::{CompatLevel, DataFrame, SchemaExt};

/// The frame's chunks as record batches of `target`'s columns and types. Columns are matched by
/// name; a column whose exported type differs from the target's (polars' `large_string` for
/// Delta's `string`, `UInt64` for `decimal(20,0)`, ms for µs timestamps …) is cast with a safe
/// cast, which fails rather than wrap or truncate.
pub(super) fn to_record_batches(
    frame: &DataFrame,
    target: &SchemaRef,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let polars_schema = frame.schema().to_arrow(CompatLevel::oldest());
    let fields: Vec<_> = polars_schema.iter_values().cloned().collect();
    let mut batches = Vec::new();
    for chunk in frame.iter_chunks(CompatLevel::oldest(), false) {
        let mut by_name = Vec::with_capacity(fields.len());
        for (array, field) in chunk.into_arrays().into_iter().zip(&fields) {
            by_name.push((field.name.to_string(), import(array, field)?));
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
        for field in target.fields() {
            let Some((_, array)) = by_name.iter().find(|(name, _)| name == field.name()) else {
                return Err(ArrowError::SchemaError(format!(
                    "the frame has no column `{}`",
                    field.name()
                )));
            };
            columns.push(conform(array, field)?);
        }
        batches.push(RecordBatch::try_new(target.clone(), columns)?);
    }
    Ok(batches)
}

/// Casts `array` to `field`'s type when it differs.
fn conform(array: &ArrayRef, field: &Field) -> Result<ArrayRef, ArrowError> {
    if array.data_type() == field.data_type() {
        return Ok(array.clone());
    }
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(array, field.data_type(), &options).map_err(|e| {
        ArrowError::CastError(format!(
            "column `{}` from {} to {}: {e}",
            field.name(),
            array.data_type(),
            field.data_type()
        ))
    })
}

/// Moves one polars array into arrow-rs.
fn import(
    array: Box<dyn polars_arrow::array::Array>,
    field: &polars_arrow::datatypes::Field,
) -> Result<ArrayRef, ArrowError> {
    let c_array = polars_arrow::ffi::export_array_to_c(array);
    let c_schema = polars_arrow::ffi::export_field_to_c(field);
    // SAFETY: both crates define these structs as `#[repr(C)]` copies of the Arrow C data
    // interface's `ArrowArray` and `ArrowSchema` (same fields, same order; `transmute` checks
    // the sizes). Ownership moves with the value: the release callback polars set runs once,
    // when arrow-rs drops the imported array, and polars' value is consumed here.
    let (c_array, c_schema) = unsafe {
        (
            std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(c_array),
            std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(c_schema),
        )
    };
    // SAFETY: `c_array` and `c_schema` were just exported by polars and describe each other.
    let data = unsafe { from_ffi(c_array, &c_schema) }?;
    Ok(make_array(data))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::{Array, AsArray};
    use deltalake::arrow::datatypes::{
        DataType, Decimal128Type, Field, Int64Type, Schema, TimeUnit, TimestampMicrosecondType,
    };
    use polars::prelude::{col, df, IntoLazy};

    use super::*;

    fn schema_ref(fields: Vec<Field>) -> SchemaRef {
        Arc::new(Schema::new(fields))
    }

    #[test]
    fn frames_cross_without_copying_and_cast_to_the_target_types() {
        let big = u64::MAX - 1;
        let frame = df!(
            "id" => [Some(big), None, Some(7u64)],
            "name" => [Some("张三"), Some("b"), None],
            "n" => [1u32, 2, u32::MAX],
        )
        .unwrap();
        let target = schema_ref(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("id", DataType::Decimal128(20, 0), true),
            Field::new("n", DataType::Int64, false),
        ]);
        let batches = to_record_batches(&frame, &target).unwrap();
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        assert_eq!(batch.schema(), target);
        let ids = batch.column(1).as_primitive::<Decimal128Type>();
        assert_eq!(ids.value(0), big as i128, "u64 ids stay exact");
        assert!(ids.is_null(1));
        assert_eq!(ids.value(2), 7);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "张三");
        assert!(batch.column(0).is_null(2));
        assert_eq!(
            batch.column(2).as_primitive::<Int64Type>().value(2),
            u32::MAX as i64
        );

        // Same-typed columns share polars' buffer: the values are not copied.
        let frame = df!("v" => [1i64, 2, 3]).unwrap();
        let polars_ptr = frame
            .column("v")
            .unwrap()
            .i64()
            .unwrap()
            .downcast_iter()
            .next()
            .unwrap()
            .values()
            .as_ptr();
        let target = schema_ref(vec![Field::new("v", DataType::Int64, false)]);
        let batch = &to_record_batches(&frame, &target).unwrap()[0];
        let arrow_ptr = batch
            .column(0)
            .as_primitive::<Int64Type>()
            .values()
            .as_ptr();
        assert_eq!(polars_ptr, arrow_ptr);
    }

    #[test]
    fn timestamps_become_microseconds_and_bad_casts_fail() {
        let frame = df!("t" => [1_700_000_000_123i64]).unwrap();
        let frame = frame
            .lazy()
            .with_column(col("t").cast(polars::prelude::DataType::Datetime(
                polars::prelude::TimeUnit::Milliseconds,
                Some(polars::prelude::TimeZone::UTC),
            )))
            .collect()
            .unwrap();
        let target = schema_ref(vec![Field::new(
            "t",
            deltalake::arrow::datatypes::DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into()),
            ),
            false,
        )]);
        let batch = &to_record_batches(&frame, &target).unwrap()[0];
        let values = batch.column(0).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(values.value(0), 1_700_000_000_123_000);

        let strings = df!("s" => ["not a number"]).unwrap();
        let target = schema_ref(vec![Field::new("s", DataType::Int64, false)]);
        let err = to_record_batches(&strings, &target).unwrap_err();
        assert!(err.to_string().contains("column `s`"), "{err}");
        let missing = schema_ref(vec![Field::new("nope", DataType::Int64, false)]);
        assert!(to_record_batches(&strings, &missing).is_err());
    }
}
