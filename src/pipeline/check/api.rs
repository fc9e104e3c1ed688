//! The checks that call WeCom: `gettoken`, the record list, the templates of a sample of
//! journals and their stats; the directory's are in [`super::directory`]. One client, with few
//! retries (a preflight should answer fast), whose call counts are the report's.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;

use super::{counted, directory, sample_days, CheckId, CheckLine, Status, DETAILS_PER_DAY};
use super::{MAX_STAT_TEMPLATES, SAMPLE_DAYS};
use crate::job::plan::local_midnight;
use crate::job::{DateRange, Job};
use crate::wecom::types::{RecordListRequest, StatListRequest};
use crate::wecom::{errcode, ClientConfig, WecomClient, WecomError};

/// Calls made, per endpoint name.
pub(super) type Calls = BTreeMap<&'static str, u64>;

/// The API checks `job` gets, in order (for skipping them all).
pub(super) fn checks_of(job: &Job) -> impl Iterator<Item = CheckId> {
    [
        CheckId::Token,
        CheckId::RecordList,
        CheckId::Templates,
        CheckId::Stats,
    ]
    .into_iter()
    .chain(directory::checks_of(job))
}

/// Runs the API checks over `window` on a runtime of their own.
pub(super) fn run(job: &Job, window: DateRange) -> std::io::Result<(Vec<CheckLine>, Calls)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(run_async(job, window)))
}

async fn run_async(job: &Job, window: DateRange) -> (Vec<CheckLine>, Calls) {
    // The job's client (as `pipeline::client_for` builds it), answering sooner: a preflight
    // retries a transient failure twice, not six times.
    let mut config = ClientConfig::new(
        &job.source.api_base,
        &job.source.corp_id,
        job.source.secret.clone(),
    );
    config.limits = job.source.limits.clone();
    config.max_retries = 2;
    config.timeout = Duration::from_secs(15);
    let client = match WecomClient::new(config) {
        Ok(client) => client,
        Err(e) => {
            let mut lines = vec![CheckLine::fail(CheckId::Token, e.to_string(), None)];
            let why = "needs an access token";
            lines.extend(checks_of(job).skip(1).map(|id| CheckLine::skipped(id, why)));
            return (lines, Calls::new());
        }
    };
    let mut lines = vec![token(job, &client).await];
    if lines[0].status != Status::Pass {
        let why = "needs an access token";
        lines.extend(checks_of(job).skip(1).map(|id| CheckLine::skipped(id, why)));
        return (lines, client.stats().calls);
    }
    let sample = sample(job, &client, window).await;
    lines.extend([sample.list_line.clone(), sample.templates_line.clone()]);
    let (stats_line, stat_users) = stats(job, &client, window, &sample).await;
    lines.push(stats_line);
    let mut reporting: BTreeSet<String> = sample.submitters.clone();
    reporting.extend(stat_users);
    lines.extend(directory::run(job, &client, &reporting).await);
    (lines, client.stats().calls)
}

/// A failed call as a check line: the errcode and its meaning, and the errcode's hint. WeCom's
/// errmsg (a per-answer token, the caller's IP, a link) is said only for an errcode without a
/// hint, where it is all a person has to go on.
pub(super) fn failed(check: CheckId, what: &str, e: &WecomError) -> CheckLine {
    let summary = match e {
        WecomError::Api {
            errcode, errmsg, ..
        } => {
            let meaning = errcode::meaning(*errcode);
            match e.hint() {
                Some(_) => format!("{what}: errcode {errcode} ({meaning})"),
                None => format!("{what}: errcode {errcode} ({meaning}): {errmsg}"),
            }
        }
        other => format!("{what}: {other}"),
    };
    let hint = e.hint().or_else(|| match e {
        WecomError::Transport { .. } => Some(
            "check [source] api_base (or WECOM_API_BASE) and that this machine reaches it \
             (a proxy, a firewall)"
                .into(),
        ),
        _ => None,
    });
    CheckLine::fail(check, summary, hint).with_errcode(e.errcode())
}

