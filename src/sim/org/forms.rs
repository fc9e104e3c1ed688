//! The forms of the synthetic organisation: its five templates and the controls of the daily,
//! weekly, monthly and 安全巡检 reports. Every documented control shape appears, Table rows nested in a
//! Table, and one control type the API appendix does not document.
//!
//! The random stream is drawn in a fixed order (the organisation of a seed depends on it): a
//! form first draws what it needs, then lays its controls out.

use chrono::Days;
use serde_json::{json, Value};

use super::super::rng::{mix, Rng, ALNUM};
use super::super::SimTemplate;
use super::cycles::Cycle;
use super::journals::Generator;
use super::{local_ts, FREE_FORM};
use crate::wecom::types::*;

pub(super) const WORK: &[&str] = &[
    "完成接口联调",
    "修复线上问题 3 个",
    "客户拜访两家",
    "整理季度报表",
    "参加需求评审",
    "编写测试用例",
    "优化查询性能",
    "今日暂无工作",
    "跟进合同签署",
    "招聘面试 4 场",
];

pub(super) const PLANS: &[&str] = &[
    "继续推进项目排期\n准备周会材料",
    "完成剩余用例",
    "拜访华东区客户",
    "代码评审\n上线准备",
    "整理培训资料",
];

const PROJECTS: &[(&str, &str)] = &[
    ("数据平台", "Data platform"),
    ("移动端改版", "Mobile redesign"),
    ("客户管理系统", "CRM"),
    ("年度预算", "Annual budget"),
];

/// The daily (日报), weekly (周报), monthly (月报), free-form (汇报) and weekly 安全巡检
/// templates, in that order.
pub(super) fn templates(rng: &mut Rng) -> Vec<SimTemplate> {
    vec![
        SimTemplate {
            id: rng.token(ALNUM, 40),
            name: "日报".into(),
            report_type: 2,
        },
        SimTemplate {
            id: rng.token(ALNUM, 40),
            name: "周报".into(),
            report_type: 3,
        },
        SimTemplate {
            id: rng.token(ALNUM, 40),
            name: "月报".into(),
            report_type: 4,
        },
        SimTemplate {
            id: rng.token(ALNUM, 40),
            name: "汇报".into(),
            report_type: FREE_FORM,
        },
        SimTemplate {
            id: rng.token(ALNUM, 40),
            name: "安全巡检".into(),
            report_type: 3,
        },
    ]
}

fn zh(text: &str) -> Vec<LangText> {
    vec![LangText {
        text: text.into(),
        lang: Some("zh_CN".into()),
    }]
}

fn zh_en(text: &str, en: &str) -> Vec<LangText> {
    vec![
        LangText {
            text: text.into(),
            lang: Some("zh_CN".into()),
        },
        LangText {
            text: en.into(),
            lang: Some("en".into()),
        },
    ]
}

/// A title as older responses and single-language corps send it: no `lang`.
fn plain(text: &str) -> Vec<LangText> {
    vec![LangText {
        text: text.into(),
        lang: None,
    }]
}

fn option(key: &str, zh_text: &str, en_text: &str) -> SelectorOption {
    SelectorOption {
        key: key.into(),
        value: zh_en(zh_text, en_text),
    }
}

/// The weekly form's random parts, drawn before it is laid out (in this order).
struct WeeklyDraws {
    projects: Vec<SelectorOption>,
    departments: Vec<DepartmentPick>,
    rows: Vec<TableRow>,
    trip: ControlValue,
    wedrive: Vec<WedriveRef>,
    doc: DocRef,
    students: Vec<NamedRef>,
    related: Value,
    cents: u64,
}

