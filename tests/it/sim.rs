//! The simulator over real HTTP (raw reqwest, not the project's client): tokens, paging,
//! windows, quotas, stats consistency, control shapes, directory, wedrive, permissions, faults,
//! counters and the `wecom-journal sim` command.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone};
use serde_json::{json, Value};
use wecom_journal::sim::{Org, SimConfig, SimCounters, SimHandle};
use wecom_journal::wecom::types::ControlValue;

const LIST: &str = "/cgi-bin/oa/journal/get_record_list";
const DETAIL: &str = "/cgi-bin/oa/journal/get_record_detail";
const STATS: &str = "/cgi-bin/oa/journal/get_stat_list";
const WEDRIVE: &str = "/cgi-bin/oa/journal/download_wedrive_file";

fn config() -> SimConfig {
    SimConfig {
        users: 24,
        ..SimConfig::default()
    }
}

async fn start(config: SimConfig) -> SimHandle {
    SimHandle::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn get_json(c: &reqwest::Client, url: String) -> Value {
    let r = c.get(url).send().await.expect("request");
    assert_eq!(r.status(), 200);
    serde_json::from_str(&r.text().await.unwrap()).expect("JSON body")
}

async fn token(c: &reqwest::Client, h: &SimHandle) -> String {
    let v = get_json(
        c,
        format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            h.base_url, h.corp_id, h.secret
        ),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    v["access_token"].as_str().unwrap().to_string()
}

async fn post(c: &reqwest::Client, h: &SimHandle, path: &str, token: &str, body: Value) -> Value {
    let r = c
        .post(format!("{}{path}?access_token={token}", h.base_url))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    serde_json::from_str(&r.text().await.unwrap()).expect("JSON body")
}

fn local_midnight(cfg: &SimConfig, d: NaiveDate) -> i64 {
    cfg.timezone
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp()
}

/// Pages the record list to the end; checks the cursor arithmetic on the way.
async fn list_all(
    c: &reqwest::Client,
    h: &SimHandle,
    tok: &str,
    start: i64,
    end: i64,
    limit: u64,
    filters: Value,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = 0u64;
    loop {
        let v = post(c, h, LIST, tok, json!({"starttime": start, "endtime": end, "cursor": cursor, "limit": limit, "filters": filters})).await;
        assert_eq!(v["errcode"], 0, "{v}");
        let page: Vec<String> = v["journaluuid_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert!(page.len() as u64 <= limit);
        ids.extend(page.iter().cloned());
        assert_eq!(
            v["next_cursor"].as_u64().unwrap(),
            cursor + page.len() as u64
        );
        cursor = v["next_cursor"].as_u64().unwrap();
        if v["endflag"] == 1 {
            break;
        }
        assert_eq!(page.len() as u64, limit, "a page before the last is full");
    }
    ids
}

#[tokio::test]
async fn gettoken_checks_corp_and_secret() {
    let h = start(config()).await;
    let c = http();
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            h.base_url, h.corp_id, h.secret
        ),
    )
    .await;
    assert_eq!(
        (v["errcode"].as_i64(), v["expires_in"].as_i64()),
        (Some(0), Some(7200))
    );
    assert!(v["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret=wrong",
            h.base_url, h.corp_id
        ),
    )
    .await;
    assert_eq!(v["errcode"], 40001);
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/gettoken?corpid=wwother&corpsecret={}",
            h.base_url, h.secret
        ),
    )
    .await;
    assert_eq!(v["errcode"], 40013);
    assert_eq!(h.counters().tokens_issued, 1);
}