/// `gettoken`: whether the corp id and the secret are accepted. Neither is printed; a value
/// with a space or line break at an end (pasted with one) is named when WeCom refuses it.
async fn token(job: &Job, client: &WecomClient) -> CheckLine {
    let e = match client.authenticate().await {
        Ok(()) => {
            return CheckLine::pass(CheckId::Token, "the corp id and the secret are accepted")
        }
        Err(e) => e,
    };
    let mut line = failed(CheckId::Token, "no token", &e);
    let padded: Vec<&str> = [
        ("corp id", job.source.corp_id.as_str()),
        ("secret", job.source.secret.expose()),
    ]
    .into_iter()
    .filter(|(_, value)| value.trim() != *value)
    .map(|(name, _)| name)
    .collect();
    let credential_refused = [
        errcode::INVALID_CORP_ID,
        errcode::INVALID_SECRET,
        errcode::SECRET_INVALID,
    ]
    .into_iter()
    .any(|code| e.is(code));
    if credential_refused && !padded.is_empty() {
        line.hint = Some(format!(
            "the {} has a space or a line break at its start or end (pasted with one?): remove \
             it where [source] takes it from (the job file or its ${{VAR}})",
            padded.join(" and the ")
        ));
    }
    line
}

/// What the record lists and details of the sampled days showed.
#[derive(Debug, Clone)]
pub(super) struct Sample {
    list_line: CheckLine,
    templates_line: CheckLine,
    /// Template id → its name and the sampled journals of it.
    templates: BTreeMap<String, (String, usize)>,
    /// Template name → sampled journals of it whose details carry no `template_id` (as the
    /// reference's own example) and whose name no sampled detail with an id shares.
    unresolved: BTreeMap<String, usize>,
    /// Submitters of the sampled journals.
    pub(super) submitters: BTreeSet<String>,
}

fn list_request(tz: Tz, day: NaiveDate) -> RecordListRequest {
    let start = local_midnight(tz, day);
    let end = local_midnight(tz, day + Days::new(1));
    RecordListRequest {
        starttime: start,
        endtime: end - 1,
        cursor: 0,
        limit: 100,
        filters: Vec::new(),
    }
}

/// The journals of a page whose details are read: [`DETAILS_PER_DAY`] spread evenly over it
/// (the page is in time order, and templates keep their own hours).
fn picks(page: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = (1..=DETAILS_PER_DAY)
        .filter_map(|k| page.get(k * page.len() / (DETAILS_PER_DAY + 1)))
        .collect();
    out.dedup();
    out
}

