//! The wire as messy as real servers send it: the fixtures of `tests/fixtures/wire` (the real
//! examples' shapes with `null` lists, numbers as strings and keys left out, and a few hopeless
//! fields) served over loopback HTTP and decoded by the real client, then flattened.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::Uri;
use axum::routing::any;
use axum::Router;
use chrono_tz::Asia::Shanghai;
use polars::prelude::*;
use serde_json::Value;

use wecom_journal::flatten::{directory_tables, flatten_journals, flatten_stats, Warnings};
use wecom_journal::flatten::{Directory, LocalPaths, UNKNOWN_DEPARTMENT};
use wecom_journal::wecom::types::{
    ControlValue, DateKind, DepartmentListResponse, JournalDetail, RecordDetailResponse,
    StatListRequest, StatListResponse, UserListResponse,
};
use wecom_journal::wecom::{ClientConfig, RecordListRequest, Secret, WecomClient, WecomError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A WeCom stand-in that answers `gettoken` and, on every other path, the body set for it.
#[derive(Clone, Default)]
struct Bodies(Arc<Mutex<HashMap<String, String>>>);

impl Bodies {
    fn set(&self, path: &str, body: String) {
        self.0.lock().unwrap().insert(path.to_string(), body);
    }
}

async fn answer(State(bodies): State<Bodies>, uri: Uri) -> String {
    if uri.path() == "/cgi-bin/gettoken" {
        return r#"{"errcode":0,"errmsg":"ok","access_token":"fixture-token","expires_in":7200}"#
            .into();
    }
    let bodies = bodies.0.lock().unwrap();
    bodies
        .get(uri.path())
        .cloned()
        .unwrap_or_else(|| r#"{"errcode":40058,"errmsg":"no fixture for this path"}"#.into())
}

async fn serve(bodies: Bodies) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().fallback(any(answer)).with_state(bodies);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

fn client(addr: SocketAddr) -> Result<WecomClient, WecomError> {
    let mut config = ClientConfig::new(
        format!("http://{addr}"),
        "wwfixture",
        Secret::new("fixture-secret".to_string()),
    );
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    config.timeout = Duration::from_secs(5);
    WecomClient::new(config)
}

const DETAIL: &str = "/cgi-bin/oa/journal/get_record_detail";
const RECORDS: &str = "/cgi-bin/oa/journal/get_record_list";
const STATS: &str = "/cgi-bin/oa/journal/get_stat_list";
const DEPARTMENTS: &str = "/cgi-bin/department/list";
const USERS: &str = "/cgi-bin/user/list";

/// The detail fixture `name` fetched through the client.
async fn fetch_detail(
    bodies: &Bodies,
    client: &WecomClient,
    name: &str,
) -> Result<RecordDetailResponse, WecomError> {
    bodies.set(DETAIL, fixture(name));
    client.get_record_detail("any").await.map(|f| f.value)
}

/// The text of the body's `info` object, cut out of the body by hand (not by a JSON parser).
fn info_text(body: &str) -> &str {
    let start = body.find("\"info\"").expect("an info key");
    let open = start + body[start..].find('{').expect("an info object");
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate().skip(open) {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'{') => depth += 1,
            (false, _, b'}') => {
                depth -= 1;
                if depth == 0 {
                    return &body[open..=i];
                }
            }
            _ => {}
        }
    }
    panic!("info object not closed")
}