#[tokio::test]
async fn access_token_missing_invalid_and_expired() {
    let h = start(config()).await;
    let c = http();
    let body = json!({"journaluuid": h.org.journals[0].journal_uuid});
    let r = c
        .post(format!("{}{DETAIL}", h.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["errcode"], 41001);
    assert_eq!(
        post(&c, &h, DETAIL, "not-a-token", body.clone()).await["errcode"],
        40014
    );
    let tok = token(&c, &h).await;
    assert_eq!(post(&c, &h, DETAIL, &tok, body.clone()).await["errcode"], 0);
    h.expire_tokens();
    assert_eq!(
        post(&c, &h, DETAIL, &tok, body.clone()).await["errcode"],
        42001
    );
    let fresh = token(&c, &h).await;
    assert_eq!(
        post(&c, &h, DETAIL, &fresh, body.clone()).await["errcode"],
        0
    );

    // A zero lifetime: every token is expired as soon as it is issued.
    let h0 = start(SimConfig {
        token_ttl: Duration::ZERO,
        ..config()
    })
    .await;
    let tok = token(&c, &h0).await;
    assert_eq!(
        post(
            &c,
            &h0,
            DETAIL,
            &tok,
            json!({"journaluuid": h0.org.journals[0].journal_uuid})
        )
        .await["errcode"],
        42001
    );
}

#[tokio::test]
async fn paging_a_month_returns_exactly_the_orgs_journals() {
    let cfg = config();
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let start_ts = local_midnight(&cfg, cfg.start);
    let end_ts = local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1;
    let expected: Vec<String> = h
        .org
        .journals
        .iter()
        .filter(|j| (start_ts..=end_ts).contains(&j.report_time))
        .map(|j| j.journal_uuid.clone())
        .collect();
    assert!(
        expected.len() > 250,
        "a month of 24 users: {}",
        expected.len()
    );
    for limit in [100, 37] {
        let got = list_all(&c, &h, &tok, start_ts, end_ts, limit, json!([])).await;
        assert_eq!(got, expected, "limit {limit}");
    }

    // A later window (the second half of the month) gives exactly its part.
    let mid = local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 10, 16).unwrap());
    let got = list_all(&c, &h, &tok, mid, end_ts, 100, json!([])).await;
    let want: Vec<&str> = h
        .org
        .journals
        .iter()
        .filter(|j| j.report_time >= mid)
        .map(|j| j.journal_uuid.as_str())
        .collect();
    assert_eq!(got, want);

    // Both bounds are inclusive: a window of one second holds the journals of that second.
    let j = &h.org.journals[h.org.journals.len() / 2];
    let got = list_all(&c, &h, &tok, j.report_time, j.report_time, 10, json!([])).await;
    assert!(got.contains(&j.journal_uuid));
    assert!(h
        .org
        .journals
        .iter()
        .filter(|x| got.contains(&x.journal_uuid))
        .all(|x| x.report_time == j.report_time));

    // A cursor past the end: empty and done.
    let v = post(
        &c,
        &h,
        LIST,
        &tok,
        json!({"starttime": start_ts, "endtime": end_ts, "cursor": 100000, "limit": 10}),
    )
    .await;
    assert_eq!(
        (
            v["journaluuid_list"].as_array().map(Vec::len),
            v["endflag"].as_u64()
        ),
        (Some(0), Some(1))
    );
}

