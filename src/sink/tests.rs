//! Unit tests of the sink helpers; the files themselves are read back in `tests/it/sinks.rs`.

use super::csv::{csv_ready, csv_schema};
use super::*;

#[test]
fn output_names_must_stay_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    assert!(out.checked_join("reports/late_rate_by_user").is_ok());
    for bad in ["", "../escape", "/abs/path", "reports/../../x"] {
        assert!(out.checked_join(bad).is_err(), "{bad:?}");
    }
    assert!(check_component("journals").is_ok());
    for bad in ["", "..", "a/b", "a\\b"] {
        assert!(check_component(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        out.relative(
            &dir.path()
                .join("tables")
                .join("users")
                .join("part-0.parquet")
        ),
        "tables/users/part-0.parquet"
    );
}

#[test]
fn temp_names_are_hidden_siblings_and_unique() {
    let a = temp_path_for(Path::new("/o/tables/t/part-0.parquet"));
    let b = temp_path_for(Path::new("/o/tables/t/part-0.parquet"));
    assert_ne!(a, b);
    assert_eq!(a.parent(), Some(Path::new("/o/tables/t")));
    let name = a.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(".part-0.parquet.") && name.ends_with(".tmp"),
        "{name}"
    );
}

#[test]
fn table_formats_skip_xlsx_and_duplicates() {
    assert_eq!(
        table_formats(&[
            Format::Xlsx,
            Format::Csv,
            Format::Parquet,
            Format::Csv,
            Format::Arrow
        ]),
        [Format::Parquet, Format::Csv, Format::Arrow]
    );
}

#[test]
fn csv_joins_list_columns_with_semicolons() {
    let lists = Series::new(
        "department_ids".into(),
        [
            Some(Series::new("".into(), [1u64, 22])),
            None,
            Some(Series::new("".into(), [3u64])),
        ],
    );
    let frame = DataFrame::new_infer_height(vec![
        Column::new("userid".into(), ["a", "b", "c"]),
        lists.into(),
    ])
    .unwrap();
    let flat = csv_ready(&frame, CsvStyle::default()).unwrap();
    assert_eq!(
        csv_schema(frame.schema(), CsvStyle::default()),
        **flat.schema()
    );
    let joined: Vec<Option<&str>> = flat
        .column("department_ids")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(joined, [Some("1;22"), None, Some("3")]);
}

#[test]
fn covering_months_leaves_an_unpartitioned_table_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let mut w = TableWriter::create(&out, "users", None, &[Format::Parquet], false).unwrap();
    w.covers(["2026-10"]);
    w.write_batch(&df!("userid" => ["a", "b"]).unwrap())
        .unwrap();
    let files = w.finish().unwrap();
    assert_eq!(files.len(), 1);
    assert!(dir.path().join(&files[0].path).exists(), "{files:?}");
}
