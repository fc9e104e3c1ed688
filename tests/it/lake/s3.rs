//! Object storage: the lake written to a real S3-compatible server and read back through
//! the S3 API, a sandbox run to `s3://` against its local twin, and storage errors.

use super::*;

/// A run to `s3://…` and the same run to a local directory, read back by pyarrow (its own S3
/// client), polars, deltalake and a Delta log replay; then a re-run of the same months.
#[test]
fn s3_and_local_lakes_read_back_equal_and_a_rerun_adds_one_version() {
    let Some((python, server)) = s3_and_readers() else {
        return;
    };
    server.create_bucket("lake");
    let tables = org_tables(7);
    let table_names: Vec<&str> = tables.keys().copied().collect();
    let comment_ids = frame_rows(&tables["journal_comments"], &["comment_id".to_owned()]);
    assert!(
        comment_ids
            .iter()
            .any(|id| id[0].as_str().unwrap().parse::<u64>().unwrap() > i64::MAX as u64),
        "the org has ids above i64::MAX, which must come back exact"
    );

    let dir = tempfile::tempdir().unwrap();
    let s3 = server.root("s3://lake/wecom/journal");
    let local = OutputRoot::local(dir.path().join("local"));
    let first = write_lake(&s3, &dir.path().join("staging"), &tables, &delta_run(1));
    write_lake(&local, &dir.path().join("unused"), &tables, &delta_run(1));
    assert!(
        first.iter().all(|c| c.committed && c.version == 0),
        "{first:?}"
    );

    // The objects: one Parquet file per partition, the Delta logs, no temporary names.
    let objects = s3.list("").unwrap();
    let paths = names(&objects);
    assert!(paths.iter().all(|p| !p.contains(".tmp")), "{paths:?}");
    for month in ["2026-10", "2026-11"] {
        let dir = format!("tables/journals/report_month={month}/");
        let parts: Vec<_> = paths.iter().filter(|p| p.starts_with(&dir)).collect();
        assert_eq!(parts.len(), 1, "{dir}: {parts:?}");
        assert!(parts[0].ends_with(".parquet"), "{parts:?}");
    }
    let users: Vec<_> = paths
        .iter()
        .filter(|p| p.starts_with("tables/users/"))
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0].starts_with("tables/users/part-"), "{users:?}");
    for table in &table_names {
        let log = format!("delta/{table}/_delta_log/00000000000000000000.json");
        assert!(paths.contains(&log.as_str()), "{log} in {paths:?}");
    }
    // The staging directory gave everything away.
    let staged = files_under(&dir.path().join("staging"));
    assert!(
        staged.is_empty(),
        "staged files are removed once uploaded: {staged:?}"
    );

    let from_s3 = read_back(
        &python,
        "s3://lake/wecom/journal",
        &server.env(),
        &table_names,
    );
    let versions = assert_read_back(&from_s3, &tables);
    assert!(versions.values().all(|v| *v == 0), "{versions:?}");
    let from_local = read_back(
        &python,
        dir.path().join("local").to_str().unwrap(),
        &[],
        &table_names,
    );
    assert_read_back(&from_local, &tables);

    // A re-run of the same months: the same rows, one more version per table, the old
    // Parquet files gone.
    let second = write_lake(&s3, &dir.path().join("staging"), &tables, &delta_run(2));
    assert!(
        second.iter().all(|c| c.committed && c.version == 1),
        "{second:?}"
    );
    assert!(
        second.iter().all(|c| c.files_removed > 0),
        "each re-run commit removes the replaced files: {second:?}"
    );
    let again = read_back(
        &python,
        "s3://lake/wecom/journal",
        &server.env(),
        &table_names,
    );
    let versions = assert_read_back(&again, &tables);
    assert!(versions.values().all(|v| *v == 1), "{versions:?}");
    let objects = s3.list("tables/journals").unwrap();
    assert_eq!(
        objects.len(),
        2,
        "one file per month: {:?}",
        names(&objects)
    );
    assert!(
        objects.iter().all(|o| !paths.contains(&o.path.as_str())),
        "the re-run's files have new names"
    );

    // A retry of run 2 finds its transaction and changes nothing.
    let retry = write_delta(&s3, "journals", &tables["journals"], &delta_run(2));
    assert_eq!((retry.committed, retry.version), (false, 1));
}

/// A failed request (a bucket that does not exist) names the object, gives a hint, and holds no
/// credential.
#[test]
fn storage_errors_name_the_object_and_hold_no_credential() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let root = server.root("s3://no-such-bucket/p");
    let err = root.put("runs/r.json", &b"{}"[..]).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("s3://no-such-bucket/p/runs/r.json"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(err.hint().is_some(), "{text}");
    let debug = format!("{root:?} {root}");
    assert!(!debug.contains(SECRET), "{debug}");
}