#[tokio::test]
async fn filters_select_by_creator_template_and_direct_department() {
    let cfg = config();
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let user = &h.org.users[3];
    let weekly = h.org.template_named("周报").unwrap().id.clone();

    let got = list_all(
        &c,
        &h,
        &tok,
        s,
        e,
        50,
        json!([{"key": "creator", "value": user.userid}]),
    )
    .await;
    let want: Vec<&str> = h
        .org
        .journals
        .iter()
        .filter(|j| j.submitter.userid == user.userid)
        .map(|j| j.journal_uuid.as_str())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let got = list_all(
        &c,
        &h,
        &tok,
        s,
        e,
        50,
        json!([{"key": "template_id", "value": weekly}]),
    )
    .await;
    let want: Vec<&str> = h
        .org
        .journals
        .iter()
        .filter(|j| j.template_id.as_deref() == Some(weekly.as_str()))
        .map(|j| j.journal_uuid.as_str())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let dept = 5u64;
    let members: HashSet<&str> = h
        .org
        .users
        .iter()
        .filter(|u| u.department.contains(&dept))
        .map(|u| u.userid.as_str())
        .collect();
    let got = list_all(
        &c,
        &h,
        &tok,
        s,
        e,
        100,
        json!([{"key": "department", "value": dept.to_string()}]),
    )
    .await;
    let want: Vec<&str> = h
        .org
        .journals
        .iter()
        .filter(|j| members.contains(j.submitter.userid.as_str()))
        .map(|j| j.journal_uuid.as_str())
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn windows_and_limits_out_of_range_are_301066() {
    let cfg = config();
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let s = local_midnight(&cfg, cfg.start);
    let list = |start: i64, end: i64, limit: u64| json!({"starttime": start, "endtime": end, "cursor": 0, "limit": limit});
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s, s + 31 * 86_400, 100)).await["errcode"],
        0
    );
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s, s + 32 * 86_400, 100)).await["errcode"],
        301066
    );
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s, s + 31 * 86_400 + 1, 100)).await["errcode"],
        301066
    );
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s, s + 86_400, 101)).await["errcode"],
        301066
    );
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s, s + 86_400, 0)).await["errcode"],
        301066
    );
    assert_eq!(
        post(&c, &h, LIST, &tok, list(s + 10, s, 10)).await["errcode"],
        301066
    );
    let daily = h.org.templates[0].id.clone();
    let stat = |end: i64| json!({"template_id": daily, "starttime": s, "endtime": end});
    assert_eq!(
        post(&c, &h, STATS, &tok, stat(s + 366 * 86_400)).await["errcode"],
        0
    );
    assert_eq!(
        post(&c, &h, STATS, &tok, stat(s + 367 * 86_400)).await["errcode"],
        301066
    );
    assert_eq!(
        post(&c, &h, DETAIL, &tok, json!({"journaluuid": "nope"})).await["errcode"],
        301084
    );
    let r = c
        .post(format!("{}{LIST}?access_token={tok}", h.base_url))
        .body("{oops")
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["errcode"], 47001);
}

#[tokio::test]
async fn record_list_quota_answers_45009_until_the_period_ends() {
    let period = Duration::from_secs(2);
    let cfg = SimConfig {
        record_list_per_minute: 5,
        quota_period: period,
        ..config()
    };
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let s = local_midnight(&cfg, cfg.start);
    let body = json!({"starttime": s, "endtime": s + 86_400, "cursor": 0, "limit": 10});
    let mut codes = Vec::new();
    for _ in 0..11 {
        codes.push(
            post(&c, &h, LIST, &tok, body.clone()).await["errcode"]
                .as_i64()
                .unwrap(),
        );
    }
    // A fresh server: the first 5 are within quota whatever window they fall in; 11 calls span at
    // most two windows, so at least one is refused.
    assert!(codes[..5].iter().all(|&c| c == 0), "{codes:?}");
    assert!(codes.contains(&45009), "{codes:?}");
    assert!(codes.iter().all(|&c| c == 0 || c == 45009));
    // Other endpoints have their own quota.
    let detail = post(
        &c,
        &h,
        DETAIL,
        &tok,
        json!({"journaluuid": h.org.journals[0].journal_uuid}),
    )
    .await;
    assert_eq!(detail["errcode"], 0);
    let refused = codes.iter().filter(|&&c| c == 45009).count() as u64;
    assert_eq!(h.counters().quota_exceeded, refused);
    // After a whole period the window has moved on.
    tokio::time::sleep(period).await;
    assert_eq!(post(&c, &h, LIST, &tok, body).await["errcode"], 0);
}

