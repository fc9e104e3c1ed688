//! The wire types against JSON as WeCom sends it: decoding, the API encoding and the walk.

use super::*;
use serde_json::{json, Value};

#[test]
fn control_round_trips_through_the_api_encoding() {
    let c = Control::new(
        "Selector-1",
        vec![LangText {
            text: "状态".into(),
            lang: Some("zh_CN".into()),
        }],
        ControlValue::Selector {
            kind: Some(SelectorKind::Multi),
            options: vec![SelectorOption {
                key: "opt-1".into(),
                value: vec![LangText {
                    text: "完成".into(),
                    lang: None,
                }],
            }],
        },
    );
    let text = serde_json::to_string(&c).unwrap();
    let back: Control = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.raw_value.get(), c.raw_value.get());
    let raw: Value = serde_json::from_str(back.raw_value.get()).unwrap();
    assert_eq!(raw["members"], json!([]));
}

#[test]
fn unknown_control_keeps_its_raw_value_byte_for_byte() {
    let value = r#"{ "vote" : {"n":18446744073709551615, "f": 0.30000000000000004, "e": 1E+2} }"#;
    let c: Control = serde_json::from_str(&format!(
        r#"{{"control":"Vote","id":"v","title":[{{"text":"投票"}}],"value": {value}}}"#
    ))
    .unwrap();
    assert_eq!(c.control, "Vote");
    assert_eq!(c.value, ControlValue::Unknown);
    assert_eq!(c.raw_value.get(), value);
    // And it is written back as it came.
    let again = serde_json::to_string(&c).unwrap();
    assert!(again.ends_with(&format!(r#""value":{value}}}"#)), "{again}");
}

#[test]
fn known_values_keep_their_text_and_decode_exactly() {
    let value = r#"{"new_number": 12345678901234567.890123, "tips": [] }"#;
    let c: Control = serde_json::from_str(&format!(
        r#"{{"control":"Number","id":"n","title":[],"value":{value}}}"#
    ))
    .unwrap();
    assert_eq!(c.raw_value.get(), value);
    // A bare number keeps its digits (never through f64).
    assert_eq!(
        c.value,
        ControlValue::Number {
            number: Some("12345678901234567.890123".into())
        }
    );
    let c: Control =
        serde_json::from_str(r#"{"control":"Money","id":"m","value":{"new_money":"1\u0032.5"}}"#)
            .unwrap();
    assert_eq!(
        c.value,
        ControlValue::Money {
            money: Some("12.5".into())
        }
    );
}

#[test]
fn nested_shapes_accept_empty_arrays_null_and_objects_only() {
    let decode = |value: &str| {
        let c: Control =
            serde_json::from_str(&format!(r#"{{"control":"Date","id":"d","value":{value}}}"#))
                .unwrap();
        c.value
    };
    let none = ControlValue::Date {
        kind: None,
        timestamp: None,
    };
    assert_eq!(decode(r#"{"date":[]}"#), none);
    assert_eq!(decode(r#"{"date":null}"#), none);
    assert_eq!(decode("null"), none);
    assert_eq!(
        decode(r#"{"date":{"type":"hour","s_timestamp":"1606365591"}}"#),
        ControlValue::Date {
            kind: Some(DateKind::Hour),
            timestamp: Some(1_606_365_591),
        }
    );
    assert_eq!(decode(r#"{"date":[1]}"#), ControlValue::Unknown);
    assert_eq!(decode(r#"{"date":"x"}"#), ControlValue::Unknown);
    // A known type whose value is not an object.
    assert_eq!(decode("[]"), ControlValue::Unknown);
    assert_eq!(decode("\"x\""), ControlValue::Unknown);
}

#[test]
fn a_control_without_value_is_null() {
    let c: Control = serde_json::from_str(r#"{"control":"Text","id":"t"}"#).unwrap();
    assert_eq!(c.raw_value.get(), "null");
    assert_eq!(
        c.value,
        ControlValue::Text {
            text: String::new()
        }
    );
}

#[test]
fn dispatch_is_on_the_control_name_not_on_filled_keys() {
    // A Text control whose value also carries (filled) students stays Text.
    let c: Control = serde_json::from_str(
        r#"{"control":"Text","id":"t","title":[],"value":{"text":"x","students":[{"name":"J"}]}}"#,
    )
    .unwrap();
    assert_eq!(c.value, ControlValue::Text { text: "x".into() });
}

#[test]
fn titles_pick_zh_cn_or_the_first() {
    let t = vec![
        LangText {
            text: "Work".into(),
            lang: Some("en".into()),
        },
        LangText {
            text: "工作".into(),
            lang: Some("zh_CN".into()),
        },
    ];
    assert_eq!(pick_text(&t), Some("工作"));
    assert_eq!(pick_text_en(&t), Some("Work"));
    let t = vec![LangText {
        text: "工作".into(),
        lang: None,
    }];
    assert_eq!(pick_text(&t), Some("工作"));
    assert_eq!(pick_text_en(&t), None);
}

fn text(id: &str) -> Control {
    Control::new(id, vec![], ControlValue::Text { text: id.into() })
}

fn table(id: &str, rows: Vec<Vec<Control>>) -> Control {
    let rows = rows.into_iter().map(|list| TableRow { list }).collect();
    Control::new(id, vec![], ControlValue::Table { rows })
}

/// A Table of two rows whose first row holds a Table of two rows, then a Table whose value
/// did not decode, and an empty Table.
fn nested_controls() -> Vec<Control> {
    let inner = table("t2", vec![vec![text("c")], vec![text("d")]]);
    let outer = table("t1", vec![vec![text("b"), inner], vec![text("e")]]);
    let undecoded = Control::from_raw(
        "Table",
        "bad",
        vec![],
        serde_json::value::to_raw_value(&json!([[{"control": "Text", "id": "hidden"}]])).unwrap(),
    );
    assert_eq!(undecoded.value, ControlValue::Unknown);
    vec![
        text("a"),
        outer,
        text("f"),
        undecoded,
        table("empty", vec![]),
        text("g"),
    ]
}

#[test]
fn walk_meets_every_control_depth_first_in_document_order() {
    let controls = nested_controls();
    let ids: Vec<&str> = Control::walk(&controls).map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["a", "t1", "b", "t2", "c", "d", "e", "f", "bad", "empty", "g"]
    );
    // The same walk over the decoded wire text: the tree is the values', not the builder's.
    let text = serde_json::to_string(&controls).unwrap();
    let decoded: Vec<Control> = serde_json::from_str(&text).unwrap();
    let again: Vec<&str> = Control::walk(&decoded).map(|c| c.id.as_str()).collect();
    assert_eq!(again, ids);
    assert_eq!(Control::walk(&[]).count(), 0);
}

#[test]
fn placed_walk_says_which_table_row_holds_each_cell() {
    let controls = nested_controls();
    let placed: Vec<(&str, Option<(&str, usize)>)> = Control::walk(&controls)
        .placed()
        .map(|(c, cell)| (c.id.as_str(), cell.map(|p| (p.table.id.as_str(), p.row))))
        .collect();
    assert_eq!(
        placed,
        [
            ("a", None),
            ("t1", None),
            ("b", Some(("t1", 0))),
            ("t2", Some(("t1", 0))),
            ("c", Some(("t2", 0))),
            ("d", Some(("t2", 1))),
            ("e", Some(("t1", 1))),
            ("f", None),
            ("bad", None),
            ("empty", None),
            ("g", None),
        ]
    );
}

#[test]
fn lists_objects_and_strings_accept_what_stands_for_nothing() {
    let d: JournalDetail = serde_json::from_str(
        r#"{"journal_uuid": 42, "template_id": 7, "submitter": [], "receivers": null,
            "apply_data": null, "comments": [{"commentid": "1", "comment_userinfo": {}}]}"#,
    )
    .unwrap();
    assert_eq!(d.journal_uuid, "42");
    assert_eq!(d.template_id.as_deref(), Some("7"));
    assert_eq!(d.submitter, UserRef::default());
    assert!(d.receivers.is_empty() && d.apply_data.contents.is_empty());
    assert_eq!(d.comments[0].commentid, 1);
    // A non-empty array is not an object, a float is not an id.
    assert!(serde_json::from_str::<JournalDetail>(r#"{"submitter": [1]}"#).is_err());
    assert!(serde_json::from_str::<JournalDetail>(r#"{"journal_uuid": 1.5}"#).is_err());
}

#[test]
fn department_ids_decode_from_numbers_and_strings_but_not_holes() {
    let u: UserListResponse = serde_json::from_str(
        r#"{"userlist": [{"userid": "a", "department": ["1", 2, " 3 "], "main_department": "2"}]}"#,
    )
    .unwrap();
    assert_eq!(u.userlist[0].department, [1, 2, 3]);
    assert_eq!(u.userlist[0].main_department, Some(2));
    let err = serde_json::from_str::<UserListResponse>(
        r#"{"userlist": [{"userid": "a", "department": [1, null]}]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("userlist[0].department[1]: "),
        "{err}"
    );
}

#[test]
fn unknown_kinds_keep_the_rest_of_their_value() {
    let c: Control = serde_json::from_str(
        r#"{"control":"Selector","id":"s","value":{"selector":{"type":"several","options":[{"key":"k","value":null}]}}}"#,
    )
    .unwrap();
    assert_eq!(
        c.value,
        ControlValue::Selector {
            kind: None,
            options: vec![SelectorOption {
                key: "k".into(),
                value: vec![],
            }],
        }
    );
}

#[test]
fn errors_name_the_path_once() {
    let err = serde_json::from_str::<StatListResponse>(
        r#"{"stat_list": [{"report_list": [{"itemlist": [{"reporttime": {}}]}]}]}"#,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("stat_list[0].report_list[0].itemlist[0].reporttime: "),
        "{text}"
    );
    assert_eq!(text.matches(" at line ").count(), 1, "{text}");
    // The detail's path is under `info`, also when `info` itself is wrong.
    let err = serde_json::from_str::<RecordDetailResponse>(r#"{"info": "gone"}"#).unwrap_err();
    assert!(err.to_string().starts_with("info: "), "{err}");
    let err = serde_json::from_str::<RecordDetailResponse>(r#"{"errcode": 0}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `info`"), "{err}");
    // A body cut off inside a field names it (the client tells cut-off bodies apart before
    // it decodes a type: its envelope is decoded without a path); cut off before any field,
    // the error is serde_json's own.
    let err =
        serde_json::from_str::<RecordListResponse>(r#"{"journaluuid_list": ["a""#).unwrap_err();
    assert!(
        err.to_string().starts_with("journaluuid_list: EOF"),
        "{err}"
    );
    let err = serde_json::from_str::<RecordListResponse>("{").unwrap_err();
    assert!(err.is_eof(), "{err}");
}

#[test]
fn a_detail_keeps_the_text_of_its_info() {
    let info = r#"{ "journal_uuid" : "u", "report_time": "1606365591", "x": 1E+2 }"#;
    let r: RecordDetailResponse =
        serde_json::from_str(&format!(r#"{{"errcode":0,"info":{info}}}"#)).unwrap();
    assert_eq!(r.info_raw.get(), info);
    assert_eq!(r.info.report_time, 1_606_365_591);
    let again = serde_json::to_string(&r).unwrap();
    assert_eq!(again, format!(r#"{{"info":{info}}}"#));
}

#[test]
fn an_errmsg_of_any_shape_keeps_its_errcode() {
    let e: Envelope =
        serde_json::from_str(r#"{"errcode": "45009", "errmsg": ["busy", 1]}"#).unwrap();
    assert_eq!(e.errcode, 45_009);
    assert_eq!(e.errmsg, r#"["busy",1]"#);
    let e: Envelope = serde_json::from_str(r#"{"errcode": 0, "errmsg": null}"#).unwrap();
    assert_eq!((e.errcode, e.errmsg.as_str()), (0, ""));
}