/// `run --sandbox` with `output.dir = "s3://…"`: every output goes to the bucket (and the store
/// stays local, at `store.path`), the datasets and Delta tables read back through the S3 API
/// equal to the same run written to a local directory, and a re-run of the range keeps the row
/// counts and adds one Delta version per table. `check` finds the bucket writable.
#[test]
fn a_sandbox_run_to_s3_equals_the_local_run_and_a_rerun_adds_one_delta_version() {
    let Some((python, server)) = s3_and_readers() else {
        return;
    };
    server.create_bucket("sandbox");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("state/store.sqlite");
    let storage = format!(
        "[output.storage]\nendpoint = \"{}\"\nallow_http = true\npath_style = true\n\
         [store]\npath = \"{}\"\n",
        server.endpoint,
        store.display()
    );
    let location = "s3://sandbox/wecom/journal";
    let remote = sandbox_job(&dir.path().join("s3.toml"), location, &storage);
    let local_dir = dir.path().join("local");
    let local = sandbox_job(
        &dir.path().join("local.toml"),
        local_dir.to_str().unwrap(),
        "",
    );

    // `check` probes the bucket (its API checks fail: the job has no credentials).
    let output_line = output_check(&remote, server);
    assert_eq!(output_line["status"], "pass", "{output_line}");
    assert!(
        output_line["summary"]
            .as_str()
            .unwrap()
            .starts_with("s3://sandbox/wecom/journal is writable"),
        "{output_line}"
    );
    let root = server.root(location);
    assert!(root.list("").unwrap().is_empty(), "check leaves nothing");
    let no_bucket = sandbox_job(&dir.path().join("nob.toml"), "s3://no-bucket/x", &storage);
    let line = output_check(&no_bucket, server);
    assert_eq!(line["status"], "fail", "{line}");
    assert!(
        line["summary"]
            .as_str()
            .unwrap()
            .contains("s3://no-bucket/x/"),
        "{line}"
    );

    run_sandbox(&remote, server);
    run_sandbox(&local, server);
    assert!(store.exists(), "the store is local, at store.path");

    // The objects: datasets, reports in a tree per format with their range, Delta logs, the
    // manifest; no store, no temporary name.
    let objects = root.list("").unwrap();
    let paths = names(&objects);
    assert!(
        paths
            .iter()
            .all(|p| !p.contains(".tmp") && !p.ends_with(".sqlite")),
        "{paths:?}"
    );
    for want in [
        "tables/journals/report_month=2026-10/part-",
        "tables/journals/report_month=2026-11/part-",
        "csv/tables/journals/report_month=2026-11/part-",
        "delta/journals/_delta_log/00000000000000000000.json",
        "delta/users/_delta_log/00000000000000000000.json",
        "reports/late_rate_by_user/range=2026-10-29_2026-11-03/late_rate_by_user.parquet",
        "csv/reports/late_rate_by_user/range=2026-10-29_2026-11-03/late_rate_by_user.csv",
        "runs/",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(want)),
            "{want} in {paths:?}"
        );
    }
    let manifest = objects
        .iter()
        .find(|o| o.path.starts_with("runs/"))
        .unwrap();
    let manifest: Value = serde_json::from_slice(&root.get(&manifest.path).unwrap()).unwrap();
    assert_eq!(manifest["status"], "succeeded", "{manifest}");
    assert!(!manifest.to_string().contains(SECRET));
    let delta = manifest["delta"].as_array().unwrap();
    assert_eq!(delta.len(), flatten::TABLES.len(), "{manifest}");

    let table_names: Vec<&str> = flatten::TABLES.iter().map(|t| t.name).collect();
    let from_s3 = read_back(&python, location, &server.env(), &table_names);
    let from_local = read_back(&python, local_dir.to_str().unwrap(), &[], &table_names);
    let mut journals = 0;
    for name in &table_names {
        let (s3, local) = (&from_s3["tables"][name], &from_local["tables"][name]);
        assert_eq!(s3["columns"], local["columns"], "{name}");
        assert_eq!(s3["rows"], local["rows"], "{name}: S3 and local rows");
        for reader in [s3, local] {
            for (which, verdict) in reader["readers"].as_object().unwrap() {
                assert_eq!(verdict, "same", "{name}: {which}");
            }
            assert_eq!(reader["delta_version"], 0, "{name}");
        }
        if *name == "journals" {
            journals = s3["rows"].as_array().unwrap().len();
        }
    }
    assert!(journals > 0, "the sandbox wrote journals");

    // A re-run of the same range: the same rows, one more Delta version per table.
    run_sandbox(&remote, server);
    let again = read_back(&python, location, &server.env(), &table_names);
    for name in &table_names {
        let (before, after) = (&from_s3["tables"][name], &again["tables"][name]);
        assert_eq!(
            after["rows"].as_array().unwrap().len(),
            before["rows"].as_array().unwrap().len(),
            "{name}: rows after the re-run"
        );
        assert_eq!(after["delta_version"], 1, "{name}");
    }
}

/// `check JOB --format json` with the S3 server's environment: its `output` line (the report
/// holds no credential).
fn output_check(job: &Path, server: &S3Server) -> Value {
    let check = crate::common::bin()
        .args(["check", job.to_str().unwrap(), "--format", "json"])
        .envs(server.env())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(!text.contains(SECRET), "{text}");
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "output")
        .unwrap()
        .clone()
}