#[tokio::test]
async fn stats_are_consistent_with_journal_details() {
    let cfg = SimConfig {
        users: 12,
        ..config()
    };
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let (mut late, mut on_time, mut unreported) = (0, 0, 0);
    for t in h.org.templates.iter().filter(|t| t.report_type != 0) {
        let v = post(
            &c,
            &h,
            STATS,
            &tok,
            json!({"template_id": t.id, "starttime": s, "endtime": e}),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
        let cycles = v["stat_list"].as_array().unwrap();
        assert!(!cycles.is_empty(), "{} has cycles", t.name);
        // Every journal of the template is in exactly one cycle's report_list (a late one may
        // fall into the next cycle's days, so this is checked by uuid, not by time).
        let mut listed: HashSet<String> = HashSet::new();
        for cy in cycles {
            assert_eq!(cy["template_id"], t.id.as_str());
            assert_eq!(cy["report_type"], t.report_type);
            let stat_end = cy["stat_end_time"].as_i64().unwrap();
            let (begin, end) = (
                cy["cycle_begin_time"].as_i64().unwrap(),
                cy["cycle_end_time"].as_i64().unwrap(),
            );
            assert!((s..=e).contains(&begin) && begin < stat_end && stat_end < end);
            let mut reported = HashSet::new();
            for r in cy["report_list"].as_array().unwrap() {
                for item in r["itemlist"].as_array().unwrap() {
                    let uuid = item["journaluuid"].as_str().unwrap().to_string();
                    assert!(listed.insert(uuid), "a journal in two cycles");
                }
                let user = r["user"]["userid"].as_str().unwrap();
                assert!(
                    reported.insert(user.to_string()),
                    "one journal per user per cycle"
                );
                for item in r["itemlist"].as_array().unwrap() {
                    let d = post(
                        &c,
                        &h,
                        DETAIL,
                        &tok,
                        json!({"journaluuid": item["journaluuid"]}),
                    )
                    .await;
                    assert_eq!(d["errcode"], 0, "{d}");
                    let info = &d["info"];
                    assert_eq!(info["submitter"]["userid"], user);
                    assert_eq!(info["template_id"], t.id.as_str());
                    assert_eq!(info["report_time"], item["reporttime"]);
                    let is_late = item["reporttime"].as_i64().unwrap() > stat_end;
                    assert_eq!(item["flag"].as_u64().unwrap() == 1, is_late);
                    assert!(item["reporttime"].as_i64().unwrap() >= begin);
                    if is_late {
                        late += 1
                    } else {
                        on_time += 1
                    }
                }
            }
            for u in cy["unreport_list"].as_array().unwrap() {
                let user = u["user"]["userid"].as_str().unwrap();
                assert!(!reported.contains(user));
                assert_eq!(u["itemlist"][0]["journaluuid"], "");
                unreported += 1;
            }
        }
        let of_template: HashSet<String> = h
            .org
            .journals
            .iter()
            .filter(|j| j.template_id.as_deref() == Some(t.id.as_str()))
            .map(|j| j.journal_uuid.clone())
            .collect();
        assert_eq!(listed, of_template, "{}", t.name);
    }
    assert!(
        late > 0 && on_time > late && unreported > 0,
        "late {late} on time {on_time} unreported {unreported}"
    );
    // Free-form 汇报 has no cycles.
    let free = &h.org.templates[3];
    let v = post(
        &c,
        &h,
        STATS,
        &tok,
        json!({"template_id": free.id, "starttime": s, "endtime": e}),
    )
    .await;
    assert_eq!(v["stat_list"].as_array().map(Vec::len), Some(0));
}

fn walk_controls(
    contents: &Value,
    depth: usize,
    seen: &mut BTreeSet<String>,
    nested_table: &mut bool,
    langs: &mut (bool, bool),
) {
    for ctl in contents.as_array().unwrap() {
        let name = ctl["control"].as_str().unwrap().to_string();
        for t in ctl["title"].as_array().unwrap() {
            if t.get("lang").is_some() {
                langs.0 = true;
            } else {
                langs.1 = true;
            }
        }
        if name == "Text" {
            // WeCom sends the other shapes' keys as empty arrays.
            assert_eq!(ctl["value"]["members"], json!([]));
            assert_eq!(ctl["value"]["children"], json!([]));
        }
        if name == "Table" {
            if depth > 0 {
                *nested_table = true;
            }
            for row in ctl["value"]["children"].as_array().unwrap() {
                walk_controls(&row["list"], depth + 1, seen, nested_table, langs);
            }
        }
        seen.insert(name);
    }
}

#[tokio::test]
async fn details_carry_every_control_shape_u64_comments_and_partial_reads() {
    let cfg = config();
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let ids = list_all(&c, &h, &tok, s, e, 100, json!([])).await;
    let mut seen = BTreeSet::new();
    let (mut nested, mut langs) = (false, (false, false));
    let (mut big_comment, mut reply_ok, mut partial_read, mut rich_text) =
        (false, false, false, false);
    // Every weekly journal, and a sample of the others.
    let weekly = h.org.template_named("周报").unwrap().id.clone();
    let picked: Vec<&String> = ids
        .iter()
        .enumerate()
        .filter(|(i, id)| {
            i % 5 == 0
                || h.org.journal(id).and_then(|j| j.template_id.clone()) == Some(weekly.clone())
        })
        .map(|(_, id)| id)
        .collect();
    for id in picked {
        let r = c
            .post(format!("{}{DETAIL}?access_token={tok}", h.base_url))
            .json(&json!({"journaluuid": id}))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["errcode"], 0);
        let info = &v["info"];
        assert_eq!(info["journal_uuid"], id.as_str());
        assert!(info["template_id"].is_string());
        walk_controls(
            &info["apply_data"]["contents"],
            0,
            &mut seen,
            &mut nested,
            &mut langs,
        );
        let mut earlier = HashSet::new();
        for cm in info["comments"].as_array().unwrap() {
            // serde_json keeps u64 exactly: never through f64.
            let cid = cm["commentid"].as_u64().unwrap();
            big_comment |= cid > 1 << 53;
            let to = cm["tocommentid"].as_u64().unwrap();
            if to != 0 {
                assert!(
                    earlier.contains(&to),
                    "a reply points at an earlier comment"
                );
                reply_ok = true;
            }
            earlier.insert(cid);
            // …and the id is written as an exact integer in the body.
            assert!(text.contains(&cid.to_string()));
        }
        let (n_recv, n_read) = (
            info["receivers"].as_array().unwrap().len(),
            info["readed_receivers"].as_array().unwrap().len(),
        );
        partial_read |= n_read > 0 && n_read < n_recv;
        if info["sys_journal_data"].is_string() {
            assert_eq!(info["apply_data"]["contents"], json!([]));
            rich_text = true;
        }
    }
    for name in ControlValue::KNOWN_CONTROLS {
        assert!(seen.contains(*name), "no {name} control in {seen:?}");
    }
    assert!(
        seen.iter()
            .any(|n| !ControlValue::KNOWN_CONTROLS.contains(&n.as_str())),
        "an undocumented type: {seen:?}"
    );
    assert!(nested, "a Table inside a Table row");
    assert!(langs.0 && langs.1, "titles with and without lang");
    assert!(big_comment && reply_ok && partial_read && rich_text);
}

