//! Tokens, paging, filters, windows and quotas, permissions and misconfigurations, counters and the `sim` command.

use super::*;

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
        .filter(|j| (mid..=end_ts).contains(&j.report_time))
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
    let in_window = |j: &&wecom_journal::wecom::JournalDetail| (s..=e).contains(&j.report_time);
    let want: Vec<&str> = h
        .org
        .journals
        .iter()
        .filter(in_window)
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
        .filter(in_window)
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
        .filter(in_window)
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
