//! Every word the workbook shows a reader, in each language of `output.language`: sheet
//! names, column headers, summary labels, chart and axis titles. One home, so that a language
//! is complete or the test below fails. The data files never use these: they keep the stable
//! column names of `docs/schema.md`.

use crate::job::Language;

/// `(key, 中文, English)`. A key is a stable column name (`late_rate`) or a workbook word
/// (`sheet.summary`).
const LABELS: &[(&str, &str, &str)] = &[
    // Sheets.
    ("sheet.summary", "汇总", "Summary"),
    ("sheet.late_rate_by_department", "部门迟交", "Late by department"),
    ("sheet.late_rate_by_user", "个人迟交", "Late by person"),
    ("sheet.unreported_roster", "未交名单", "Unreported roster"),
    ("sheet.read_rate_by_template", "阅读率", "Read rate"),
    ("sheet.chart", "图表", "Chart"),
    ("sheet.journals", "明细", "Journals"),
    ("sheet.table", "表格", "Table"),
    // Report and wide-sheet columns (stable names).
    ("period", "期间", "Period"),
    ("template_name", "模板", "Template"),
    ("template_id", "模板 ID", "Template id"),
    ("department_path", "部门", "Department"),
    ("department_name", "部门名称", "Department name"),
    ("department_id", "部门 ID", "Department id"),
    ("user_name", "姓名", "Name"),
    ("userid", "账号", "User id"),
    ("expected", "应交", "Expected"),
    ("reported", "已交", "Reported"),
    ("on_time", "按时", "On time"),
    ("late", "迟交", "Late"),
    ("unreported", "未交", "Unreported"),
    ("missed", "迟交 + 未交", "Late + unreported"),
    ("late_rate", "迟交率", "Late rate"),
    ("on_time_rate", "按时率", "On-time rate"),
    ("unreported_rate", "未交率", "Unreported rate"),
    ("small_group", "样本少", "Small group"),
    ("cycle_begin", "周期开始", "Cycle start"),
    ("cycle_end", "周期结束", "Cycle end"),
    ("journals", "汇报数", "Journals"),
    ("receivers", "接收人次", "Receivers"),
    ("reads", "已读人次", "Reads"),
    ("read_rate", "阅读率", "Read rate"),
    ("report_time", "提交时间", "Submitted at"),
    ("report_date", "汇报日期", "Report date"),
    ("journal_uuid", "汇报 ID", "Journal id"),
    ("receiver_count", "接收人数", "Receivers"),
    ("read_count", "已读人数", "Read by"),
    ("comment_count", "评论数", "Comments"),
    ("sys_journal_data", "汇报内容", "Report text"),
    ("table_row", "行", "Row"),
    ("previous", "上期", "Previous period"),
    ("late_rate_previous", "上期迟交率", "Late rate, previous period"),
    ("late_rate_change", "迟交率变化", "Late rate change"),
    ("unreported_rate_previous", "上期未交率", "Unreported rate, previous period"),
    ("unreported_rate_change", "未交率变化", "Unreported rate change"),
    ("change", "变化", "Change"),
    // Summary.
    ("summary.title", "汇报合规报告", "Reporting compliance"),
    ("summary.job", "任务", "Job"),
    ("summary.range", "范围", "Range"),
    ("summary.run", "运行", "Run"),
    ("summary.seen", "数据日期", "Dates in the data"),
    ("summary.people", "人数", "People"),
    ("summary.departments", "部门数", "Departments"),
    ("summary.templates", "模板数", "Templates"),
    ("summary.by_template", "按模板", "By template"),
    ("summary.worst_departments", "迟交、未交最多的部门（前五）", "Departments with the most late or unreported reports (top 5)"),
    ("summary.worst_people", "迟交、未交最多的人（前十）", "People with the most late or unreported reports (top 10)"),
    ("summary.previous", "与上期相比", "Against the previous period"),
    ("summary.no_previous", "存储中没有上期数据。", "The store holds no previous period."),
    ("summary.definitions", "定义", "Definitions"),
    ("def.expected", "应交：每人每个周期应交的一份汇报（同一周期重复列出只算一次）。", "Expected: one report per person and cycle (a person listed twice in a cycle counts once)."),
    ("def.on_time", "按时：周期截止前提交。迟交：截止后提交。未交：周期内没有提交。应交 = 按时 + 迟交 + 未交。", "On time: submitted before the cycle's deadline. Late: after it. Unreported: not submitted. Expected = on time + late + unreported."),
    ("def.late_rate", "迟交率 = 迟交 ÷ 已交（已交汇报中迟交的比例）。", "Late rate = late ÷ reported (the share of submitted reports that came late)."),
    ("def.unreported_rate", "未交率 = 未交 ÷ 应交（应交汇报中没有提交的比例）。", "Unreported rate = unreported ÷ expected (the share of expected reports never submitted)."),
    ("def.small", "应交少于 {n} 份的部门或个人标为“样本少”，不做突出显示。", "Departments or people with fewer than {n} expected reports are marked small and never highlighted."),
    ("def.templates", "各模板的周期不同（日报、周报、月报），应交数不相加。", "Templates have different cycles (daily, weekly, monthly): their expected reports are not added up."),
    // Charts.
    ("chart.by_department", "按部门的迟交率与未交率", "Late and unreported rate by department"),
    ("chart.trend", "各期迟交率与未交率", "Late and unreported rate by period"),
    ("chart.rate_axis", "比率", "Rate"),
    ("chart.department_axis", "部门（n = 应交）", "Department (n = expected)"),
    ("chart.period_axis", "期间", "Period"),
    ("chart.small", "样本少", "small"),
    ("chart.note", "条形按未交率、迟交率从高到低排列；灰色为样本少的部门（应交少于 {n} 份），不突出显示；红色为迟交率超过 {t} 的部门。", "Bars are sorted by unreported rate, then late rate; grey bars are small groups (fewer than {n} expected), never highlighted; red marks a late rate above {t}."),
    // Wide sheets.
    ("wide.table_rows", "{n} 行，见“{sheet}”", "{n} rows, see “{sheet}”"),
    ("wide.capped", "另有 {n} 行未写入：Excel 每张表最多 1,048,576 行；Parquet/CSV 数据表包含全部。", "{n} more rows not written: Excel holds 1,048,576 rows a sheet; the Parquet/CSV tables hold them all."),
    ("yes", "是", "yes"),
];

/// The label of `key` in `language`; an unknown key is shown as it is (a stable column name
/// reads better than nothing).
pub(crate) fn label(language: Language, key: &str) -> String {
    LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| match language {
            Language::Zh => *zh,
            Language::En => *en,
        })
        .unwrap_or(key)
        .to_string()
}

/// [`label`] with `{name}` placeholders filled.
pub(crate) fn label_with(language: Language, key: &str, values: &[(&str, String)]) -> String {
    let mut text = label(language, key);
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_and_keys_are_unique() {
        let mut keys = std::collections::BTreeSet::new();
        for (key, zh, en) in LABELS {
            assert!(keys.insert(*key), "{key} twice");
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            assert!(
                en.is_ascii() || en.contains('“') || en.contains('÷'),
                "{key}: {en}"
            );
        }
        assert_eq!(label(Language::Zh, "late_rate"), "迟交率");
        assert_eq!(label(Language::En, "late_rate"), "Late rate");
        assert_eq!(label(Language::En, "no_such_column"), "no_such_column");
        assert_eq!(
            label_with(Language::En, "def.small", &[("n", "3".into())]),
            "Departments or people with fewer than 3 expected reports are marked small and never highlighted."
        );
    }
}