/// The record list of the last day (the record-list check), then of the other sampled days,
/// and the details of a few journals of each (the templates check).
async fn sample(job: &Job, client: &WecomClient, window: DateRange) -> Sample {
    let tz = job.source.timezone;
    let days = sample_days(window);
    let mut out = Sample {
        list_line: CheckLine::skipped(CheckId::RecordList, "no day to ask for"),
        templates_line: CheckLine::skipped(CheckId::Templates, "needs the record list"),
        templates: BTreeMap::new(),
        unresolved: BTreeMap::new(),
        submitters: BTreeSet::new(),
    };
    let mut pages = Vec::with_capacity(SAMPLE_DAYS);
    for (i, day) in days.iter().enumerate() {
        match client.get_record_list(&list_request(tz, *day)).await {
            Ok(page) => pages.push(page.value),
            Err(e) if i == 0 => {
                let what = format!("get_record_list for {day}");
                out.list_line = failed(CheckId::RecordList, &what, &e);
                return out;
            }
            Err(e) => {
                let what = format!("get_record_list for {day}");
                out.templates_line = failed(CheckId::Templates, &what, &e);
                return out;
            }
        }
        if i == 0 {
            let page = &pages[0];
            let more = if page.endflag == 0 { "+" } else { "" };
            out.list_line = CheckLine::pass(
                CheckId::RecordList,
                format!(
                    "answers for {day}: {}{more} journals",
                    page.journaluuid_list.len()
                ),
            );
        }
    }
    // A journal withdrawn between its listing and its detail (301084) says nothing about the
    // app's configuration: it is counted beside the templates, never a ✗.
    let (mut read, mut refused, mut gone) = (0usize, Vec::new(), 0usize);
    for uuid in pages.iter().flat_map(|p| picks(&p.journaluuid_list)) {
        match client.get_record_detail(uuid).await {
            Ok(detail) => {
                let info = detail.value.info;
                match info.template_id {
                    Some(id) => out.templates.entry(id).or_insert((info.template_name, 0)).1 += 1,
                    None => *out.unresolved.entry(info.template_name).or_default() += 1,
                }
                out.submitters.insert(info.submitter.userid);
                read += 1;
            }
            Err(e) if e.is_permission_gap() => refused.push(e),
            Err(e) if e.is_item_gap() => gone += 1,
            Err(e) => {
                out.templates_line = failed(CheckId::Templates, &format!("journal {uuid}"), &e);
                return out;
            }
        }
    }
    resolve_by_name(&mut out);
    out.templates_line = templates_line(&out, read, &refused, days.len(), window);
    if gone > 0 {
        out.templates_line.summary.push_str(&format!(
            "; {} withdrawn since listed (or unreadable), skipped",
            counted(gone, "journal", "journals")
        ));
    }
    out
}

/// A detail without `template_id` is of the template a sampled detail with an id names alike
/// (template names are unique in most corps; the run resolves the rest from stat lists and
/// record lists filtered by template).
fn resolve_by_name(sample: &mut Sample) {
    let unresolved = std::mem::take(&mut sample.unresolved);
    for (name, n) in unresolved {
        let mut same_name = sample.templates.values_mut().filter(|(t, _)| *t == name);
        match (same_name.next(), same_name.next()) {
            (Some(template), None) => template.1 += n,
            _ => {
                sample.unresolved.insert(name, n);
            }
        }
    }
}

fn templates_line(
    sample: &Sample,
    read: usize,
    refused: &[WecomError],
    days: usize,
    window: DateRange,
) -> CheckLine {
    if let Some(first) = refused.first() {
        let mut line = failed(
            CheckId::Templates,
            &format!(
                "{} of {} sampled journals may not be read",
                refused.len(),
                read + refused.len()
            ),
            first,
        );
        line.summary.push_str(&format!(
            " (readable: {})",
            template_list(sample).unwrap_or_else(|| "none".into())
        ));
        return line;
    }
    let summary = match template_list(sample) {
        None => format!("no journals on the {days} days sampled of {window}"),
        Some(list) => format!(
            "{} seen in {} sampled on {} of {window}: {list}",
            sample.templates.len() + sample.unresolved.len(),
            counted(read, "journal", "journals"),
            counted(days, "day", "days")
        ),
    };
    CheckLine::pass(CheckId::Templates, summary)
}