impl Generator<'_> {
    pub(super) fn daily_controls(&mut self, user: usize, cycle: &Cycle) -> Vec<Control> {
        let tz = self.config.timezone;
        let status = [
            ("option-1", "正常", "Normal"),
            ("option-2", "加班", "Overtime"),
            ("option-3", "请假", "Leave"),
        ];
        let (k, z, e) = *self.rng.pick(&status).unwrap_or(&status[0]);
        let mut members: Vec<Member> = (0..self.rng.below(3)).map(|_| self.member()).collect();
        members.retain(|m| m.userid != self.users[user].userid);
        let files = if self.rng.chance(0.2) {
            let n = self.next_serial();
            vec![FileRef {
                file_id: format!("media-{:016x}", mix(self.config.seed ^ n)),
            }]
        } else {
            vec![]
        };
        vec![
            Control::new(
                "Text-1700000000001",
                zh_en("今日工作", "Today's work"),
                ControlValue::Text {
                    text: self.rng.pick(WORK).copied().unwrap_or("").into(),
                },
            ),
            Control::new(
                "Textarea-1700000000002",
                zh("明日计划"),
                ControlValue::Textarea {
                    text: self.rng.pick(PLANS).copied().unwrap_or("").into(),
                },
            ),
            Control::new(
                "Number-1700000000003",
                plain("工时(小时)"),
                ControlValue::Number {
                    number: Some(format!(
                        "{}.{}",
                        4 + self.rng.below(7),
                        5 * self.rng.below(2)
                    )),
                },
            ),
            Control::new(
                "Selector-1700000000004",
                zh_en("工作状态", "Status"),
                ControlValue::Selector {
                    kind: Some(SelectorKind::Single),
                    options: vec![option(k, z, e)],
                },
            ),
            Control::new(
                "Contact-1700000000005",
                zh("协作人"),
                ControlValue::Contact {
                    members,
                    departments: vec![],
                },
            ),
            Control::new(
                "Date-1700000000006",
                zh("日期"),
                ControlValue::Date {
                    kind: Some(DateKind::Day),
                    timestamp: Some(local_ts(&tz, cycle.first_day, 0, 0)),
                },
            ),
            Control::new(
                "File-1700000000007",
                zh("附件"),
                ControlValue::File { files },
            ),
        ]
    }

    pub(super) fn weekly_controls(
        &mut self,
        user: usize,
        report_time: i64,
        cycle: &Cycle,
    ) -> Vec<Control> {
        let draws = self.weekly_draws(user, cycle);
        self.weekly_layout(draws, report_time, cycle)
    }

    fn weekly_draws(&mut self, user: usize, cycle: &Cycle) -> WeeklyDraws {
        let projects: Vec<SelectorOption> = PROJECTS
            .iter()
            .enumerate()
            .filter(|_| self.rng.chance(0.5))
            .map(|(i, (z, e))| option(&format!("project-{}", i + 1), z, e))
            .collect();
        let main = self.users[user].main_department.unwrap_or(1);
        let departments = vec![DepartmentPick {
            openapi_id: main.to_string(),
            name: self.dept_names.get(&main).map(|n| (*n).to_string()),
        }];
        let rows = self.project_rows(cycle);
        let trip = self.business_trip(cycle);
        let wedrive: Vec<WedriveRef> = (0..1 + self.rng.below(2))
            .map(|_| {
                let n = self.next_serial();
                WedriveRef {
                    fileid: format!("wdf{:020x}", mix(self.config.seed.wrapping_add(n)) >> 8),
                }
            })
            .collect();
        let doc_n = self.next_serial();
        let docid = format!("doc{:016x}", mix(self.config.seed ^ (doc_n << 1)));
        let doc_url = doc_n
            .is_multiple_of(2)
            .then(|| format!("https://doc.weixin.qq.com/doc/{docid}"));
        let students: Vec<NamedRef> = (0..self.rng.below(3))
            .map(|i| NamedRef {
                name: format!("学员{}", i + 1),
            })
            .collect();
        let mut related = ControlValue::Tips.to_api_value();
        if let Value::Object(m) = &mut related {
            m.insert(
                "related_approval".into(),
                json!([{ "sp_no": format!("2026{:08}", self.next_serial()),
                         "template_names": [{"text": "费用报销", "lang": "zh_CN"}],
                         "sp_status": 2 }]),
            );
        }
        let cents = self.rng.below(1_000_000);
        WeeklyDraws {
            projects,
            departments,
            rows,
            trip,
            wedrive,
            doc: DocRef { docid, doc_url },
            students,
            related,
            cents,
        }
    }

    /// The weekly form's Table: a row per project, the first with a Table of sub-tasks.
    fn project_rows(&mut self, cycle: &Cycle) -> Vec<TableRow> {
        let tz = self.config.timezone;
        let risk = [
            ("risk-1", "低", "Low"),
            ("risk-2", "中", "Medium"),
            ("risk-3", "高", "High"),
        ];
        let row_count = 1 + self.rng.below(3);
        let mut rows = Vec::new();
        for r in 0..row_count {
            let (pz, _) = *self.rng.pick(PROJECTS).unwrap_or(&PROJECTS[0]);
            let (rk, rz, re) = *self.rng.pick(&risk).unwrap_or(&risk[0]);
            let mut list = vec![
                Control::new(
                    "Text-1700000000101",
                    zh("项目"),
                    ControlValue::Text { text: pz.into() },
                ),
                Control::new(
                    "Number-1700000000102",
                    zh_en("进度(%)", "Progress (%)"),
                    ControlValue::Number {
                        number: Some((10 * self.rng.below(11)).to_string()),
                    },
                ),
                Control::new(
                    "Selector-1700000000103",
                    zh_en("风险", "Risk"),
                    ControlValue::Selector {
                        kind: Some(SelectorKind::Single),
                        options: vec![option(rk, rz, re)],
                    },
                ),
            ];
            if r == 0 {
                // A Table inside a Table row: sub-tasks of the first project.
                let sub_rows = (0..1 + self.rng.below(2))
                    .map(|s| TableRow {
                        list: vec![
                            Control::new(
                                "Text-1700000000111",
                                plain("子任务"),
                                ControlValue::Text {
                                    text: format!("子任务 {}", s + 1),
                                },
                            ),
                            Control::new(
                                "Date-1700000000112",
                                plain("截止日期"),
                                ControlValue::Date {
                                    kind: Some(DateKind::Day),
                                    timestamp: Some(local_ts(
                                        &tz,
                                        cycle.first_day + Days::new(7 + s),
                                        0,
                                        0,
                                    )),
                                },
                            ),
                        ],
                    })
                    .collect();
                list.push(Control::new(
                    "Table-1700000000110",
                    zh("子任务明细"),
                    ControlValue::Table { rows: sub_rows },
                ));
            }
            rows.push(TableRow { list });
        }
        rows
    }

    /// A DateRange by half days or by hours.
    fn business_trip(&mut self, cycle: &Cycle) -> ControlValue {
        let tz = self.config.timezone;
        let trip_begin = local_ts(
            &tz,
            cycle.first_day + Days::new(1 + self.rng.below(3)),
            9,
            0,
        );
        let halfdays = 1 + self.rng.below(4) as i64;
        let (range_kind, trip_end, duration) = if self.rng.chance(0.5) {
            ("halfday", trip_begin + halfdays * 43_200, halfdays * 43_200)
        } else {
            let hours = 1 + self.rng.below(8) as i64;
            ("hour", trip_begin + hours * 3600, hours * 3600)
        };
        ControlValue::DateRange {
            kind: Some(range_kind.into()),
            begin: Some(trip_begin),
            end: Some(trip_end),
            duration_s: Some(duration),
        }
    }

    /// The weekly form's controls, in the form's order; the layout draws the rest.
    fn weekly_layout(
        &mut self,
        draws: WeeklyDraws,
        report_time: i64,
        cycle: &Cycle,
    ) -> Vec<Control> {
        let tz = self.config.timezone;
        let WeeklyDraws {
            projects,
            departments,
            rows,
            trip,
            wedrive,
            doc,
            students,
            related,
            cents,
        } = draws;
        vec![
            Control::new(
                "Text-1700000000021",
                plain("本周总结"),
                ControlValue::Text {
                    text: self.rng.pick(WORK).copied().unwrap_or("").into(),
                },
            ),
            Control::new(
                "Money-1700000000022",
                zh_en("报销金额", "Expenses"),
                ControlValue::Money {
                    money: Some(format!("{}.{:02}", cents / 100, cents % 100)),
                },
            ),
            Control::new(
                "Date-1700000000023",
                zh("下次会议"),
                ControlValue::Date {
                    kind: Some(DateKind::Hour),
                    timestamp: Some(local_ts(
                        &tz,
                        cycle.first_day + Days::new(7),
                        10 + self.rng.below(6) as u32,
                        0,
                    )),
                },
            ),
            Control::new(
                "Selector-1700000000024",
                zh_en("涉及项目", "Projects"),
                ControlValue::Selector {
                    kind: Some(SelectorKind::Multi),
                    options: projects,
                },
            ),
            Control::new(
                "Contact-1700000000025",
                zh("协作部门"),
                ControlValue::Contact {
                    members: vec![],
                    departments,
                },
            ),
            Control::new("Tips-1700000000026", zh("填写说明"), ControlValue::Tips),
            Control::new(
                "Table-1700000000027",
                zh_en("项目明细", "Projects detail"),
                ControlValue::Table { rows },
            ),
            Control::new("DateRange-1700000000028", zh("出差时间"), trip),
            Control::new(
                "Location-1700000000029",
                zh("打卡地点"),
                ControlValue::Location {
                    latitude: Some(format!("31.{:06}", self.rng.below(1_000_000))),
                    longitude: Some(format!("121.{:06}", self.rng.below(1_000_000))),
                    title: "上海中心大厦".into(),
                    address: "上海市浦东新区银城中路501号".into(),
                    time: Some(report_time - self.rng.range_i64(600, 7200)),
                },
            ),
            Control::new(
                "Formula-1700000000030",
                zh("合计"),
                ControlValue::Formula {
                    value: Some(format!("{}.{:02}", cents / 100 + 100, cents % 100)),
                },
            ),
            Control::new(
                "SchoolContact-1700000000031",
                zh("培训学员"),
                ControlValue::SchoolContact {
                    students,
                    classes: vec![],
                },
            ),
            Control::new(
                "Doc-1700000000032",
                zh("相关文档"),
                ControlValue::Doc { docs: vec![doc] },
            ),
            Control::new(
                "WedriveFile-1700000000033",
                zh("微盘文件"),
                ControlValue::WedriveFile { files: wedrive },
            ),
            // A control type the appendix does not document: clients must keep it as it is.
            Control::unknown(
                "RelatedApproval",
                "RelatedApproval-1700000000034",
                zh("关联审批"),
                related,
            ),
        ]
    }

    pub(super) fn monthly_controls(&mut self) -> Vec<Control> {
        let grade = [
            ("grade-1", "优秀", "Excellent"),
            ("grade-2", "良好", "Good"),
            ("grade-3", "待改进", "Needs work"),
        ];
        let (k, z, e) = *self.rng.pick(&grade).unwrap_or(&grade[0]);
        let classes: Vec<NamedRef> = (0..1 + self.rng.below(2))
            .map(|i| NamedRef {
                name: format!("{}班", i + 1),
            })
            .collect();
        let students: Vec<NamedRef> = (0..self.rng.below(2))
            .map(|i| NamedRef {
                name: format!("Student {}", i + 1),
            })
            .collect();
        let rate = 60 + self.rng.below(41);
        vec![
            Control::new(
                "Textarea-1700000000041",
                plain("本月总结"),
                ControlValue::Textarea {
                    text: self.rng.pick(PLANS).copied().unwrap_or("").into(),
                },
            ),
            Control::new(
                "Number-1700000000042",
                plain("完成率"),
                ControlValue::Number {
                    number: Some(format!("{rate}.0")),
                },
            ),
            Control::new(
                "SchoolContact-1700000000043",
                zh("辅导学员"),
                ControlValue::SchoolContact {
                    students,
                    classes: vec![],
                },
            ),
            Control::new(
                "SchoolContact-1700000000044",
                zh("负责班级"),
                ControlValue::SchoolContact {
                    students: vec![],
                    classes,
                },
            ),
            Control::new(
                "Formula-1700000000045",
                zh("绩效得分"),
                ControlValue::Formula {
                    value: Some(format!("{}", rate as f64 / 10.0)),
                },
            ),
            Control::new(
                "Selector-1700000000046",
                zh_en("自评", "Self-assessment"),
                ControlValue::Selector {
                    kind: Some(SelectorKind::Single),
                    options: vec![option(k, z, e)],
                },
            ),
        ]
    }

    /// The 安全巡检 (safety inspection) form: a verdict, a count, what was found.
    pub(super) fn inspection_controls(&mut self) -> Vec<Control> {
        let verdicts = [
            ("verdict-1", "通过", "Passed"),
            ("verdict-2", "需整改", "Needs fixing"),
        ];
        let (k, z, e) = *self.rng.pick(&verdicts).unwrap_or(&verdicts[0]);
        let checked = 5 + self.rng.below(20);
        let finding = self.rng.pick(PLANS).copied().unwrap_or("");
        vec![
            Control::new(
                "Selector-1700000000051",
                zh_en("检查结果", "Verdict"),
                ControlValue::Selector {
                    kind: Some(SelectorKind::Single),
                    options: vec![option(k, z, e)],
                },
            ),
            Control::new(
                "Number-1700000000052",
                plain("检查项数"),
                ControlValue::Number {
                    number: Some(checked.to_string()),
                },
            ),
            Control::new(
                "Textarea-1700000000053",
                zh("问题描述"),
                ControlValue::Textarea {
                    text: finding.into(),
                },
            ),
        ]
    }
}
