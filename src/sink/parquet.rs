//! The Parquet file writer: polars' own Parquet encoder (polars-parquet) driven with an Arrow
//! schema we choose, so that every engine reads the files without a flag.
//!
//! Why not `ParquetWriter::batched`: it declares every column optional and embeds an Arrow
//! schema of the newest compat level, whose `string_view` type pyarrow < 15 cannot read
//! ("Unrecognized type: 24") and which pandas cannot turn into objects inside lists. Here the
//! columns a table declares non-nullable are written `required`, and strings and lists are
//! embedded as `large_string` / `large_list` (polars' oldest compat level, as for Arrow IPC).
//! The Parquet logical types are unchanged: UTF8 strings, `UINT_64` ids, `TIMESTAMP(ms, UTC)`.

use std::collections::BTreeSet;
use std::io::Write;

use polars::io::parquet::write::{get_encodings, ParquetCompression, StatisticsOptions};
use polars::prelude::*;
use polars_parquet::write::{
    row_group_iter, CompressionOptions, FileWriter, Version, WriteOptions,
};

/// Writes one Parquet file, a row group per [`ParquetFile::write`].
pub(super) struct ParquetFile<W: Write> {
    writer: FileWriter<W>,
    options: WriteOptions,
    /// Columns written `required`: a null in one is refused rather than written as a value.
    required: Vec<String>,
}

impl<W: Write> ParquetFile<W> {
    /// `required`: the columns of `schema` that hold no null (the table's non-nullable ones).
    pub(super) fn create(
        sink: W,
        schema: &Schema,
        required: &BTreeSet<String>,
    ) -> PolarsResult<Self> {
        let mut arrow_schema = schema.to_arrow(CompatLevel::oldest());
        let mut required_present = Vec::new();
        for field in arrow_schema.iter_values_mut() {
            if required.contains(field.name.as_str()) {
                field.is_nullable = false;
                required_present.push(field.name.to_string());
            }
        }
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::from(ParquetCompression::Zstd(None)),
            version: Version::V1,
            data_page_size: None,
        };
        let writer = FileWriter::try_new(sink, arrow_schema, options)?;
        Ok(ParquetFile {
            writer,
            options,
            required: required_present,
        })
    }

    /// Appends `batch` (whose chunks are aligned) as one row group per chunk.
    pub(super) fn write(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        for name in &self.required {
            let nulls = batch.column(name.as_str())?.null_count();
            if nulls > 0 {
                polars_bail!(ComputeError: "column `{name}` is required but holds {nulls} null(s)");
            }
        }
        let fields = self.writer.parquet_schema().fields().to_vec();
        let encodings = get_encodings(self.writer.schema());
        for chunk in batch.iter_chunks(CompatLevel::oldest(), false) {
            let rows = chunk.len() as u64;
            if rows == 0 {
                continue;
            }
            let group = row_group_iter(chunk, encodings.clone(), fields.clone(), self.options);
            self.writer.write(rows, group)?;
        }
        Ok(())
    }

    /// Writes the footer (with the Arrow schema); returns the file's size.
    pub(super) fn finish(&mut self) -> PolarsResult<u64> {
        self.writer.end(None)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use polars_parquet::parquet::schema::Repetition;
    use polars_parquet::read::read_metadata;

    use super::*;

    #[test]
    fn required_columns_reach_the_file_and_read_back() {
        let frame = df!(
            "id" => [u64::MAX, 1],
            "name" => [Some("张三"), None],
            "tags" => [Series::new("".into(), ["a", "b"]), Series::new("".into(), ["c"])],
        )
        .unwrap();
        let required: BTreeSet<String> = ["id".to_owned(), "tags".to_owned()].into();
        let mut bytes = Vec::new();
        let mut file = ParquetFile::create(&mut bytes, frame.schema(), &required).unwrap();
        file.write(&frame).unwrap();
        file.finish().unwrap();
        drop(file);

        let metadata = read_metadata(&mut Cursor::new(&bytes)).unwrap();
        let repetitions: Vec<Repetition> = metadata
            .schema()
            .fields()
            .iter()
            .map(|f| f.get_field_info().repetition)
            .collect();
        assert_eq!(
            repetitions,
            [
                Repetition::Required,
                Repetition::Optional,
                Repetition::Required
            ]
        );
        // (What the embedded Arrow schema declares is what pyarrow 14 reads: checked by the
        // engines test in tests/it/lake.rs, since polars maps large strings to views on read.)
        let back = ParquetReader::new(Cursor::new(bytes)).finish().unwrap();
        assert!(back.equals_missing(&frame), "{back}");
    }

    #[test]
    fn a_null_in_a_required_column_is_refused() {
        let frame = df!("id" => [Some(1u64), None]).unwrap();
        let required: BTreeSet<String> = ["id".to_owned()].into();
        let mut file = ParquetFile::create(Vec::new(), frame.schema(), &required).unwrap();
        let err = file.write(&frame).unwrap_err().to_string();
        assert!(err.contains("`id` is required but holds 1 null"), "{err}");
    }
}