fn decode_error_message(err: WecomError) -> String {
    match err {
        WecomError::Decode { message, .. } => message,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn details_with_nulls_strings_and_missing_keys_decode() -> TestResult {
    let bodies = Bodies::default();
    let client = client(serve(bodies.clone()).await?)?;

    // Every list null, the submitter and a comment's author null.
    let r = fetch_detail(&bodies, &client, "detail_nulls.json").await?;
    let d = &r.info;
    assert!(d.receivers.is_empty() && d.readed_receivers.is_empty());
    assert_eq!(d.submitter.userid, "");
    assert_eq!(d.template_name, "");
    assert_eq!(d.apply_data.contents.len(), 4);
    assert_eq!(
        d.apply_data.contents[0].value,
        ControlValue::Text {
            text: "今日暂无工作".into()
        }
    );
    assert_eq!(
        d.apply_data.contents[1].value,
        ControlValue::Selector {
            kind: Some(wecom_journal::wecom::types::SelectorKind::Single),
            options: vec![]
        }
    );
    assert!(d.apply_data.contents[1].title.is_empty());
    let ControlValue::Table { rows } = &d.apply_data.contents[2].value else {
        panic!("a Table: {:?}", d.apply_data.contents[2].value);
    };
    assert_eq!(rows.len(), 2);
    assert!(rows[0].list.is_empty());
    assert_eq!(
        rows[1].list[0].value,
        ControlValue::Text { text: "".into() }
    );
    let ControlValue::Contact {
        members,
        departments,
    } = &d.apply_data.contents[3].value
    else {
        panic!("a Contact: {:?}", d.apply_data.contents[3].value);
    };
    assert_eq!((members.len(), departments.len()), (1, 0));
    assert_eq!(members[0].name, None);
    assert_eq!(d.comments.len(), 2);
    assert_eq!(d.comments[0].comment_userinfo.userid, "");
    assert_eq!(d.comments[1].tocommentid, 0);
    assert_eq!(d.comments[1].content, "");
    // What is kept is what was sent: the `info` object's bytes, nulls and indentation included.
    let body = fixture("detail_nulls.json");
    assert_eq!(r.info_raw.get(), info_text(&body));

    // Every integer a numeric string, ids above 2^53 exact.
    let r = fetch_detail(&bodies, &client, "detail_strings_for_numbers.json").await?;
    let d = &r.info;
    assert_eq!(d.report_time, 4_294_967_296);
    assert_eq!(d.comments[0].commentid, u64::MAX);
    assert_eq!(d.comments[0].tocommentid, 1 << 63);
    assert_eq!(d.comments[0].comment_time, 4_294_967_297);
    let values: Vec<&ControlValue> = d.apply_data.contents.iter().map(|c| &c.value).collect();
    assert_eq!(
        values[1],
        &ControlValue::DateRange {
            kind: Some("hour".into()),
            begin: Some(1_570_550_400),
            end: Some(1_570_593_600),
            duration_s: Some(43_200),
        }
    );
    assert_eq!(
        values[2],
        &ControlValue::Date {
            kind: Some(DateKind::Day),
            timestamp: Some(1_569_859_200),
        }
    );
    let ControlValue::Location { latitude, time, .. } = values[3] else {
        panic!("a Location: {:?}", values[3]);
    };
    // A bare number keeps its digits.
    assert_eq!(latitude.as_deref(), Some("30.547239"));
    assert_eq!(*time, Some(1_605_690_460));
    assert_eq!(
        r.info_raw.get(),
        info_text(&fixture("detail_strings_for_numbers.json"))
    );

    // The 17-shape example: no journal_uuid, no ids, no titles, no people; a Date of a kind
    // this crate does not know keeps its timestamp; Tips sent as null.
    let r = fetch_detail(&bodies, &client, "detail_missing_keys.json").await?;
    let d = &r.info;
    assert_eq!(d.journal_uuid, "");
    assert_eq!(d.template_id, None);
    assert_eq!(d.apply_data.contents.len(), 18);
    assert!(d
        .apply_data
        .contents
        .iter()
        .all(|c| c.value != ControlValue::Unknown));
    assert_eq!(
        d.apply_data.contents[4].value,
        ControlValue::Date {
            kind: None,
            timestamp: Some(4_294_967_296),
        }
    );
    Ok(())
}

#[tokio::test]
async fn a_hopeless_field_is_an_error_that_names_its_path() -> TestResult {
    let bodies = Bodies::default();
    let client = client(serve(bodies.clone()).await?)?;
    let cases = [
        (DETAIL, "detail_bad_report_time.json", "info.report_time: "),
        (
            DETAIL,
            "detail_bad_comment_time.json",
            "info.comments[1].comment_time: ",
        ),
        (
            RECORDS,
            "record_list_bad_uuid.json",
            "journaluuid_list[2]: ",
        ),
        (
            STATS,
            "stat_list_bad_flag.json",
            "stat_list[0].report_list[0].itemlist[0].flag: ",
        ),
        (
            USERS,
            "user_list_bad_department.json",
            "userlist[1].department[1]: ",
        ),
    ];
    for (path, name, want) in cases {
        bodies.set(path, fixture(name));
        let err = match path {
            DETAIL => client.get_record_detail("any").await.map(|_| ()),
            RECORDS => client
                .get_record_list(&RecordListRequest {
                    starttime: 0,
                    endtime: 1,
                    cursor: 0,
                    limit: 100,
                    filters: vec![],
                })
                .await
                .map(|_| ()),
            STATS => client
                .get_stat_list(&StatListRequest {
                    template_id: "t".into(),
                    starttime: 0,
                    endtime: 1,
                })
                .await
                .map(|_| ()),
            _ => client.user_list(1).await.map(|_| ()),
        }
        .expect_err(name);
        let message = decode_error_message(err);
        assert!(message.starts_with(want), "{name}: {message}");
    }
    // Decode errors are not retried: one call per case (plus the token).
    let stats = client.stats();
    assert_eq!(stats.retries.values().sum::<u64>(), 0, "{stats:?}");
    Ok(())
}

#[tokio::test]
async fn lists_stats_and_the_directory_decode_with_nulls_and_strings() -> TestResult {
    let bodies = Bodies::default();
    let client = client(serve(bodies.clone()).await?)?;
    let list_request = RecordListRequest {
        starttime: 0,
        endtime: 1,
        cursor: 0,
        limit: 100,
        filters: vec![],
    };

    bodies.set(RECORDS, fixture("record_list_strings.json"));
    let page = client.get_record_list(&list_request).await?.value;
    assert_eq!(page.journaluuid_list.len(), 10);
    assert_eq!((page.next_cursor, page.endflag), (34, 0));
    bodies.set(RECORDS, fixture("record_list_null.json"));
    let page = client.get_record_list(&list_request).await?.value;
    assert!(page.journaluuid_list.is_empty());
    assert_eq!((page.next_cursor, page.endflag), (0, 1));

    let stat_request = StatListRequest {
        template_id: "t".into(),
        starttime: 0,
        endtime: 1,
    };
    bodies.set(STATS, fixture("stat_list_strings_nulls.json"));
    let fetched = client.get_stat_list(&stat_request).await?;
    assert_eq!(fetched.raw, fixture("stat_list_strings_nulls.json"));
    let cycles = &fetched.value.stat_list;
    assert_eq!(cycles.len(), 2);
    let c = &cycles[0];
    assert_eq!(
        (c.cycle_begin_time, c.cycle_end_time),
        (1_606_147_200, 1_606_233_600)
    );
    assert_eq!(c.report_type, 2);
    assert_eq!(c.report_range.party_list[0].open_partyid, "1");
    assert!(c.report_range.tag_list.is_empty() && c.white_range.user_list.is_empty());
    assert!(c.receivers.tag_list.is_empty() && c.receivers.leader_list.is_empty());
    let item = &c.report_list[0].itemlist[0];
    assert_eq!((item.reporttime, item.flag), (1_606_218_548, 1));
    assert!(c.unreport_list[0].itemlist.is_empty());
    assert_eq!(c.unreport_list[1].itemlist[0].journaluuid, "");
    let c = &cycles[1];
    assert!(c.report_list.is_empty() && c.report_range.user_list.is_empty());
    assert_eq!(c.unreport_list[0].user.userid, "");
    assert_eq!(c.cycle_end_time, 1_606_320_000);

    bodies.set(STATS, fixture("stat_list_u64_edges_strings.json"));
    let c = &client.get_stat_list(&stat_request).await?.value.stat_list[0];
    assert_eq!(c.stat_end_time, u64::MAX);
    assert_eq!(c.receivers.leader_list[0].level, u64::MAX);
    assert_eq!(c.report_list[0].itemlist[0].reporttime, 4_294_967_299);
    bodies.set(STATS, fixture("stat_list_missing.json"));
    assert!(client
        .get_stat_list(&stat_request)
        .await?
        .value
        .stat_list
        .is_empty());

    bodies.set(DEPARTMENTS, fixture("department_list_strings.json"));
    let departments = client.department_list(None).await?.value;
    let ids: Vec<(u64, u64)> = departments
        .department
        .iter()
        .map(|d| (d.id, d.parentid))
        .collect();
    assert_eq!(ids, [(2, 1), (3, 2), (1, 0)]);
    bodies.set(DEPARTMENTS, fixture("department_list_null.json"));
    assert!(client
        .department_list(None)
        .await?
        .value
        .department
        .is_empty());

    bodies.set(USERS, fixture("user_list_strings.json"));
    let users = client.user_list(1).await?.value;
    let got: Vec<(&str, &[u64], Option<u64>)> = users
        .userlist
        .iter()
        .map(|u| {
            (
                u.userid.as_str(),
                u.department.as_slice(),
                u.main_department,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("zhangsan", &[1u64, 2][..], Some(2)),
            ("lisi", &[3][..], None),
            ("wangwu", &[][..], None),
            ("zhaoliu", &[3][..], Some(3)),
        ]
    );
    Ok(())
}

fn decode<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn strings(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    let column = df.column(column).unwrap().str().unwrap();
    (0..column.len())
        .map(|i| column.get(i).map(str::to_string))
        .collect()
}

#[test]
fn messy_responses_flatten_like_clean_ones() {
    let departments: DepartmentListResponse = decode("department_list_strings.json");
    let users: UserListResponse = decode("user_list_strings.json");
    let dir = Directory::from_api(&departments, &[users]);
    let (department_table, user_table) = directory_tables(&dir).unwrap();
    assert_eq!(department_table.height(), 3);
    assert_eq!(user_table.height(), 4);
    assert_eq!(
        dir.department_of("zhangsan"),
        (Some(2), "广州研发中心".into())
    );
    assert_eq!(dir.department_of("zhaoliu"), (Some(3), "邮箱产品部".into()));
    assert_eq!(
        dir.department_of("wangwu"),
        (None, UNKNOWN_DEPARTMENT.into())
    );

    let mut details = vec![];
    for name in [
        "detail_nulls.json",
        "detail_strings_for_numbers.json",
        "detail_missing_keys.json",
    ] {
        let mut d = decode::<RecordDetailResponse>(name).info;
        if d.journal_uuid.is_empty() {
            // As extract does: stored under the uuid asked for.
            d.journal_uuid = format!("asked-for-{name}");
        }
        details.push(d);
    }
    // The store decodes the `info` text on its own: the same journal.
    let again: JournalDetail = serde_json::from_str(
        decode::<RecordDetailResponse>("detail_nulls.json")
            .info_raw
            .get(),
    )
    .unwrap();
    assert_eq!(again, details[0]);

    let mut warnings = Warnings::default();
    let tables =
        flatten_journals(&details, &dir, Shanghai, &LocalPaths::none(), &mut warnings).unwrap();
    let journals = &tables.journals;
    assert_eq!(journals.height(), 3);
    assert_eq!(
        strings(journals, "journal_uuid")[2].as_deref(),
        Some("asked-for-detail_missing_keys.json")
    );
    // No receivers (null), two comments; the second journal's comment ids above 2^53 exact.
    assert_eq!(tables.journal_receivers.height(), 1);
    assert_eq!(tables.journal_comments.height(), 3);
    let ids: Vec<Option<u64>> = tables
        .journal_comments
        .column("comment_id")
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .collect();
    assert!(ids.contains(&Some(u64::MAX)), "{ids:?}");

    let stats: StatListResponse = decode("stat_list_strings_nulls.json");
    let tables = flatten_stats(&stats.stat_list, &dir, Shanghai).unwrap();
    assert_eq!(tables.stat_cycles.height(), 2);
    // user2 reported (late), user1 and user3 did not; the second cycle's unnamed user too.
    let status: Vec<Option<String>> = strings(&tables.stat_items, "status");
    assert_eq!(status.len(), 4, "{status:?}");
}

/// The `info` text is found by hand the same way the client keeps it.
#[test]
fn info_text_helper_agrees_with_a_parser() {
    let body = fixture("detail_bad_comment_time.json");
    let v: Value = serde_json::from_str(&body).unwrap();
    let cut: Value = serde_json::from_str(info_text(&body)).unwrap();
    assert_eq!(cut, v["info"]);
}