#[tokio::test]
async fn directory_endpoints_serve_the_org() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let v = get_json(
        &c,
        format!("{}/cgi-bin/department/list?access_token={tok}", h.base_url),
    )
    .await;
    let ids: Vec<u64> = v["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        h.org.departments.iter().map(|d| d.id).collect::<Vec<_>>()
    );
    // id=2: the department and everything below it.
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/department/list?access_token={tok}&id=2",
            h.base_url
        ),
    )
    .await;
    let sub: BTreeSet<u64> = v["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    let mut want = BTreeSet::from([2u64]);
    loop {
        let more: Vec<u64> = h
            .org
            .departments
            .iter()
            .filter(|d| want.contains(&d.parentid))
            .map(|d| d.id)
            .collect();
        let before = want.len();
        want.extend(more);
        if want.len() == before {
            break;
        }
    }
    assert_eq!(sub, want);
    assert!(sub.len() >= 3);

    let mut seen_users = HashSet::new();
    for d in &h.org.departments {
        let v = get_json(
            &c,
            format!(
                "{}/cgi-bin/user/list?access_token={tok}&department_id={}",
                h.base_url, d.id
            ),
        )
        .await;
        assert_eq!(v["errcode"], 0);
        for u in v["userlist"].as_array().unwrap() {
            let org_user = h.org.user(u["userid"].as_str().unwrap()).unwrap();
            assert!(org_user.department.contains(&d.id), "direct members only");
            assert_eq!(u["main_department"].as_u64(), org_user.main_department);
            assert!(!u["name"].as_str().unwrap().is_empty());
            seen_users.insert(org_user.userid.clone());
        }
    }
    assert_eq!(seen_users.len(), h.org.users.len());
    assert!(
        h.org.users.iter().any(|u| u.department.len() > 1),
        "someone is in two departments"
    );
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/user/list?access_token={tok}&department_id=999",
            h.base_url
        ),
    )
    .await;
    assert_ne!(v["errcode"], 0);
    let v = post(&c, &h, "/cgi-bin/user/list_id", &tok, json!({"limit": 100})).await;
    assert_eq!(v["errcode"], 48002);
}

