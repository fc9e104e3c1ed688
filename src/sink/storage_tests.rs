//! Unit tests of the output root: location parsing, secrets, local operations. The S3 side is
//! exercised against a real S3-compatible server in `tests/it/lake.rs`.

use super::*;

const SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN";
const KEY_ID: &str = "AKIAEXAMPLEKEYID";

fn env() -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
        ("AWS_REGION", "eu-west-3"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ALLOW_HTTP", "true"),
        ("HOME", "/root"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn locations_parse_into_local_dirs_and_s3_prefixes() {
    let settings = StorageSettings::default();
    let local = OutputRoot::parse_with_env("output/x", &settings, env()).unwrap();
    assert!(local.is_local());
    assert_eq!(local.local_dir(), Some(Path::new("output/x")));

    let s3 = OutputRoot::parse_with_env("s3://lake/wecom/journal/", &settings, env()).unwrap();
    assert!(!s3.is_local());
    assert_eq!(s3.to_string(), "s3://lake/wecom/journal");
    assert_eq!(
        s3.url_of("delta/journals").unwrap().as_str(),
        "s3://lake/wecom/journal/delta/journals"
    );
    let bare = OutputRoot::parse_with_env("s3://lake", &settings, env()).unwrap();
    assert_eq!(bare.to_string(), "s3://lake");
    assert_eq!(bare.url_of("a/b").unwrap().as_str(), "s3://lake/a/b");

    for bad in [
        "gs://bucket/x",
        "s3://",
        "s3:///prefix",
        "s3://b/a/../c",
        "s3://b/a//c",
    ] {
        let err = OutputRoot::parse_with_env(bad, &settings, env()).unwrap_err();
        assert!(matches!(err, StorageError::Location { .. }), "{bad}: {err}");
        assert!(err.hint().is_some(), "{bad}");
    }
}

#[test]
fn settings_override_the_environment_and_name_no_secret() {
    let settings = StorageSettings {
        endpoint: Some("http://minio.internal:9000".into()),
        region: Some("cn-north-1".into()),
        path_style: Some(true),
        allow_http: Some(true),
    };
    let root = OutputRoot::parse_with_env("s3://lake/p", &settings, env()).unwrap();
    let debug = format!("{root:?}");
    assert!(debug.contains("minio.internal:9000"), "{debug}");
    assert!(debug.contains("cn-north-1"), "{debug}");
    let shown = format!("{root} {debug} {:?}", settings);
    for secret in [SECRET, TOKEN, KEY_ID] {
        assert!(!shown.contains(secret), "{shown}");
    }
    // The client itself (which deltalake debug-logs) must not print them either.
    let (_, store) = root.s3_store().unwrap();
    let client = format!("{store:?} {store}");
    for secret in [SECRET, TOKEN] {
        assert!(!client.contains(secret), "{client}");
    }
}

#[test]
fn settings_come_from_a_job_table_and_refuse_unknown_or_secret_keys() {
    let settings: StorageSettings = toml::from_str(
        "endpoint = \"http://127.0.0.1:9000\"\nregion = \"us-east-1\"\npath_style = true\nallow_http = true\n",
    )
    .unwrap();
    assert_eq!(settings.path_style, Some(true));
    let err = toml::from_str::<StorageSettings>("secret_access_key = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("secret_access_key"), "{err}");

    let with_credentials = StorageSettings {
        endpoint: Some(format!("http://{KEY_ID}:{SECRET}@127.0.0.1:9000")),
        ..StorageSettings::default()
    };
    let err = OutputRoot::parse_with_env("s3://lake", &with_credentials, env()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("must not carry credentials"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn remote_errors_are_scrubbed_of_credentials() {
    // A real failed request is checked against the S3 server in tests/it/lake.rs.
    let root =
        OutputRoot::parse_with_env("s3://lake/p", &StorageSettings::default(), env()).unwrap();
    let leaky = format!("signature for {KEY_ID} with {SECRET} and {TOKEN} rejected");
    let scrubbed = root.scrub(&leaky);
    for secret in [SECRET, TOKEN, KEY_ID] {
        assert!(!scrubbed.contains(secret), "{scrubbed}");
    }
}

#[test]
fn names_must_stay_under_the_root() {
    for good in ["a", "tables/t/report_month=2026-10/part-0.parquet"] {
        assert!(checked_rel(good).is_ok(), "{good}");
    }
    for bad in ["", "/abs", "a/../b", "./a", "a//b", "a/", "a\\b"] {
        assert!(checked_rel(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn local_roots_put_list_read_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let root = OutputRoot::local(dir.path().join("out"));
    assert_eq!(root.list("").unwrap(), []);
    assert_eq!(root.put("runs/r1.json", &b"{\"a\":1}"[..]).unwrap(), 7);
    // A replacement is atomic (rename over the old file) and leaves no temporary behind.
    root.put("runs/r1.json", &b"{\"a\":22}"[..]).unwrap();
    let staged = dir.path().join("staged.bin");
    fs::write(&staged, b"0123456789").unwrap();
    assert_eq!(
        root.put_file("tables/t/part-0.parquet", &staged).unwrap(),
        10
    );
    assert!(!staged.exists());
    assert_eq!(
        root.list("").unwrap(),
        [
            StoredObject {
                path: "runs/r1.json".into(),
                bytes: 8
            },
            StoredObject {
                path: "tables/t/part-0.parquet".into(),
                bytes: 10
            },
        ]
    );
    assert_eq!(root.list("tables").unwrap().len(), 1);
    assert_eq!(root.list("nothing/here").unwrap(), []);
    assert_eq!(&root.get("runs/r1.json").unwrap()[..], b"{\"a\":22}");
    root.delete("runs/r1.json").unwrap();
    root.delete("runs/r1.json").unwrap();
    assert_eq!(root.list("runs").unwrap(), []);
    let url = root.url_of("delta/journals").unwrap();
    assert_eq!(url.scheme(), "file");
    assert!(url.path().ends_with("/out/delta/journals/"), "{url}");
}

#[test]
fn block_on_works_inside_and_outside_a_runtime() {
    assert_eq!(block_on(async { 1 + 1 }), 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async { block_on(async { 3 }) }), 3);
}
