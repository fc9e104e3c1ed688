//! Flatten: hand-written control fixtures (tests/fixtures/controls, one per control type and
//! shape) → exact rows and typed values; schemas of all nine tables; the generated
//! docs/schema.md; the wide pivot; a property test over generated journals.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono_tz::Asia::Shanghai;
use polars::prelude::*;
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use wecom_journal::flatten::{
    directory_tables, flatten_journals, flatten_stats, schema, Directory, JournalTables,
    LocalPaths, Warnings,
};
use wecom_journal::wecom::types::{
    Comment, Control, ControlValue, DateKind, Department, DepartmentListResponse, DirectoryUser,
    DocRef, FileRef, JournalDetail, LangText, Member, NamedRef, SelectorKind, SelectorOption,
    StatListResponse, TableRow, UserListResponse, UserRef, WedriveRef,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/controls")
        .join(format!("{name}.json"))
}

/// The fixture's controls, decoded the way the store's raw JSON is.
fn fixture(name: &str) -> Vec<Control> {
    let text = std::fs::read_to_string(fixture_path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fixture's `value`s read as plain JSON, independently of the crate's decoding, in
/// depth-first order (Table cells after their Table).
fn fixture_values(name: &str) -> Vec<Value> {
    fn walk(c: &Value, out: &mut Vec<Value>) {
        out.push(c["value"].clone());
        if c["control"] == "Table" {
            for row in c["value"]["children"].as_array().into_iter().flatten() {
                for cell in row["list"].as_array().into_iter().flatten() {
                    walk(cell, out);
                }
            }
        }
    }
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap();
    let mut out = vec![];
    for c in v.as_array().unwrap() {
        walk(c, &mut out);
    }
    out
}

/// 2026-10-12 14:40:00 +08:00.
const REPORT_TIME: i64 = 1_791_787_200;

fn journal(uuid: &str, contents: Vec<Control>) -> JournalDetail {
    JournalDetail {
        journal_uuid: uuid.into(),
        template_name: "日报".into(),
        template_id: Some("tpl-daily".into()),
        report_time: REPORT_TIME,
        submitter: UserRef {
            userid: "zhangsan".into(),
        },
        receivers: vec![
            UserRef {
                userid: "lisi".into(),
            },
            UserRef {
                userid: "wangwu".into(),
            },
        ],
        readed_receivers: vec![UserRef {
            userid: "wangwu".into(),
        }],
        apply_data: wecom_journal::wecom::types::ApplyData { contents },
        sys_journal_data: None,
        comments: vec![],
    }
}

fn flatten(details: &[JournalDetail], dir: &Directory) -> (JournalTables, Warnings) {
    let mut w = Warnings::default();
    let t = flatten_journals(details, dir, Shanghai, &LocalPaths::none(), &mut w).unwrap();
    (t, w)
}

/// A row of journal_controls, read back from the frame with every typed column.
#[derive(Debug, Clone, PartialEq, Default)]
struct Ctl {
    seq: u32,
    id: String,
    ty: String,
    title: Option<String>,
    title_en: Option<String>,
    parent: Option<String>,
    table_row: Option<u32>,
    text: Option<String>,
    number: Option<f64>,
    time: Option<i64>,
    end: Option<i64>,
    dur: Option<i64>,
    options: Option<Vec<String>>,
}

fn ctl(seq: u32, id: &str, ty: &str, title: &str) -> Ctl {
    Ctl {
        seq,
        id: id.into(),
        ty: ty.into(),
        title: Some(title.into()),
        ..Ctl::default()
    }
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn str_at(df: &DataFrame, col: &str, i: usize) -> Option<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .get(i)
        .map(str::to_string)
}

fn time_at(df: &DataFrame, col: &str, i: usize) -> Option<i64> {
    df.column(col)
        .unwrap()
        .datetime()
        .unwrap()
        .physical()
        .get(i)
}

/// The rows of `journal_controls` and their `value_json` parsed.
fn control_rows(df: &DataFrame) -> (Vec<Ctl>, Vec<Value>) {
    let json = (0..df.height())
        .map(|i| serde_json::from_str(&str_at(df, "value_json", i).unwrap()).unwrap())
        .collect();
    (ctl_rows(df), json)
}

/// The rows of `journal_controls` (without `value_json`).
fn ctl_rows(df: &DataFrame) -> Vec<Ctl> {
    let mut rows = vec![];
    for i in 0..df.height() {
        let options = df
            .column("value_options")
            .unwrap()
            .list()
            .unwrap()
            .get_as_series(i)
            .map(|s| {
                s.str()
                    .unwrap()
                    .iter()
                    .map(|o| o.unwrap().to_string())
                    .collect::<Vec<_>>()
            });
        rows.push(Ctl {
            seq: df.column("seq").unwrap().u32().unwrap().get(i).unwrap(),
            id: str_at(df, "control_id", i).unwrap(),
            ty: str_at(df, "control_type", i).unwrap(),
            title: str_at(df, "title", i),
            title_en: str_at(df, "title_en", i),
            parent: str_at(df, "parent_control_id", i),
            table_row: df.column("table_row").unwrap().u32().unwrap().get(i),
            text: str_at(df, "value_text", i),
            number: df.column("value_number").unwrap().f64().unwrap().get(i),
            time: time_at(df, "value_time", i),
            end: time_at(df, "value_end_time", i),
            dur: df.column("value_duration_s").unwrap().i64().unwrap().get(i),
            options,
        });
    }
    rows
}

/// (journal_uuid, control_id, kind, file_id, name) of an attachment row.
type AttachmentRow = (String, String, String, Option<String>, Option<String>);

fn attachment_rows(df: &DataFrame) -> Vec<AttachmentRow> {
    (0..df.height())
        .map(|i| {
            (
                str_at(df, "control_id", i).unwrap(),
                str_at(df, "kind", i).unwrap(),
                str_at(df, "file_id", i).unwrap(),
                str_at(df, "name", i),
                str_at(df, "local_path", i),
            )
        })
        .collect()
}

/// Flattens one fixture in a journal with an empty directory and checks the rows, that
/// value_json is the fixture's exact value, and that the journal has a report_date everywhere.
fn check_fixture(name: &str, dir: &Directory, want: Vec<Ctl>) -> (JournalTables, Warnings) {
    let (t, w) = flatten(&[journal("j-1", fixture(name))], dir);
    let (rows, json) = control_rows(&t.journal_controls);
    assert_eq!(rows, want, "fixture {name}");
    assert_eq!(json, fixture_values(name), "value_json of fixture {name}");
    let dates = t
        .journal_controls
        .column("report_date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .clone();
    // 2026-10-12 is day 20738 since 1970-01-01.
    assert!(dates.iter().all(|d| d == Some(20_738)), "fixture {name}");
    (t, w)
}

// ---------------------------------------------------------------------------------------------
// One fixture per control type and shape

#[test]
fn text_takes_zh_cn_and_english_titles() {
    let want = Ctl {
        title_en: s("Today"),
        text: s("完成接口联调"),
        ..ctl(0, "Text-1", "Text", "今日工作")
    };
    let (_, w) = check_fixture("text", &Directory::empty(), vec![want]);
    assert!(w.is_empty());
}

#[test]
fn textarea_with_a_title_without_lang() {
    let want = Ctl {
        text: s("第一行\n第二行"),
        ..ctl(0, "Textarea-1", "Textarea", "明日计划")
    };
    check_fixture("textarea", &Directory::empty(), vec![want]);
}

#[test]
fn number_and_money_keep_their_decimal_text() {
    let want = Ctl {
        text: s("7.50"),
        number: Some(7.5),
        ..ctl(0, "Number-1", "Number", "工时")
    };
    check_fixture("number", &Directory::empty(), vec![want]);
    // Money sent as a bare JSON number still renders its exact text.
    let want = Ctl {
        text: s("1280.05"),
        number: Some(1280.05),
        ..ctl(0, "Money-1", "Money", "报销金额")
    };
    check_fixture("money", &Directory::empty(), vec![want]);
}

#[test]
fn dates_from_string_and_number_timestamps_in_local_time() {
    // "s_timestamp": "1791734400" (a string) = 2026-10-12 00:00 +08:00.
    let want = Ctl {
        text: s("2026-10-12"),
        time: Some(1_791_734_400_000),
        ..ctl(0, "Date-1", "Date", "日期")
    };
    check_fixture("date_day", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("2026-10-12 14:30"),
        time: Some(1_791_786_600_000),
        ..ctl(0, "Date-2", "Date", "开始时间")
    };
    check_fixture("date_hour", &Directory::empty(), vec![want]);
}

#[test]
fn selectors_single_and_multi() {
    let want = Ctl {
        text: s("已完成"),
        options: Some(vec!["已完成".into()]),
        ..ctl(0, "Selector-1", "Selector", "状态")
    };
    check_fixture("selector_single", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("账务、结算"),
        options: Some(vec!["账务".into(), "结算".into()]),
        ..ctl(0, "Selector-2", "Selector", "涉及系统")
    };
    check_fixture("selector_multi", &Directory::empty(), vec![want]);
}

fn small_directory() -> Directory {
    let depts = DepartmentListResponse {
        department: vec![
            Department {
                id: 1,
                name: "总部".into(),
                parentid: 0,
            },
            Department {
                id: 2,
                name: "研发".into(),
                parentid: 1,
            },
            Department {
                id: 3,
                name: "后端".into(),
                parentid: 2,
            },
        ],
    };
    let users = vec![UserListResponse {
        userlist: vec![
            DirectoryUser {
                userid: "zhangsan".into(),
                name: "张三".into(),
                department: vec![2, 3],
                main_department: Some(3),
            },
            DirectoryUser {
                userid: "wangwu".into(),
                name: "王五".into(),
                department: vec![2],
                main_department: None,
            },
        ],
    }];
    Directory::from_api(&depts, &users)
}

#[test]
fn contacts_render_names_falling_back_to_the_directory_then_ids() {
    let want = Ctl {
        text: s("李四、wangwu"),
        ..ctl(0, "Contact-1", "Contact", "协作人")
    };
    check_fixture("contact_members", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("李四、王五"),
        ..ctl(0, "Contact-1", "Contact", "协作人")
    };
    check_fixture("contact_members", &small_directory(), vec![want]);

    let want = Ctl {
        text: s("研发、3、99"),
        ..ctl(0, "Contact-2", "Contact", "相关部门")
    };
    check_fixture("contact_departments", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("研发、后端、99"),
        ..ctl(0, "Contact-2", "Contact", "相关部门")
    };
    check_fixture("contact_departments", &small_directory(), vec![want]);
}

#[test]
fn tips_render_empty() {
    let want = Ctl {
        text: s(""),
        ..ctl(0, "Tips-1", "Tips", "填写说明")
    };
    check_fixture("tips", &Directory::empty(), vec![want]);
}

#[test]
fn files_wedrive_files_and_docs_become_attachments() {
    let want = Ctl {
        text: s("media-aaa、media-bbb"),
        ..ctl(0, "File-1", "File", "附件")
    };
    let (t, _) = check_fixture("file", &Directory::empty(), vec![want]);
    assert_eq!(
        attachment_rows(&t.journal_attachments),
        vec![
            (
                "File-1".into(),
                "file".into(),
                "media-aaa".into(),
                None,
                None
            ),
            (
                "File-1".into(),
                "file".into(),
                "media-bbb".into(),
                None,
                None
            ),
        ]
    );

    let want = Ctl {
        text: s("wd-file-1"),
        ..ctl(0, "WedriveFile-1", "WedriveFile", "微盘文件")
    };
    let (t, _) = check_fixture("wedrive_file", &Directory::empty(), vec![want]);
    assert_eq!(
        attachment_rows(&t.journal_attachments),
        vec![(
            "WedriveFile-1".into(),
            "wedrive_file".into(),
            "wd-file-1".into(),
            None,
            None
        )]
    );

    let want = Ctl {
        text: s("https://doc.example.invalid/doc-one、doc-two"),
        ..ctl(0, "Doc-1", "Doc", "周报文档")
    };
    let (t, _) = check_fixture("doc", &Directory::empty(), vec![want]);
    assert_eq!(
        attachment_rows(&t.journal_attachments),
        vec![
            (
                "Doc-1".into(),
                "doc".into(),
                "doc-one".into(),
                s("https://doc.example.invalid/doc-one"),
                None
            ),
            ("Doc-1".into(), "doc".into(), "doc-two".into(), None, None),
        ]
    );
}

/// Where downloaded wedrive files are reaches flatten as data: the map fills `local_path` of
/// the `wedrive_file` rows it names, per journal, and of no other row.
#[test]
fn local_paths_fill_wedrive_rows_only() {
    let wedrive = |id: &str, ids: &[&str]| {
        let files = ids
            .iter()
            .map(|f| WedriveRef {
                fileid: f.to_string(),
            })
            .collect();
        Control::new(id, vec![], ControlValue::WedriveFile { files })
    };
    let file = Control::new(
        "d",
        vec![],
        ControlValue::File {
            files: vec![FileRef {
                file_id: "f1".into(),
            }],
        },
    );
    let details = [
        journal("u1", vec![wedrive("c", &["f1", "f2"]), file]),
        journal("u2", vec![wedrive("c", &["f1"])]),
    ];
    let mut files = LocalPaths::none();
    files.insert("u1", "f1", "files/u1/f1");
    files.insert("u2", "f1", "files/u2/f1");
    let mut w = Warnings::default();
    let t = flatten_journals(&details, &Directory::empty(), Shanghai, &files, &mut w).unwrap();
    let a = &t.journal_attachments;
    let rows: Vec<(String, String, String, Option<String>)> = (0..a.height())
        .map(|i| {
            (
                str_at(a, "journal_uuid", i).unwrap(),
                str_at(a, "kind", i).unwrap(),
                str_at(a, "file_id", i).unwrap(),
                str_at(a, "local_path", i),
            )
        })
        .collect();
    let row = |u: &str, k: &str, f: &str, p: Option<&str>| {
        (u.into(), k.into(), f.into(), p.map(str::to_string))
    };
    assert_eq!(
        rows,
        vec![
            row("u1", "wedrive_file", "f1", Some("files/u1/f1")),
            row("u1", "wedrive_file", "f2", None),
            row("u1", "file", "f1", None),
            row("u2", "wedrive_file", "f1", Some("files/u2/f1")),
        ]
    );
    // Without the map, the same tables with every local_path null.
    let (none, _) = flatten(&details, &Directory::empty());
    assert_eq!(
        none.journal_attachments
            .column("local_path")
            .unwrap()
            .null_count(),
        4
    );
    let without_paths = |df: &DataFrame| df.drop("local_path").unwrap();
    assert!(without_paths(&none.journal_attachments).equals_missing(&without_paths(a)));
}

#[test]
fn a_table_with_two_rows_gives_its_cells_as_rows() {
    let cell = |seq, id: &str, ty: &str, title: &str, row| Ctl {
        parent: s("Table-1"),
        table_row: Some(row),
        ..ctl(seq, id, ty, title)
    };
    let want = vec![
        Ctl {
            text: s("2 行"),
            ..ctl(0, "Table-1", "Table", "明细")
        },
        Ctl {
            text: s("评审"),
            ..cell(1, "Text-c1", "Text", "事项", 0)
        },
        Ctl {
            text: s("2"),
            number: Some(2.0),
            ..cell(2, "Number-c1", "Number", "小时", 0)
        },
        Ctl {
            text: s("编码"),
            ..cell(3, "Text-c1", "Text", "事项", 1)
        },
        Ctl {
            text: s("media-in-table"),
            ..cell(4, "File-c1", "File", "截图", 1)
        },
        Ctl {
            text: s("无"),
            ..ctl(5, "Text-after", "Text", "备注")
        },
    ];
    let (t, _) = check_fixture("table", &Directory::empty(), want);
    // A file inside a table cell is an attachment of that cell.
    assert_eq!(
        attachment_rows(&t.journal_attachments),
        vec![(
            "File-c1".into(),
            "file".into(),
            "media-in-table".into(),
            None,
            None
        )]
    );
}

#[test]
fn date_ranges_halfday_and_hour() {
    let want = Ctl {
        text: s("2026-10-13 上午 ~ 2026-10-13 下午"),
        time: Some(1_791_820_800_000),
        end: Some(1_791_864_000_000),
        dur: Some(43_200),
        ..ctl(0, "DateRange-1", "DateRange", "请假时间")
    };
    check_fixture("date_range_halfday", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("2026-10-14 09:00 ~ 2026-10-14 18:00"),
        time: Some(1_791_939_600_000),
        end: Some(1_791_972_000_000),
        dur: Some(32_400),
        ..ctl(0, "DateRange-2", "DateRange", "出差时间")
    };
    check_fixture("date_range_hour", &Directory::empty(), vec![want]);
}

#[test]
fn location_formula_and_school_contact() {
    let want = Ctl {
        text: s("上海中心 陆家嘴银城中路501号"),
        ..ctl(0, "Location-1", "Location", "打卡地点")
    };
    check_fixture("location", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("42.25"),
        number: Some(42.25),
        ..ctl(0, "Formula-1", "Formula", "合计")
    };
    check_fixture("formula", &Directory::empty(), vec![want]);
    let want = Ctl {
        text: s("小明、小红、三年级二班"),
        ..ctl(0, "SchoolContact-1", "SchoolContact", "学生")
    };
    check_fixture("school_contact", &Directory::empty(), vec![want]);
}

#[test]
fn an_unknown_type_is_kept_exactly_and_counted() {
    let want = ctl(0, "VoteBox-1", "VoteBox", "投票");
    let (t, w) = check_fixture("unknown", &Directory::empty(), vec![want]);
    // u64::MAX survives exactly (no f64 on the way).
    let json: Value =
        serde_json::from_str(&str_at(&t.journal_controls, "value_json", 0).unwrap()).unwrap();
    assert_eq!(json["vote"]["count"].as_u64(), Some(u64::MAX));
    assert_eq!(w.unknown_control_types.get("VoteBox"), Some(&1));
    assert!(w.undecodable_values.is_empty());
    assert!(w.to_string().contains("VoteBox ×1"), "{w}");
}

#[test]
fn empty_values_give_null_typed_columns() {
    let want = vec![
        Ctl {
            text: s(""),
            ..ctl(0, "Text-empty", "Text", "空文本")
        },
        Ctl {
            options: Some(vec![]),
            ..ctl(1, "Selector-empty", "Selector", "空选择")
        },
        Ctl {
            title: None,
            ..ctl(2, "Number-null", "Number", "")
        },
        ctl(3, "Date-empty", "Date", "空日期"),
    ];
    let (_, w) = check_fixture("empty_value", &Directory::empty(), want);
    assert!(w.is_empty(), "{w}");
}

// ---------------------------------------------------------------------------------------------
// Journal-level tables, stats, directory

#[test]
fn journals_receivers_and_comments() {
    let mut d = journal("j-1", fixture("text"));
    d.sys_journal_data = Some("<p>日报</p>".into());
    // A reader who is not a listed receiver is still a receiver row.
    d.readed_receivers.push(UserRef {
        userid: "zhaoliu".into(),
    });
    d.comments = vec![
        Comment {
            commentid: 18_446_744_073_709_551_615,
            tocommentid: 0,
            comment_userinfo: UserRef {
                userid: "lisi".into(),
            },
            content: "加油".into(),
            comment_time: REPORT_TIME + 60,
        },
        Comment {
            commentid: 9_007_199_254_740_993, // 2^53 + 1: not representable in f64
            tocommentid: 18_446_744_073_709_551_615,
            comment_userinfo: UserRef {
                userid: "zhangsan".into(),
            },
            content: "谢谢".into(),
            comment_time: REPORT_TIME + 120,
        },
    ];
    let mut other = journal("j-2", vec![]);
    other.submitter = UserRef {
        userid: "wangwu".into(),
    }; // no main department: counted under the first department listed for them
    other.template_id = None;
    let (t, _) = flatten(&[d, other], &small_directory());

    let j = &t.journals;
    assert_eq!(j.height(), 2);
    assert_eq!(str_at(j, "department_name", 0), s("后端"));
    assert_eq!(
        j.column("department_id").unwrap().u64().unwrap().get(0),
        Some(3)
    );
    assert_eq!(str_at(j, "department_name", 1), s("研发"));
    assert_eq!(
        j.column("department_id").unwrap().u64().unwrap().get(1),
        Some(2)
    );
    assert_eq!(str_at(j, "template_id", 1), None);
    assert_eq!(time_at(j, "report_time", 0), Some(REPORT_TIME * 1000));
    assert_eq!(str_at(j, "sys_journal_data", 0), s("<p>日报</p>"));
    let u32s = |c: &str| {
        j.column(c)
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .flatten()
            .collect::<Vec<_>>()
    };
    assert_eq!(u32s("receiver_count"), vec![3, 2]);
    assert_eq!(u32s("read_count"), vec![2, 1]);
    assert_eq!(u32s("comment_count"), vec![2, 0]);

    let r = &t.journal_receivers;
    let got: Vec<(String, String, bool)> = (0..r.height())
        .map(|i| {
            (
                str_at(r, "journal_uuid", i).unwrap(),
                str_at(r, "userid", i).unwrap(),
                r.column("has_read")
                    .unwrap()
                    .bool()
                    .unwrap()
                    .get(i)
                    .unwrap(),
            )
        })
        .collect();
    let row = |j: &str, u: &str, read| (j.to_string(), u.to_string(), read);
    assert_eq!(
        got,
        vec![
            row("j-1", "lisi", false),
            row("j-1", "wangwu", true),
            row("j-1", "zhaoliu", true),
            row("j-2", "lisi", false),
            row("j-2", "wangwu", true)
        ]
    );

    let c = &t.journal_comments;
    let ids = c.column("comment_id").unwrap().u64().unwrap();
    let to = c.column("to_comment_id").unwrap().u64().unwrap();
    assert_eq!(ids.get(0), Some(u64::MAX));
    assert_eq!(to.get(0), None, "tocommentid 0 means no comment answered");
    assert_eq!(ids.get(1), Some(9_007_199_254_740_993));
    assert_eq!(to.get(1), Some(u64::MAX));
    assert_eq!(
        time_at(c, "comment_time", 1),
        Some((REPORT_TIME + 120) * 1000)
    );
    assert_eq!(str_at(c, "content", 0), s("加油"));
}

#[test]
fn report_date_is_the_local_day() {
    // 2026-10-12 23:30 +08:00 is 15:30 UTC the same day; 2026-10-12 00:30 +08:00 is still
    // 2026-10-11 in UTC: report_date follows the job's time zone, not UTC.
    let mut d = journal("j-late-night", vec![]);
    d.report_time = 1_791_736_200; // 2026-10-12 00:30 +08:00
    let mut w = Warnings::default();
    let t = flatten_journals(
        &[d.clone()],
        &Directory::empty(),
        Shanghai,
        &LocalPaths::none(),
        &mut w,
    )
    .unwrap();
    let day = |t: &JournalTables| {
        t.journals
            .column("report_date")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .get(0)
    };
    assert_eq!(day(&t), Some(20_738));
    let t = flatten_journals(
        &[d],
        &Directory::empty(),
        chrono_tz::UTC,
        &LocalPaths::none(),
        &mut w,
    )
    .unwrap();
    assert_eq!(day(&t), Some(20_737));
}

const STATS: &str = r#"{
  "errcode": 0, "errmsg": "ok",
  "stat_list": [{
    "template_id": "tpl-daily", "template_name": "日报",
    "report_range": {"user_list": [], "party_list": [], "tag_list": []},
    "white_range": {"user_list": [], "party_list": [], "tag_list": []},
    "receivers": {"user_list": [], "tag_list": [], "leader_list": []},
    "cycle_begin_time": "1791734400", "cycle_end_time": 1791820800,
    "stat_begin_time": 1791734400, "stat_end_time": 1791817200,
    "report_list": [
      {"user": {"userid": "zhangsan"}, "itemlist": [{"journaluuid": "j-1", "reporttime": 1791787200, "flag": 0}]},
      {"user": {"userid": "wangwu"}, "itemlist": [
        {"journaluuid": "j-9", "reporttime": "1791818000", "flag": "1"},
        {"journaluuid": "j-10", "reporttime": 1791819000, "flag": 0}]},
      {"user": {"userid": "wangwu"}, "itemlist": [{"journaluuid": "j-9", "reporttime": 1791818000, "flag": 1}]}
    ],
    "unreport_list": [
      {"user": {"userid": "lisi"}, "itemlist": [{"journaluuid": "", "reporttime": 1791734400, "flag": 0}]}
    ],
    "report_type": 2
  }]
}"#;

#[test]
fn stats_count_users_and_list_items() {
    let stats: StatListResponse = serde_json::from_str(STATS).unwrap();
    let t = flatten_stats(&stats.stat_list, &small_directory(), Shanghai).unwrap();
    let c = &t.stat_cycles;
    assert_eq!(c.height(), 1);
    let n = |col: &str| c.column(col).unwrap().u32().unwrap().get(0).unwrap();
    assert_eq!(
        (n("expected"), n("reported"), n("late"), n("unreported")),
        // wangwu filed late (j-9) and then on time (j-10): on time, since one item is.
        (3, 2, 0, 1)
    );
    assert_eq!(str_at(c, "report_type", 0), s("day"));
    assert_eq!(time_at(c, "cycle_begin", 0), Some(1_791_734_400_000));
    assert_eq!(time_at(c, "stat_end", 0), Some(1_791_817_200_000));
    assert_eq!(
        c.column("cycle_date")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .get(0),
        Some(20_738)
    );

    let i = &t.stat_items;
    type Item = (
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<bool>,
        Option<u64>,
        String,
    );
    let got: Vec<Item> = (0..i.height())
        .map(|k| {
            (
                str_at(i, "userid", k).unwrap(),
                str_at(i, "status", k).unwrap(),
                str_at(i, "journal_uuid", k),
                time_at(i, "report_time", k),
                i.column("is_late").unwrap().bool().unwrap().get(k),
                i.column("department_id").unwrap().u64().unwrap().get(k),
                str_at(i, "department_name", k).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "zhangsan".into(),
                "reported".into(),
                s("j-1"),
                Some(1_791_787_200_000),
                Some(false),
                Some(3),
                "后端".into()
            ),
            (
                // No main department: the first department listed for them.
                "wangwu".into(),
                "reported".into(),
                s("j-10"),
                Some(1_791_819_000_000),
                Some(false),
                Some(2),
                "研发".into()
            ),
            (
                "lisi".into(),
                "unreported".into(),
                None,
                None,
                None,
                None,
                "unknown".into()
            ),
        ]
    );
    assert!((0..i.height()).all(|k| str_at(i, "template_name", k) == s("日报")));
}

#[test]
fn directory_tables_and_csv() {
    let (d, u) = directory_tables(&small_directory()).unwrap();
    assert_eq!(d.height(), 3);
    assert_eq!(str_at(&d, "path", 2), s("总部/研发/后端"));
    assert_eq!(d.column("parent_id").unwrap().u64().unwrap().get(0), None);
    assert_eq!(u.height(), 2);
    let ids = u
        .column("department_ids")
        .unwrap()
        .list()
        .unwrap()
        .get_as_series(0)
        .unwrap();
    assert_eq!(
        ids.u64().unwrap().iter().flatten().collect::<Vec<_>>(),
        vec![3, 2]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.csv");
    std::fs::write(&path, "userid,department_id,department_name,parent_id,mobile\nzhangsan,3,后端,2,138\nlisi,2,研发,,139\n").unwrap();
    let csv_dir = Directory::from_csv(&path).unwrap();
    assert_eq!(
        csv_dir.department_of("zhangsan"),
        (Some(3), "后端".to_string())
    );
    assert_eq!(
        csv_dir.department(3).map(|d| d.path.clone()),
        s("研发/后端")
    );

    std::fs::write(&path, "userid,department_id\nzhangsan,3\n\"lisi,2\n").unwrap();
    let e = Directory::from_csv(&path).unwrap_err().to_string();
    assert!(e.contains(&format!("{}:3", path.display())), "{e}");
    let e = Directory::from_csv(&dir.path().join("missing.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Schemas: every produced frame has exactly its schema; docs/schema.md and the CLI agree

fn every_fixture() -> Vec<Control> {
    [
        "text",
        "textarea",
        "number",
        "money",
        "date_day",
        "date_hour",
        "selector_single",
        "selector_multi",
        "contact_members",
        "contact_departments",
        "tips",
        "file",
        "table",
        "date_range_halfday",
        "date_range_hour",
        "location",
        "formula",
        "school_contact",
        "doc",
        "wedrive_file",
        "unknown",
        "empty_value",
    ]
    .iter()
    .flat_map(|n| fixture(n))
    .collect()
}

#[test]
fn all_nine_tables_have_exactly_their_schema() {
    let mut d = journal("j-1", every_fixture());
    d.comments = vec![Comment {
        commentid: 1,
        tocommentid: 0,
        comment_userinfo: UserRef {
            userid: "lisi".into(),
        },
        content: "ok".into(),
        comment_time: REPORT_TIME,
    }];
    let (t, _) = flatten(&[d], &small_directory());
    let stats: StatListResponse = serde_json::from_str(STATS).unwrap();
    let s = flatten_stats(&stats.stat_list, &small_directory(), Shanghai).unwrap();
    let (departments, users) = directory_tables(&small_directory()).unwrap();
    let mut frames: Vec<(&str, &DataFrame)> = t.iter().collect();
    frames.extend([
        ("stat_cycles", &s.stat_cycles),
        ("stat_items", &s.stat_items),
        ("departments", &departments),
        ("users", &users),
    ]);
    assert_eq!(
        frames.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        schema::TABLES.iter().map(|t| t.name).collect::<Vec<_>>()
    );
    for (name, df) in frames {
        let spec = schema::table(name).unwrap();
        assert!(
            df.height() > 0,
            "{name} is empty: the check would prove nothing"
        );
        assert_eq!(**df.schema(), spec.polars_schema(), "{name}");
        for c in spec.columns.iter().filter(|c| !c.nullable) {
            assert_eq!(
                df.column(c.name).unwrap().null_count(),
                0,
                "{name}.{}",
                c.name
            );
        }
    }
    // Empty batches too.
    let (t, _) = flatten(&[], &Directory::empty());
    for (name, df) in t.iter() {
        assert_eq!(
            **df.schema(),
            schema::table(name).unwrap().polars_schema(),
            "{name}"
        );
    }
}

fn run_cli(args: &[&str]) -> String {
    let out = crate::common::bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "wecom-journal {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn docs_schema_md_is_generated_from_the_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let printed = run_cli(&["schema", "--format", "md"]);
    assert_eq!(printed, schema::to_markdown());
    assert!(
        on_disk == printed,
        "docs/schema.md is out of date with the schema; regenerate it with:\n    cargo run -- schema --format md > docs/schema.md"
    );
}

#[test]
fn schema_json_lists_every_table_and_column_type() {
    let v: Value = serde_json::from_str(&run_cli(&["schema", "--format", "json"])).unwrap();
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 9);
    let controls = tables
        .iter()
        .find(|t| t["name"] == "journal_controls")
        .unwrap();
    let col = |n: &str| {
        controls["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(col("value_time")["dtype"], "Datetime(ms, UTC)");
    assert_eq!(col("value_options")["dtype"], "List(String)");
    assert_eq!(col("value_json")["nullable"], false);
}

// ---------------------------------------------------------------------------------------------
// Property: nothing is lost

fn lang_text() -> impl Strategy<Value = LangText> {
    (
        "[a-z\u{4e00}-\u{4e10}]{0,6}",
        prop::option::of(prop_oneof![
            Just("zh_CN".to_string()),
            Just("en".to_string())
        ]),
    )
        .prop_map(|(text, lang)| LangText { text, lang })
}

fn small_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Any finite float, 17 significant digits included: `value_json` is the raw text, so no
        // float parser comes between what was sent and what is kept.
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON texts as a server may spell them: spaces, tabs and newlines between tokens, numbers of
/// any length and exponent spelling (beyond f64's precision and range), escapes. `value_json`
/// must keep them byte for byte.
fn raw_json() -> impl Strategy<Value = String> {
    let ws = || prop_oneof![Just(""), Just(" "), Just("\n  "), Just("\t")];
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("false".to_string()),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?",
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::to_string(&f).unwrap()),
        ".{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just(r#""caf\u00e9 \/ \"q\" \ud83d\ude00""#.to_string()),
    ];
    leaf.prop_recursive(3, 16, 4, move |inner| {
        prop_oneof![
            (prop::collection::vec((ws(), inner.clone()), 0..4), ws()).prop_map(|(items, end)| {
                let items: Vec<String> = items.iter().map(|(w, v)| format!("{w}{v}")).collect();
                format!("[{}{end}]", items.join(","))
            }),
            (
                prop::collection::vec(("[a-z_]{1,6}", ws(), inner), 0..4),
                ws()
            )
                .prop_map(|(items, end)| {
                    let items: Vec<String> = items
                        .iter()
                        .map(|(k, w, v)| format!("{w}\"{k}\"{w}:{w}{v}"))
                        .collect();
                    format!("{{{}{end}}}", items.join(","))
                }),
        ]
    })
}

fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap()
}

fn leaf_value() -> impl Strategy<Value = ControlValue> {
    let ts = prop::option::of(0i64..4_102_444_800);
    let decimal = prop::option::of(prop_oneof![
        (-1_000_000i64..1_000_000, 0u32..100).prop_map(|(a, b)| format!("{a}.{b:02}")),
        "[0-9]{1,5}".prop_map(String::from),
    ]);
    let names = || prop::collection::vec("[a-z]{1,5}", 0..3);
    prop_oneof![
        ".{0,12}".prop_map(|text| ControlValue::Text { text }),
        ".{0,12}".prop_map(|text| ControlValue::Textarea { text }),
        decimal
            .clone()
            .prop_map(|number| ControlValue::Number { number }),
        decimal
            .clone()
            .prop_map(|money| ControlValue::Money { money }),
        decimal.prop_map(|value| ControlValue::Formula { value }),
        (
            prop::option::of(prop_oneof![Just(DateKind::Day), Just(DateKind::Hour)]),
            ts.clone()
        )
            .prop_map(|(kind, timestamp)| ControlValue::Date { kind, timestamp }),
        (
            prop::option::of(prop_oneof![
                Just(SelectorKind::Single),
                Just(SelectorKind::Multi)
            ]),
            prop::collection::vec(
                ("[a-z0-9-]{1,6}", prop::collection::vec(lang_text(), 0..3)),
                0..3
            )
        )
            .prop_map(|(kind, opts)| ControlValue::Selector {
                kind,
                options: opts
                    .into_iter()
                    .map(|(key, value)| SelectorOption { key, value })
                    .collect()
            }),
        (names(), prop::option::of("[a-z]{1,4}")).prop_map(|(ids, name)| ControlValue::Contact {
            members: ids
                .into_iter()
                .map(|userid| Member {
                    userid,
                    name: name.clone()
                })
                .collect(),
            departments: vec![],
        }),
        Just(ControlValue::Tips),
        names().prop_map(|ids| ControlValue::File {
            files: ids.into_iter().map(|file_id| FileRef { file_id }).collect()
        }),
        names().prop_map(|ids| ControlValue::WedriveFile {
            files: ids
                .into_iter()
                .map(|fileid| WedriveRef { fileid })
                .collect()
        }),
        names().prop_map(|ids| ControlValue::Doc {
            docs: ids
                .into_iter()
                .map(|docid| DocRef {
                    doc_url: Some(format!("https://d/{docid}")),
                    docid
                })
                .collect()
        }),
        (names(), names()).prop_map(|(s, c)| ControlValue::SchoolContact {
            students: s.into_iter().map(|name| NamedRef { name }).collect(),
            classes: c.into_iter().map(|name| NamedRef { name }).collect(),
        }),
        (ts.clone(), ts, prop::option::of(0i64..1_000_000)).prop_map(|(begin, end, duration_s)| {
            ControlValue::DateRange {
                kind: Some("hour".into()),
                begin,
                end,
                duration_s,
            }
        }),
        ("[a-z]{0,5}", "[a-z]{0,5}").prop_map(|(title, address)| ControlValue::Location {
            latitude: Some("30.5".into()),
            longitude: Some("104.0".into()),
            title,
            address,
            time: Some(1),
        }),
    ]
}

fn control() -> impl Strategy<Value = Control> {
    let titles = || prop::collection::vec(lang_text(), 0..3);
    let leaf = prop_oneof![
        8 => ("[A-Za-z]{1,8}-[0-9]{1,3}", titles(), leaf_value()).prop_map(|(id, t, v)| Control::new(id, t, v)),
        1 => ("[A-Z][a-z]{2,8}X", "[a-z]{1,4}", titles(), small_json()).prop_map(|(ty, id, t, raw)| Control::unknown(ty, id, t, raw)),
        // Unknown types as a server spells them, and a known type with a spelling of its own:
        // a bare Number beyond f64's digits, spaced out.
        1 => ("[A-Z][a-z]{2,8}Y", "[a-z]{1,4}", titles(), raw_json()).prop_map(|(ty, id, t, text)| Control::from_raw(ty, id, t, raw(text))),
        1 => ("[a-z]{1,4}", "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?", prop_oneof![Just(""), Just(" "), Just("\n")]).prop_map(|(id, digits, w)| {
            Control::from_raw("Number", id, vec![], raw(format!("{{{w}\"new_number\"{w}:{w}{digits}{w},\"tips\":[]}}")))
        }),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        (
            "table-[0-9]{1,3}",
            prop::collection::vec(prop::collection::vec(inner, 0..3), 0..3),
        )
            .prop_map(|(id, rows)| {
                Control::new(
                    id,
                    vec![],
                    ControlValue::Table {
                        rows: rows.into_iter().map(|list| TableRow { list }).collect(),
                    },
                )
            })
    })
}

fn journals() -> impl Strategy<Value = Vec<JournalDetail>> {
    let one = (
        prop::collection::vec(control(), 0..5),
        prop::collection::vec("[a-e]", 0..4),
        prop::collection::vec(
            (
                any::<u64>(),
                any::<u64>(),
                "[a-e]",
                ".{0,6}",
                0i64..4_102_444_800,
            ),
            0..3,
        ),
        0i64..4_102_444_800,
    );
    prop::collection::vec(one, 0..6).prop_map(|js| {
        js.into_iter()
            .enumerate()
            .map(|(i, (contents, receivers, comments, report_time))| {
                let receivers: Vec<UserRef> = receivers
                    .into_iter()
                    .map(|userid| UserRef { userid })
                    .collect();
                JournalDetail {
                    journal_uuid: format!("j-{i}"),
                    template_name: "t".into(),
                    template_id: Some("tpl".into()),
                    report_time,
                    submitter: UserRef { userid: "a".into() },
                    readed_receivers: receivers.iter().step_by(2).cloned().collect(),
                    receivers,
                    apply_data: wecom_journal::wecom::types::ApplyData { contents },
                    sys_journal_data: None,
                    comments: comments
                        .into_iter()
                        .map(
                            |(commentid, tocommentid, userid, content, comment_time)| Comment {
                                commentid,
                                tocommentid,
                                comment_userinfo: UserRef { userid },
                                content,
                                comment_time,
                            },
                        )
                        .collect(),
                }
            })
            .collect()
    })
}

fn depth_first<'a>(controls: &'a [Control], out: &mut Vec<&'a Control>) {
    for c in controls {
        out.push(c);
        if let ControlValue::Table { rows } = &c.value {
            for r in rows {
                depth_first(&r.list, out);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_control_comment_and_receiver_is_a_row(generated in journals()) {
        // Through the wire encoding, as the store keeps it.
        let text = serde_json::to_string(&generated).unwrap();
        let decoded: Vec<JournalDetail> = serde_json::from_str(&text).unwrap();
        let (t, _) = flatten(&decoded, &Directory::empty());
        // value_json may hold numbers beyond f64 (1e999): compared as text, never parsed.
        let rows = ctl_rows(&t.journal_controls);
        let json: Vec<String> = (0..t.journal_controls.height()).map(|i| str_at(&t.journal_controls, "value_json", i).unwrap()).collect();
        let uuids: Vec<String> = (0..t.journal_controls.height()).map(|i| str_at(&t.journal_controls, "journal_uuid", i).unwrap()).collect();

        let mut k = 0;
        for j in &generated {
            let mut flat = vec![];
            depth_first(&j.apply_data.contents, &mut flat);
            for (seq, c) in flat.iter().enumerate() {
                prop_assert_eq!(&uuids[k], &j.journal_uuid);
                prop_assert_eq!(rows[k].seq as usize, seq);
                prop_assert_eq!(&rows[k].id, &c.id);
                prop_assert_eq!(&rows[k].ty, &c.control);
                // Byte for byte what was sent.
                prop_assert_eq!(json[k].as_str(), c.raw_value.get(), "value_json of {} in {}", c.id, j.journal_uuid);
                if let ControlValue::Number { number } = &c.value {
                    prop_assert_eq!(&rows[k].text, number, "value_text of {}", c.id);
                }
                k += 1;
            }
        }
        prop_assert_eq!(k, rows.len());

        let c = &t.journal_comments;
        let got: Vec<(String, u64, Option<u64>)> = (0..c.height())
            .map(|i| (str_at(c, "journal_uuid", i).unwrap(), c.column("comment_id").unwrap().u64().unwrap().get(i).unwrap(), c.column("to_comment_id").unwrap().u64().unwrap().get(i)))
            .collect();
        let want: Vec<(String, u64, Option<u64>)> = generated.iter()
            .flat_map(|j| j.comments.iter().map(move |m| (j.journal_uuid.clone(), m.commentid, Some(m.tocommentid).filter(|t| *t != 0))))
            .collect();
        prop_assert_eq!(got, want);

        let r = &t.journal_receivers;
        let mut got: HashMap<(String, String), usize> = HashMap::new();
        for i in 0..r.height() {
            *got.entry((str_at(r, "journal_uuid", i).unwrap(), str_at(r, "userid", i).unwrap())).or_default() += 1;
        }
        // One row per receiver (or reader) and journal, however often the lists repeat them.
        let mut want: HashMap<(String, String), usize> = HashMap::new();
        for j in &generated {
            for u in j.receivers.iter().chain(&j.readed_receivers) {
                want.insert((j.journal_uuid.clone(), u.userid.clone()), 1);
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(t.journals.height(), generated.len());
    }
}

#[test]
fn value_json_keeps_a_non_object_value_of_a_known_type() {
    // A known type whose value is not an object: counted as undecodable, still a row, exact.
    let c: Control = serde_json::from_value(
        json!({"control": "Number", "id": "n", "title": [], "value": [1, 2]}),
    )
    .unwrap();
    let (t, w) = flatten(&[journal("j", vec![c])], &Directory::empty());
    assert_eq!(str_at(&t.journal_controls, "value_json", 0), s("[1,2]"));
    assert_eq!(str_at(&t.journal_controls, "value_text", 0), None);
    assert_eq!(w.undecodable_values.get("Number"), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// The simulator's organisation, flattened in batches as the run streams it

#[test]
fn the_simulators_org_flattens_in_batches_consistently_with_its_stats() {
    use wecom_journal::sim::{Org, SimConfig};
    let org = Org::generate(&SimConfig {
        users: 40,
        days: 21,
        ..SimConfig::default()
    });
    assert!(!org.journals.is_empty() && !org.stats.is_empty());
    let dir = crate::common::org_directory(&org);

    let mut warnings = Warnings::default();
    let mut journals: Option<DataFrame> = None;
    let mut control_rows = 0;
    for batch in org.journals.chunks(97) {
        let mut w = Warnings::default();
        let t = flatten_journals(batch, &dir, Shanghai, &LocalPaths::none(), &mut w).unwrap();
        warnings.merge(&w);
        control_rows += t.journal_controls.height();
        match journals.as_mut() {
            Some(j) => {
                j.vstack_mut(&t.journals).unwrap();
            }
            None => journals = Some(t.journals),
        }
    }
    let journals = journals.unwrap();
    assert_eq!(journals.height(), org.journals.len());

    // Every control, Table cells included, is a row; undocumented types are counted, not lost.
    let mut all = vec![];
    for j in &org.journals {
        depth_first(&j.apply_data.contents, &mut all);
    }
    assert_eq!(control_rows, all.len());
    let mut unknown: std::collections::BTreeMap<String, u64> = Default::default();
    for c in &all {
        if !ControlValue::KNOWN_CONTROLS.contains(&c.control.as_str()) {
            *unknown.entry(c.control.clone()).or_default() += 1;
        }
    }
    assert!(
        !unknown.is_empty(),
        "the simulator sends an undocumented control type"
    );
    assert_eq!(warnings.unknown_control_types, unknown);
    assert!(warnings.undecodable_values.is_empty(), "{warnings}");

    // Submitters' departments are their main departments, else the first listed for them.
    for i in 0..journals.height() {
        let submitter = str_at(&journals, "submitter_userid", i).unwrap();
        let main = org.department_of(&submitter).unwrap();
        let name = &org.departments.iter().find(|d| d.id == main).unwrap().name;
        assert_eq!(
            journals
                .column("department_id")
                .unwrap()
                .u64()
                .unwrap()
                .get(i),
            Some(main)
        );
        assert_eq!(str_at(&journals, "department_name", i).as_ref(), Some(name));
    }

    // Stats agree with the details: a reported item names a journal with the same report_time,
    // late exactly when submitted after the counting window.
    let report_time: HashMap<String, i64> = (0..journals.height())
        .map(|i| {
            (
                str_at(&journals, "journal_uuid", i).unwrap(),
                time_at(&journals, "report_time", i).unwrap(),
            )
        })
        .collect();
    let st = flatten_stats(&org.stats, &dir, Shanghai).unwrap();
    let cycles = &st.stat_cycles;
    assert_eq!(cycles.height(), org.stats.len());
    let u = |c: &str, i| cycles.column(c).unwrap().u32().unwrap().get(i).unwrap();
    for i in 0..cycles.height() {
        assert_eq!(u("expected", i), u("reported", i) + u("unreported", i));
        assert!(u("late", i) <= u("reported", i));
    }
    let items = &st.stat_items;
    let mut late = 0;
    let mut stat_end: HashMap<(String, i64), i64> = HashMap::new();
    for i in 0..cycles.height() {
        stat_end.insert(
            (
                str_at(cycles, "template_id", i).unwrap(),
                time_at(cycles, "cycle_begin", i).unwrap(),
            ),
            time_at(cycles, "stat_end", i).unwrap(),
        );
    }
    for i in 0..items.height() {
        let is_late = items.column("is_late").unwrap().bool().unwrap().get(i);
        if str_at(items, "status", i).as_deref() != Some("reported") {
            assert_eq!(is_late, None);
            continue;
        }
        let uuid = str_at(items, "journal_uuid", i).unwrap();
        let t = time_at(items, "report_time", i).unwrap();
        assert_eq!(
            report_time.get(&uuid),
            Some(&t),
            "journal {uuid} of a stat item"
        );
        let end = stat_end[&(
            str_at(items, "template_id", i).unwrap(),
            time_at(items, "cycle_begin", i).unwrap(),
        )];
        assert_eq!(is_late, Some(t > end), "journal {uuid}");
        late += u32::from(is_late == Some(true));
    }
    let total_late: u32 = cycles
        .column("late")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .sum();
    assert_eq!(total_late, late);
    assert!(late > 0, "the simulator makes some journals late");

    let (departments, users) = directory_tables(&dir).unwrap();
    assert_eq!(departments.height(), org.departments.len());
    assert_eq!(users.height(), org.users.len());
}

#[test]
fn an_impossible_timestamp_leaves_out_the_item_and_names_it() {
    let mut d = journal("j-broken", vec![]);
    d.report_time = i64::MAX / 10;
    let fine = journal("j-fine", vec![]);
    let mut warnings = Warnings::default();
    let t = flatten_journals(
        &[d, fine],
        &Directory::empty(),
        Shanghai,
        &LocalPaths::none(),
        &mut warnings,
    )
    .unwrap();
    assert_eq!(t.journals.height(), 1);
    assert_eq!(str_at(&t.journals, "journal_uuid", 0), s("j-fine"));
    assert_eq!(warnings.skipped.len(), 1, "{:?}", warnings.skipped);
    let e = &warnings.skipped[0];
    assert!(e.contains("j-broken") && e.contains("report_time"), "{e}");
    let mut stats: StatListResponse = serde_json::from_str(STATS).unwrap();
    stats.stat_list[0].cycle_end_time = u64::MAX;
    let t = flatten_stats(&stats.stat_list, &Directory::empty(), Shanghai).unwrap();
    assert_eq!(t.stat_cycles.height(), 0);
    assert_eq!(t.skipped.len(), 1);
    let e = &t.skipped[0];
    assert!(
        e.contains("tpl-daily")
            && e.contains("cycle_end_time")
            && e.contains(&u64::MAX.to_string()),
        "{e}"
    );
}
