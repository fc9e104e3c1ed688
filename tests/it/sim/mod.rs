//! The simulator over real HTTP (raw reqwest, not the project's client), one file per concern:
//! tokens, paging, windows, quotas, permissions, counters and the `wecom-journal sim` command
//! (`api`), stats, control shapes and wedrive (`journals`), the directory, faults, and the clock
//! (`time`). The helpers here read values as leniently as real servers send them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone};
use serde_json::{json, Value};
use wecom_journal::sim::{Gentle, Org, OrgAt, SimConfig, SimCounters, SimHandle};
use wecom_journal::wecom::types::ControlValue;

const LIST: &str = "/cgi-bin/oa/journal/get_record_list";
const DETAIL: &str = "/cgi-bin/oa/journal/get_record_detail";
const STATS: &str = "/cgi-bin/oa/journal/get_stat_list";
const WEDRIVE: &str = "/cgi-bin/oa/journal/download_wedrive_file";

mod api;
mod directory;
mod faults;
mod journals;
mod time;

/// A small world, its clock after everything has happened.
fn config() -> SimConfig {
    SimConfig {
        users: 24,
        ..SimConfig::default()
    }
    .settled()
}

/// The world at the simulator's (fixed) clock.
fn world<'a>(h: &'a SimHandle, cfg: &SimConfig) -> OrgAt<'a> {
    h.org.at(cfg.now.expect("a fixed clock").timestamp())
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

/// An integer as real servers send it: a number or its decimal text.
fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("{v} is not an integer"))
}

/// An unsigned integer as real servers send it (u64 exactly, never through f64).
fn uint(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("{v} is not an unsigned integer"))
}

/// A list as real servers send it: `null` is an empty one.
fn items(v: &Value) -> &[Value] {
    match v {
        Value::Null => &[],
        Value::Array(a) => a,
        _ => panic!("{v} is not a list"),
    }
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
