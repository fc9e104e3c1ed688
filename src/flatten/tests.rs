//! Flatten's rules on single items: receivers once per userid, a user on time when any of
//! their items is, and an item with a time no table can hold left out (and named) rather than
//! failing its batch.

use chrono_tz::Asia::Shanghai;
use polars::prelude::*;

use super::*;
use crate::wecom::types::{Comment, JournalDetail, StatCycle, StatListResponse, UserRef};

fn user(id: &str) -> UserRef {
    UserRef { userid: id.into() }
}

fn journal(uuid: &str, report_time: i64) -> JournalDetail {
    JournalDetail {
        journal_uuid: uuid.into(),
        template_name: "日报".into(),
        template_id: Some("T".into()),
        report_time,
        submitter: user("alice"),
        ..JournalDetail::default()
    }
}

fn flatten(details: &[JournalDetail]) -> (JournalTables, Warnings) {
    let mut warnings = Warnings::default();
    let tables = flatten_journals(
        details,
        &Directory::empty(),
        Shanghai,
        &LocalPaths::none(),
        &mut warnings,
    )
    .expect("the batch flattens");
    (tables, warnings)
}

fn strings(df: &DataFrame, column: &str) -> Vec<String> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect()
}

#[test]
fn receivers_and_readers_are_rows_once_per_userid() {
    let mut j = journal("j1", 1_790_000_000);
    j.receivers = vec![user("bob"), user("carol"), user("bob")];
    // A reader listed twice, and one who is not a receiver (listed twice too).
    j.readed_receivers = vec![user("bob"), user("dave"), user("bob"), user("dave")];
    let (tables, _) = flatten(&[j]);
    let r = &tables.journal_receivers;
    assert_eq!(strings(r, "userid"), ["bob", "carol", "dave"]);
    let read: Vec<Option<bool>> = r
        .column("has_read")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(read, [Some(true), Some(false), Some(true)]);
    let counts = |c: &str| -> Vec<Option<u32>> {
        tables
            .journals
            .column(c)
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect()
    };
    assert_eq!(counts("receiver_count"), [Some(3)]);
    assert_eq!(counts("read_count"), [Some(2)]);
}

#[test]
fn many_receivers_are_deduplicated_too() {
    let mut j = journal("j1", 1_790_000_000);
    j.receivers = (0..40)
        .chain(0..40)
        .map(|i| user(&format!("u{i}")))
        .collect();
    let (tables, _) = flatten(&[j]);
    assert_eq!(tables.journal_receivers.height(), 40);
}

#[test]
fn a_journal_with_a_time_no_table_holds_is_left_out_and_named() {
    let good = journal("good", 1_790_000_000);
    let far = journal("far", i64::MAX / 10);
    let mut bad_comment = journal("bad-comment", 1_790_000_100);
    bad_comment.comments = vec![Comment {
        commentid: 7,
        tocommentid: 0,
        comment_userinfo: user("bob"),
        content: "ok".into(),
        comment_time: i64::MIN,
    }];
    let (tables, warnings) = flatten(&[good, far, bad_comment]);
    assert_eq!(strings(&tables.journals, "journal_uuid"), ["good"]);
    assert_eq!(tables.journal_comments.height(), 0);
    assert_eq!(warnings.skipped.len(), 2, "{:?}", warnings.skipped);
    assert!(warnings.skipped[0].starts_with("journal far report_time: timestamp"));
    assert!(warnings.skipped[1].starts_with("journal bad-comment comment 7 comment_time"));
}

fn cycle(json: &str) -> StatCycle {
    let response: StatListResponse = serde_json::from_str(json).expect("a stat list");
    response.stat_list.into_iter().next().expect("a cycle")
}

#[test]
fn a_user_is_on_time_when_any_of_their_items_is() {
    let c = cycle(
        r#"{"errcode":0,"stat_list":[{"template_id":"T","template_name":"日报",
        "cycle_begin_time":1790000000,"cycle_end_time":1790086400,
        "stat_begin_time":1790000000,"stat_end_time":1790050000,"report_type":2,
        "report_list":[
          {"user":{"userid":"late-then-on-time"},"itemlist":[
             {"journaluuid":"a1","reporttime":1790060000,"flag":1},
             {"journaluuid":"a2","reporttime":1790040000,"flag":0}]},
          {"user":{"userid":"late-twice"},"itemlist":[
             {"journaluuid":"b1","reporttime":1790060000,"flag":1},
             {"journaluuid":"b2","reporttime":1790070000,"flag":1}]}],
        "unreport_list":[{"user":{"userid":"nobody"},"itemlist":[]}]}]}"#,
    );
    let stats = flatten_stats(&[c], &Directory::empty(), Shanghai).unwrap();
    let items = &stats.stat_items;
    assert_eq!(
        strings(items, "userid"),
        ["late-then-on-time", "late-twice", "nobody"]
    );
    let late: Vec<Option<bool>> = items
        .column("is_late")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(late, [Some(false), Some(true), None]);
    let uuids: Vec<Option<&str>> = items
        .column("journal_uuid")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(uuids, [Some("a2"), Some("b1"), None]);
    let late_count: Vec<Option<u32>> = stats
        .stat_cycles
        .column("late")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(late_count, [Some(1)]);
}

#[test]
fn a_cycle_with_a_time_no_table_holds_is_left_out_and_named() {
    // The real example's edges: stat_end_time 2^64 - 1.
    let edges = cycle(
        r#"{"errcode":0,"stat_list":[{"template_id":"template-1","template_name":"日报",
        "cycle_begin_time":4294967296,"cycle_end_time":4294967297,
        "stat_begin_time":4294967298,"stat_end_time":18446744073709551615,
        "report_list":[{"user":{"userid":"user-1"},"itemlist":[{"journaluuid":"journal-1","reporttime":4294967299,"flag":1}]}],
        "unreport_list":[{"user":{"userid":"user-3"},"itemlist":[]}],"report_type":2}]}"#,
    );
    let fine = cycle(
        r#"{"errcode":0,"stat_list":[{"template_id":"T","template_name":"日报",
        "cycle_begin_time":1790000000,"cycle_end_time":1790086400,
        "stat_begin_time":1790000000,"stat_end_time":1790050000,"report_type":2,
        "unreport_list":[{"user":{"userid":"u"},"itemlist":[]}]}]}"#,
    );
    let stats = flatten_stats(&[edges, fine], &Directory::empty(), Shanghai).unwrap();
    assert_eq!(strings(&stats.stat_cycles, "template_id"), ["T"]);
    assert_eq!(stats.stat_items.height(), 1);
    assert_eq!(stats.skipped.len(), 1);
    assert!(
        stats.skipped[0].starts_with(
            "stat cycle of template template-1 beginning 4294967296 stat_end_time: timestamp 18446744073709551615"
        ),
        "{:?}",
        stats.skipped
    );
}
