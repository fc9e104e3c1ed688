//! The engines a data team reads the local Parquet datasets with: Spark, DuckDB, pyarrow,
//! polars and pandas.

use super::*;

/// The local Parquet datasets through every engine: Spark, DuckDB, pyarrow (today's and 14),
/// polars and pandas read every table without a flag, ids above 2^63 exact, required columns
/// declared not null.
#[test]
fn every_engine_reads_the_parquet_datasets() {
    let Some(python) = readers("pyarrow, polars, duckdb, pandas, pyspark") else {
        return;
    };
    let tables = org_tables(7);
    let dir = tempfile::tempdir().unwrap();
    let root = OutputRoot::local(dir.path());
    write_lake(&root, dir.path(), &tables, &delta_run(1));

    let id_columns = |name: &str| -> Vec<&'static str> {
        spec(name)
            .columns
            .iter()
            .filter(|c| c.dtype == wecom_journal::flatten::ColumnType::UInt64)
            .map(|c| c.name)
            .collect()
    };
    let args: Vec<String> = tables
        .keys()
        .map(|t| format!("{t}:{}", id_columns(t).join(",")))
        .collect();
    let max_of = |name: &str, column: &str| -> String {
        let rows = frame_rows(&tables[name], &[column.to_owned()]);
        rows.iter()
            .filter_map(|r| r[0].as_str().map(|s| s.parse::<u64>().unwrap()))
            .max()
            .map_or("None".into(), |m| m.to_string())
    };
    let mut engines: Vec<(String, PathBuf)> = ["pyarrow", "polars", "duckdb", "pandas", "spark"]
        .iter()
        .map(|e| (e.to_string(), python.clone()))
        .collect();
    match std::env::var_os("WECOM_JOURNAL_PYARROW14_PYTHON") {
        Some(old) => engines.push(("pyarrow".into(), PathBuf::from(old))),
        None => {
            let _: Option<()> =
                missing("WECOM_JOURNAL_PYARROW14_PYTHON (a Python with pyarrow==14.0.2)");
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lake/engines.py");
    for (engine, python) in engines {
        let output = Command::new(&python)
            .arg(script)
            .arg(dir.path())
            .arg(&engine)
            .args(&args)
            .output()
            .unwrap();
        let result: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{engine}: {e}: {}", String::from_utf8_lossy(&output.stderr))
        });
        let label = format!("{engine} {}", result["version"]);
        assert!(
            result.get("error").is_none(),
            "{label}: {}",
            result["error"]
        );
        for (name, frames) in &tables {
            let got = &result["tables"][name];
            assert!(
                got.get("error").is_none(),
                "{label} {name}: {}",
                got["error"]
            );
            let rows: usize = frames.iter().map(|f| f.height()).sum();
            assert_eq!(got["rows"].as_u64(), Some(rows as u64), "{label} {name}");
            for column in id_columns(name) {
                assert_eq!(
                    got["max"][column].as_str(),
                    Some(max_of(name, column).as_str()),
                    "{label} {name}.{column}: the largest id, exact"
                );
            }
            if engine == "pyarrow" {
                for column in spec(name).columns {
                    let ty = got["types"][column.name].as_str().unwrap();
                    assert_eq!(
                        ty.ends_with(" not null"),
                        !column.nullable,
                        "{label} {name}.{column:?}: {ty}"
                    );
                    assert!(!ty.contains("view"), "{label} {name}.{}: {ty}", column.name);
                }
            }
        }
        if engine == "spark" {
            let types = &result["tables"]["journal_comments"]["types"];
            assert_eq!(types["comment_id"], "decimal(20,0)", "{types}");
            assert_eq!(types["comment_time"], "timestamp", "{types}");
            assert_eq!(types["report_month"], "string", "{types}");
        }
    }
}
