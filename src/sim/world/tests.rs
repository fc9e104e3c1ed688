//! The ground truth's views at an instant, over a generated organisation.

use std::collections::HashSet;

use super::*;
use crate::sim::Gentle;

fn org() -> Org {
    Org::generate(&SimConfig {
        users: 30,
        ..SimConfig::default()
    })
}

/// Every instant at which something in the world happens, sorted.
fn instants(org: &Org) -> Vec<i64> {
    let mut out: Vec<i64> = org
        .journals
        .iter()
        .zip(&org.lives)
        .flat_map(|(j, l)| {
            std::iter::once(j.report_time)
                .chain(j.comments.iter().map(|c| c.comment_time))
                .chain(l.read_times.iter().copied())
                .chain(l.withdrawn_at)
        })
        .chain(org.cycles.iter().map(|c| c.summarised_at))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn listed_is_what_was_submitted_by_t_withdrawn_ones_included() {
    let org = org();
    let (withdrawn, life) = org
        .journals
        .iter()
        .zip(&org.lives)
        .find(|(_, l)| l.withdrawn_at.is_some())
        .expect("a withdrawn journal");
    let gone = life.withdrawn_at.unwrap();
    let uuid = withdrawn.journal_uuid.as_str();
    assert!(gone > withdrawn.report_time);

    let before = org.at(withdrawn.report_time - 1);
    assert!(before.journal(uuid).is_none(), "not yet submitted");
    assert!(before
        .listed()
        .all(|j| j.report_time() < withdrawn.report_time));

    let live = org.at(gone - 1);
    assert!(live.journals().any(|j| j.uuid() == uuid));
    assert!(!live.journal(uuid).unwrap().is_withdrawn());

    let after = org.at(gone);
    let j = after
        .journal(uuid)
        .expect("still listed after its withdrawal");
    assert!(j.is_withdrawn());
    assert!(after.listed().any(|j| j.uuid() == uuid));
    assert!(after.withdrawn().any(|j| j.uuid() == uuid));
    assert!(!after.journals().any(|j| j.uuid() == uuid));
    assert_eq!(
        after.listed().count(),
        org.journals
            .iter()
            .filter(|j| j.report_time <= gone)
            .count()
    );
}

#[test]
fn comments_and_reads_only_grow_and_end_as_the_settled_detail() {
    let org = org();
    let times = instants(&org);
    let (i, j) = org
        .journals
        .iter()
        .enumerate()
        .find(|(i, j)| j.comments.len() >= 2 && !org.lives[*i].read_times.is_empty())
        .expect("a journal with comments and reads");
    let mut last = (0, 0);
    for &t in times.iter().filter(|t| **t >= j.report_time) {
        let at = org.at(t).journal_by_index(i).unwrap();
        let now = (at.comments().count(), at.readers().count());
        assert!(now.0 >= last.0 && now.1 >= last.1, "{now:?} after {last:?}");
        assert!(at.comments().all(|c| c.comment_time <= t));
        last = now;
    }
    let settled = org.at(org.settled_at()).journal_by_index(i).unwrap();
    assert_eq!(settled.detail(), *j);
    let first = org.at(j.report_time).journal_by_index(i).unwrap().detail();
    assert!(first.comments.is_empty() && first.comments.len() < j.comments.len());
}

#[test]
fn a_cycle_is_served_once_summarised_and_late_reports_move_users_into_report_list() {
    let org = org();
    let (j, life) = org
        .journals
        .iter()
        .zip(&org.lives)
        .find(|(j, l)| {
            l.withdrawn_at.is_none()
                && l.cycle.is_some_and(|c| {
                    let cycle = &org.cycles[c];
                    j.report_time > cycle.summarised_at
                        && cycle
                            .journals
                            .iter()
                            .filter(|&&k| org.journals[k].submitter.userid == j.submitter.userid)
                            .count()
                            == 1
                })
        })
        .expect("a report made after its cycle was summarised");
    let cycle = &org.cycles[life.cycle.unwrap()];
    let user = j.submitter.userid.as_str();
    assert!(org.at(cycle.summarised_at - 1).stat_cycle(cycle).is_none());
    let early = org.at(cycle.summarised_at).stat_cycle(cycle).unwrap();
    assert!(early.unreport_list.iter().any(|u| u.user.userid == user));
    assert!(!early.report_list.iter().any(|u| u.user.userid == user));
    let later = org.at(j.report_time).stat_cycle(cycle).unwrap();
    let entry = later
        .report_list
        .iter()
        .find(|u| u.user.userid == user)
        .expect("reported once the late report is in");
    assert_eq!(entry.itemlist[0].journaluuid, j.journal_uuid);
    assert_eq!(entry.itemlist[0].flag, 1);
    assert!(!later.unreport_list.iter().any(|u| u.user.userid == user));
    assert_eq!(
        later.report_list.len() + later.unreport_list.len(),
        cycle.expected.len()
    );
}

#[test]
fn a_withdrawn_report_is_no_report() {
    let org = org();
    let (i, life) = org
        .lives
        .iter()
        .enumerate()
        .find(|(_, l)| l.withdrawn_at.is_some() && l.cycle.is_some())
        .expect("a withdrawn report");
    let cycle = &org.cycles[life.cycle.unwrap()];
    let uuid = &org.journals[i].journal_uuid;
    let t = life.withdrawn_at.unwrap().max(cycle.summarised_at);
    let items: HashSet<String> = org
        .at(t)
        .stat_cycle(cycle)
        .unwrap()
        .report_list
        .iter()
        .flat_map(|u| u.itemlist.iter().map(|i| i.journaluuid.clone()))
        .collect();
    assert!(!items.contains(uuid));
    let before = org.at(life.withdrawn_at.unwrap() - 1);
    if cycle.summarised_at < life.withdrawn_at.unwrap() {
        let items: HashSet<String> = before
            .stat_cycle(cycle)
            .unwrap()
            .report_list
            .iter()
            .flat_map(|u| u.itemlist.iter().map(|i| i.journaluuid.clone()))
            .collect();
        assert!(items.contains(uuid));
    }
}

#[test]
fn the_world_settles_and_the_config_knows_when() {
    let config = SimConfig {
        users: 30,
        ..SimConfig::default()
    };
    let org = Org::generate(&config);
    let settled = org.settled_at();
    assert!(config.settled_at().timestamp() >= settled);
    assert_eq!(config.clone().settled().now, Some(config.settled_at()));
    assert_eq!(org.at(settled).stat_list(), org.stats);
    assert_eq!(org.at(settled).listed().count(), org.journals.len());
    assert!(org.at(settled).journals().all(|j| j.detail() == *j.settled));
    // A moment before, something was still missing.
    let before = org.at(settled - 1);
    let same = before.stat_list() == org.stats
        && before.journals().all(|j| j.detail() == *j.settled)
        && before.listed().count() == org.journals.len()
        && before.withdrawn().count() == org.at(settled).withdrawn().count();
    assert!(!same);
}

#[test]
fn the_department_of_a_user_falls_back_to_the_first_listed() {
    let org = org();
    let hidden = org
        .users
        .iter()
        .find(|u| u.main_department.is_none())
        .expect("a user without main_department");
    assert_eq!(
        org.department_of(&hidden.userid),
        hidden.department.first().copied()
    );
    let shown = org
        .users
        .iter()
        .find(|u| u.main_department.is_some())
        .unwrap();
    assert_eq!(org.department_of(&shown.userid), shown.main_department);
    assert_eq!(org.department_of("nobody"), None);
}

#[test]
fn gentle_flags_spare_exactly_their_behaviour() {
    let base = SimConfig {
        users: 30,
        ..SimConfig::default()
    };
    let real = Org::generate(&base);
    let gentle = Org::generate(&SimConfig {
        gentle: Gentle {
            template_ids: true,
            withdrawals: true,
            main_departments: true,
        },
        ..base
    });
    assert!(real.lives.iter().any(|l| !l.serves_template_id));
    assert!(gentle.lives.iter().all(|l| l.serves_template_id));
    assert!(gentle.lives.iter().all(|l| l.withdrawn_at.is_none()));
    assert!(gentle.users.iter().all(|u| u.main_department.is_some()));
    // The same journals, submitted at the same times.
    let key = |o: &Org| -> Vec<(String, i64)> {
        o.journals
            .iter()
            .map(|j| (j.journal_uuid.clone(), j.report_time))
            .collect()
    };
    assert_eq!(key(&real), key(&gentle));
}