/// `hidden_departments`: the directory answers for the visible part of the tree only, and a
/// visible user whose main department is hidden comes without one.
#[tokio::test]
async fn a_visibility_scope_hides_departments_and_their_users_main_department() {
    let h = start(SimConfig {
        users: 60,
        hidden_departments: 4,
        ..config()
    })
    .await;
    let c = http();
    let tok = token(&c, &h).await;
    let all: Vec<u64> = h.org.departments.iter().map(|d| d.id).collect();
    // The last four by id (the tree lists parents first, so these are whole subtrees).
    let hidden: BTreeSet<u64> = all.iter().rev().take(4).copied().collect();
    let v = get_json(
        &c,
        format!("{}/cgi-bin/department/list?access_token={tok}", h.base_url),
    )
    .await;
    let listed: Vec<u64> = v["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    let visible: Vec<u64> = all
        .iter()
        .copied()
        .filter(|d| !hidden.contains(d))
        .collect();
    assert_eq!(listed, visible);
    let mut lost_main = 0;
    for d in &all {
        let v = get_json(
            &c,
            format!(
                "{}/cgi-bin/user/list?access_token={tok}&department_id={d}",
                h.base_url
            ),
        )
        .await;
        if hidden.contains(d) {
            assert_eq!(v["errcode"], 60011, "{v}");
            continue;
        }
        assert_eq!(v["errcode"], 0, "{v}");
        for u in v["userlist"].as_array().unwrap() {
            let org_user = h.org.user(u["userid"].as_str().unwrap()).unwrap();
            let departments: Vec<u64> = u["department"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            let want: Vec<u64> = org_user
                .department
                .iter()
                .copied()
                .filter(|d| !hidden.contains(d))
                .collect();
            assert_eq!(departments, want);
            let main = org_user.main_department.filter(|m| !hidden.contains(m));
            assert_eq!(u["main_department"].as_u64(), main);
            lost_main += usize::from(main.is_none());
        }
    }
    assert!(
        lost_main > 0,
        "some visible user lost a hidden main department"
    );
    let hidden_id = hidden.iter().next().unwrap();
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/department/list?access_token={tok}&id={hidden_id}",
            h.base_url
        ),
    )
    .await;
    assert_eq!(v["errcode"], 60011, "{v}");
}

