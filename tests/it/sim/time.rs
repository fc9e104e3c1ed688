//! The clock: the world as it is at the simulator's `now`, moved while it serves.

use super::*;

/// Seconds since the epoch as the simulator's clock.
fn instant(t: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t, 0)
}

/// The stat entry of `template` beginning at `begin`, as served now (`None` when the stat
/// list does not hold it).
async fn served_cycle(
    c: &reqwest::Client,
    h: &SimHandle,
    tok: &str,
    template: &str,
    begin: i64,
) -> Option<Value> {
    let v = post(
        c,
        h,
        STATS,
        tok,
        json!({"template_id": template, "starttime": begin, "endtime": begin}),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    items(&v["stat_list"]).first().cloned()
}

/// The userids of a stat entry's `report_list` or `unreport_list`.
fn userids(cycle: &Value, list: &str) -> BTreeSet<String> {
    items(&cycle[list])
        .iter()
        .map(|u| u["user"]["userid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn as_the_clock_moves_late_reports_comments_and_withdrawals_arrive_over_http() {
    let cfg = config();
    let org = Org::generate(&cfg);
    // A late report submitted after its cycle was summarised, its author's only one there.
    let (cycle, late) = org
        .cycles
        .iter()
        .find_map(|c| {
            let i = *c.journals.iter().find(|&&i| {
                let j = &org.journals[i];
                j.report_time > c.summarised_at && org.lives[i].withdrawn_at.is_none()
            })?;
            let author = &org.journals[i].submitter.userid;
            let alone = c
                .journals
                .iter()
                .filter(|&&k| &org.journals[k].submitter.userid == author)
                .count()
                == 1;
            alone.then_some((c.clone(), org.journals[i].clone()))
        })
        .expect("a report later than its cycle's summary");
    let author = late.submitter.userid.clone();
    let h = start(SimConfig {
        now: instant(cycle.summarised_at - 1),
        ..cfg.clone()
    })
    .await;
    let c = http();
    let tok = token(&c, &h).await;
    // Before it is summarised, the cycle is not served at all.
    let template = cycle.template_id().to_string();
    assert!(served_cycle(&c, &h, &tok, &template, cycle.begin())
        .await
        .is_none());
    // Summarised: the author is unreported, the late journal not listed yet.
    h.set_now(instant(cycle.summarised_at));
    let served = served_cycle(&c, &h, &tok, &template, cycle.begin())
        .await
        .unwrap();
    assert!(userids(&served, "unreport_list").contains(&author));
    let window = (late.report_time - 86_400, late.report_time + 86_400);
    let listed = list_all(&c, &h, &tok, window.0, window.1, 100, json!([])).await;
    assert!(!listed.contains(&late.journal_uuid));
    // Submitted: listed, and the author moves to report_list with flag 1.
    h.set_now(instant(late.report_time));
    let listed = list_all(&c, &h, &tok, window.0, window.1, 100, json!([])).await;
    assert!(listed.contains(&late.journal_uuid));
    let served = served_cycle(&c, &h, &tok, &template, cycle.begin())
        .await
        .unwrap();
    assert!(!userids(&served, "unreport_list").contains(&author));
    let entry = items(&served["report_list"])
        .iter()
        .find(|u| u["user"]["userid"] == author.as_str())
        .unwrap()
        .clone();
    let item = &items(&entry["itemlist"])[0];
    assert_eq!(item["journaluuid"], late.journal_uuid.as_str());
    assert_eq!(uint(&item["flag"]), 1);

    // A commented journal: its comments arrive one by one.
    let commented = org
        .journals
        .iter()
        .zip(&org.lives)
        .find(|(j, l)| j.comments.len() >= 2 && l.withdrawn_at.is_none())
        .map(|(j, _)| j.clone())
        .expect("a journal with two comments");
    let second = commented.comments[1].comment_time;
    let comments_at = |t: i64| {
        let (c, h, tok, uuid) = (&c, &h, &tok, commented.journal_uuid.clone());
        async move {
            h.set_now(instant(t));
            let v = post(c, h, DETAIL, tok, json!({"journaluuid": uuid})).await;
            assert_eq!(v["errcode"], 0, "{v}");
            items(&v["info"]["comments"]).len()
        }
    };
    let before = comments_at(second - 1).await;
    let after = comments_at(second).await;
    assert!(before < after, "{before} then {after}");
    assert_eq!(
        comments_at(org.settled_at()).await,
        commented.comments.len()
    );

    // A withdrawn journal: its detail answers until the withdrawal, then 301084; still listed.
    let (withdrawn, at) = org
        .journals
        .iter()
        .zip(&org.lives)
        .find_map(|(j, l)| Some((j.clone(), l.withdrawn_at?)))
        .expect("a withdrawn journal");
    let detail = json!({"journaluuid": withdrawn.journal_uuid});
    h.set_now(instant(at - 1));
    assert_eq!(
        post(&c, &h, DETAIL, &tok, detail.clone()).await["errcode"],
        0
    );
    h.set_now(instant(at));
    assert_eq!(post(&c, &h, DETAIL, &tok, detail).await["errcode"], 301084);
    let around = (withdrawn.report_time - 3600, withdrawn.report_time + 3600);
    let listed = list_all(&c, &h, &tok, around.0, around.1, 100, json!([])).await;
    assert!(listed.contains(&withdrawn.journal_uuid));
}