/// `日报 [id], 周报 [id]` (`[id not sent]` for a template only known by name), or `None` for
/// no template.
fn template_list(sample: &Sample) -> Option<String> {
    const NO_ID: &str = "id not sent";
    let mut by_name: Vec<(&str, &str)> = sample
        .templates
        .iter()
        .map(|(id, (name, _))| (name.as_str(), id.as_str()))
        .chain(sample.unresolved.keys().map(|name| (name.as_str(), NO_ID)))
        .collect();
    by_name.sort();
    (!by_name.is_empty()).then(|| {
        by_name
            .iter()
            .map(|(name, id)| format!("{name} [{id}]"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The stats of `filters.template_ids`, or of the templates seen, over `window`: whether they
/// answer, and every user they name (who must report).
async fn stats(
    job: &Job,
    client: &WecomClient,
    window: DateRange,
    sample: &Sample,
) -> (CheckLine, BTreeSet<String>) {
    let mut users = BTreeSet::new();
    if !job.extract.stats {
        let line = CheckLine::pass(CheckId::Stats, "not extracted (extract.stats = false)");
        return (line, users);
    }
    let from_filter = !job.filters.template_ids.is_empty();
    let wanted: Vec<String> = if from_filter {
        job.filters.template_ids.clone()
    } else {
        sample.templates.keys().cloned().collect()
    };
    if wanted.is_empty() {
        let why = if !sample.unresolved.is_empty() {
            "no sampled detail carries a template_id, and filters.template_ids is empty"
        } else if sample.templates_line.status == Status::Pass {
            "no template seen, and filters.template_ids is empty"
        } else {
            "needs the templates seen (filters.template_ids is empty)"
        };
        return (CheckLine::skipped(CheckId::Stats, why), users);
    }
    let tz = job.source.timezone;
    let (start, end) = (
        local_midnight(tz, window.start),
        local_midnight(tz, window.end),
    );
    let (mut answered, mut refused) = (Vec::new(), Vec::new());
    for id in wanted.iter().take(MAX_STAT_TEMPLATES) {
        let req = StatListRequest {
            template_id: id.clone(),
            starttime: start,
            endtime: end - 1,
        };
        let name = sample.templates.get(id).map(|(name, _)| name.clone());
        match client.get_stat_list(&req).await {
            Ok(stats) => {
                let cycles = stats.value.stat_list;
                for cycle in &cycles {
                    let lists = [&cycle.report_list, &cycle.unreport_list];
                    users.extend(
                        lists
                            .iter()
                            .flat_map(|l| l.iter().map(|u| u.user.userid.clone())),
                    );
                    users.extend(
                        cycle
                            .report_range
                            .user_list
                            .iter()
                            .map(|u| u.userid.clone()),
                    );
                }
                let name = name.or_else(|| cycles.first().map(|c| c.template_name.clone()));
                answered.push(format!(
                    "{} ({} cycles)",
                    named(id, name.as_deref()),
                    cycles.len()
                ));
            }
            Err(e) => refused.push((named(id, name.as_deref()), e)),
        }
    }
    let capped = if wanted.len() > MAX_STAT_TEMPLATES {
        format!(
            " (the first {MAX_STAT_TEMPLATES} of {} templates)",
            wanted.len()
        )
    } else {
        String::new()
    };
    let mut line = match refused.first() {
        None => CheckLine::pass(
            CheckId::Stats,
            format!("answer for {}{capped}", answered.join(", ")),
        ),
        Some((template, e)) => {
            let mut line = failed(CheckId::Stats, &format!("template {template}"), e);
            if refused.len() > 1 {
                let others: Vec<&str> = refused[1..].iter().map(|(t, _)| t.as_str()).collect();
                line.summary
                    .push_str(&format!("; refused too for {}", others.join(", ")));
            }
            if e.is(errcode::JOURNAL_BAD_PARAMETERS) && from_filter {
                line.hint = Some(
                    "filters.template_ids names a template this corp does not have: a template's \
                     id is in the admin console under 汇报 → 内容设置 → the report's name \
                     (Journal → Content Settings → the report's name)"
                        .into(),
                );
            }
            line
        }
    };
    if !from_filter && !sample.unresolved.is_empty() {
        let names: Vec<&str> = sample.unresolved.keys().map(String::as_str).collect();
        line.summary.push_str(&format!(
            "; not asked for {} (no sampled detail carries its template_id: the run finds it \
             through the stat lists, or name it in filters.template_ids)",
            names.join(", ")
        ));
    }
    (line, users)
}

/// `日报 [id]`, or the bare id when the name is not known.
fn named(id: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} [{id}]"),
        None => format!("[{id}]"),
    }
}