/// `untrusted_ip`: every call with a token answers 60020 in WeCom's words, naming the IP.
#[tokio::test]
async fn an_untrusted_ip_gets_60020_naming_the_ip_as_wecom_writes_it() {
    let h = start(SimConfig {
        untrusted_ip: true,
        ..config()
    })
    .await;
    let c = http();
    let tok = token(&c, &h).await;
    let v = post(
        &c,
        &h,
        LIST,
        &tok,
        json!({"starttime": 1, "endtime": 2, "cursor": 0, "limit": 10}),
    )
    .await;
    assert_eq!(v["errcode"], 60020);
    let errmsg = v["errmsg"].as_str().unwrap();
    let (before, after) = errmsg.split_once(", hint: [").unwrap();
    assert_eq!(before, "not allow to access from your ip");
    let (_, rest) = after.split_once("], ").unwrap();
    assert_eq!(
        rest,
        "from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"
    );
    let v = get_json(
        &c,
        format!("{}/cgi-bin/department/list?access_token={tok}", h.base_url),
    )
    .await;
    assert_eq!(v["errcode"], 60020);
}

#[tokio::test]
async fn wedrive_download_needs_its_cookie() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (journal, fileid) = h
        .org
        .journals
        .iter()
        .find_map(|j| {
            j.apply_data
                .contents
                .iter()
                .find_map(|ctl| match &ctl.value {
                    ControlValue::WedriveFile { files } if !files.is_empty() => {
                        Some((j.journal_uuid.clone(), files[0].fileid.clone()))
                    }
                    _ => None,
                })
        })
        .expect("a wedrive file");
    let v = post(
        &c,
        &h,
        WEDRIVE,
        &tok,
        json!({"journaluuid": journal, "fileid": fileid}),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let url = v["download_url"].as_str().unwrap();
    assert!(url.starts_with(&h.base_url));
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let cookie = format!(
        "{}={}",
        v["cookie_name"].as_str().unwrap(),
        v["cookie_value"].as_str().unwrap()
    );
    let r = c.get(url).header("Cookie", cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.len() > 100 && bytes.starts_with(b"simulated wedrive file"));
    // A fileid of another journal is refused.
    let other = &h
        .org
        .journals
        .iter()
        .find(|j| j.journal_uuid != journal)
        .unwrap()
        .journal_uuid;
    let v = post(
        &c,
        &h,
        WEDRIVE,
        &tok,
        json!({"journaluuid": other, "fileid": fileid}),
    )
    .await;
    assert_eq!(v["errcode"], 301066);
}

#[tokio::test]
async fn a_denied_template_gives_301065_where_the_app_reads_it() {
    let cfg = config();
    let org = Org::generate(&cfg);
    let monthly = org.template_named("月报").unwrap().id.clone();
    let h = start(SimConfig {
        denied_template_ids: vec![monthly.clone()],
        ..cfg.clone()
    })
    .await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let filtered = json!({"starttime": s, "endtime": e, "cursor": 0, "limit": 10, "filters": [{"key": "template_id", "value": monthly}]});
    assert_eq!(post(&c, &h, LIST, &tok, filtered).await["errcode"], 301065);
    assert_eq!(
        post(
            &c,
            &h,
            STATS,
            &tok,
            json!({"template_id": monthly, "starttime": s, "endtime": e})
        )
        .await["errcode"],
        301065
    );
    let j = h
        .org
        .journals
        .iter()
        .find(|j| j.template_id.as_deref() == Some(monthly.as_str()))
        .unwrap();
    assert_eq!(
        post(&c, &h, DETAIL, &tok, json!({"journaluuid": j.journal_uuid})).await["errcode"],
        301065
    );
    // Unfiltered, its journals are still listed; others' details still work.
    let all = list_all(&c, &h, &tok, s, e, 100, json!([])).await;
    assert!(all.contains(&j.journal_uuid));
    let other = h
        .org
        .journals
        .iter()
        .find(|j| j.template_id.as_deref() != Some(monthly.as_str()))
        .unwrap();
    assert_eq!(
        post(
            &c,
            &h,
            DETAIL,
            &tok,
            json!({"journaluuid": other.journal_uuid})
        )
        .await["errcode"],
        0
    );
}

