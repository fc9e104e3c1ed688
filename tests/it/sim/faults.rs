//! Injected faults, connection-breaking ones included, and their determinism.

use super::*;

/// Which fault a call met, as a client sees it.
async fn fault_seen(c: &reqwest::Client, url: String, body: &Value) -> &'static str {
    let r = match c.post(url).json(body).send().await {
        Ok(r) => r,
        // No answer at all: the connection was reset before a byte of it.
        Err(e) => {
            assert!(!e.is_timeout(), "{e}");
            return "reset";
        }
    };
    let status = r.status().as_u16();
    let announced = r.content_length();
    let text = match r.bytes().await {
        Ok(bytes) => bytes,
        // Headers, then fewer bytes than they announced, then the end.
        Err(e) => {
            assert!(e.is_body() || e.is_decode(), "{e}");
            assert_eq!(status, 200);
            assert!(announced.is_some_and(|n| n > 0), "a length was announced");
            return "short_read";
        }
    };
    if status == 502 {
        return "http_502";
    }
    assert_eq!(status, 200);
    assert_eq!(
        announced,
        Some(text.len() as u64),
        "a cut body is said to be cut"
    );
    match serde_json::from_slice::<Value>(&text) {
        Err(_) => "truncated",
        Ok(v) if v["errcode"] == -1 => "busy",
        Ok(v) if v["errcode"] == 45009 => "quota",
        Ok(v) if v["errcode"] == 0 => "slow",
        Ok(v) => panic!("unexpected answer {v}"),
    }
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
        let kind = fault_seen(
            &c,
            format!("{}{DETAIL}?access_token={tok}", h.base_url),
            &body,
        )
        .await;
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds.len(), 7, "every kind of fault: {kinds:?}");
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

/// The outcome of one call as a client sees it: HTTP status, then errcode or "cut"; "reset"
/// or "short" when the connection broke.
async fn outcome(c: &reqwest::Client, url: String, body: &Value) -> String {
    let Ok(r) = c.post(url).json(body).send().await else {
        return "reset".into();
    };
    let status = r.status().as_u16();
    let Ok(text) = r.text().await else {
        return format!("{status}:short");
    };
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