#[tokio::test]
async fn faults_are_injected_on_request_and_counted() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    h.set_fault_rate(1.0);
    let body = json!({"journaluuid": h.org.journals[0].journal_uuid});
    let mut kinds: HashMap<&str, u32> = HashMap::new();
    let n = 60;
    for _ in 0..n {
        let r = c
            .post(format!("{}{DETAIL}?access_token={tok}", h.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let kind = if status == 502 {
            "http_502"
        } else {
            assert_eq!(status, 200);
            match serde_json::from_str::<Value>(&text) {
                Err(_) => "truncated",
                Ok(v) if v["errcode"] == -1 => "busy",
                Ok(v) if v["errcode"] == 45009 => "quota",
                Ok(v) if v["errcode"] == 0 => "slow",
                Ok(v) => panic!("unexpected answer {v}"),
            }
        };
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds.len(), 5, "every kind of fault: {kinds:?}");
    let counters = h.counters();
    assert_eq!(counters.faults_injected, n as u64);
    for (kind, count) in &kinds {
        assert_eq!(
            counters.faults.get(*kind).copied(),
            Some(*count as u64),
            "{kind}"
        );
    }
    assert_eq!(
        counters.quota_exceeded, 0,
        "injected 45009s are not quota refusals"
    );
    h.set_fault_rate(0.0);
    assert_eq!(post(&c, &h, DETAIL, &tok, body).await["errcode"], 0);
    // Tokens are never faulted.
    h.set_fault_rate(1.0);
    token(&c, &h).await;
}

#[tokio::test]
async fn counters_are_served_at_sim_stats() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    post(
        &c,
        &h,
        DETAIL,
        &tok,
        json!({"journaluuid": h.org.journals[0].journal_uuid}),
    )
    .await;
    post(&c, &h, DETAIL, &tok, json!({"journaluuid": "missing"})).await;
    let v = get_json(&c, format!("{}/sim/stats", h.base_url)).await;
    let served: SimCounters = serde_json::from_value(v).unwrap();
    assert_eq!(served, h.counters());
    let detail = served.calls[DETAIL];
    assert_eq!((detail.ok, detail.failed), (1, 1));
    assert_eq!(served.calls_to("/cgi-bin/gettoken"), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn cli_prints_where_it_listens_then_serves() {
    let mut child = crate::common::bin()
        .args([
            "sim",
            "--addr",
            "127.0.0.1:0",
            "--users",
            "8",
            "--days",
            "3",
            "--seed",
            "11",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn wecom-journal sim");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let fields: HashMap<&str, &str> = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let (base, corp, secret) = (fields["base_url"], fields["corp_id"], fields["secret"]);
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let c = http();
    let v = get_json(
        &c,
        format!("{base}/cgi-bin/gettoken?corpid={corp}&corpsecret={secret}"),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let stats: SimCounters =
        serde_json::from_value(get_json(&c, format!("{base}/sim/stats")).await).unwrap();
    assert_eq!(stats.tokens_issued, 1);
    let _ = child.kill();
    let _ = child.wait();
}

/// The outcome of one call as a client sees it: HTTP status, then errcode or "cut".
async fn outcome(c: &reqwest::Client, url: String, body: &Value) -> String {
    let r = c.post(url).json(body).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => format!("{status}:{}", v["errcode"]),
        Err(_) => format!("{status}:cut"),
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fault_sequence() {
    let c = http();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let h = start(SimConfig {
            fault_rate: 0.4,
            ..config()
        })
        .await;
        let tok = token(&c, &h).await;
        let body = json!({"journaluuid": h.org.journals[0].journal_uuid});
        let mut seq = Vec::new();
        for _ in 0..25 {
            seq.push(
                outcome(
                    &c,
                    format!("{}{DETAIL}?access_token={tok}", h.base_url),
                    &body,
                )
                .await,
            );
        }
        runs.push(seq);
        h.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].iter().any(|o| o == "200:0") && runs[0].iter().any(|o| o != "200:0"),
        "{:?}",
        runs[0]
    );
}
