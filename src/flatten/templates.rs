//! Which template a journal is of, when its detail does not say (most real details carry no
//! `template_id`): the template the stat lists' `report_list` names for its uuid, else the one
//! template id known by its `template_name`. Pure: the caller reads what is known from the
//! store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::wecom::types::JournalDetail;

/// What is known of templates beyond the details themselves.
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateKnowledge {
    /// journal uuid → template id, from the stat lists' `report_list`.
    pub(crate) by_journal: HashMap<String, String>,
    /// template name → every id known by that name (details that carry their id, stat cycles).
    pub(crate) ids_by_name: BTreeMap<String, BTreeSet<String>>,
}

/// Fills `template_id` of every detail that lacks one from `known`; gives the uuids of those
/// whose template cannot be known (no stat list names them, and their name is no template's or
/// several templates').
pub(crate) fn attribute_templates(
    details: &mut [JournalDetail],
    known: &TemplateKnowledge,
) -> Vec<String> {
    let mut unknown = Vec::new();
    for d in details.iter_mut() {
        if d.template_id.as_deref().is_some_and(|id| !id.is_empty()) {
            continue;
        }
        let by_name = || {
            let ids = known.ids_by_name.get(&d.template_name)?;
            (ids.len() == 1)
                .then(|| ids.iter().next().cloned())
                .flatten()
        };
        match known
            .by_journal
            .get(&d.journal_uuid)
            .cloned()
            .or_else(by_name)
        {
            Some(id) => d.template_id = Some(id),
            None => unknown.push(d.journal_uuid.clone()),
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(uuid: &str, name: &str, id: Option<&str>) -> JournalDetail {
        JournalDetail {
            journal_uuid: uuid.into(),
            template_name: name.into(),
            template_id: id.map(str::to_owned),
            ..JournalDetail::default()
        }
    }

    #[test]
    fn the_stat_lists_then_a_unique_name_give_the_template() {
        let known = TemplateKnowledge {
            by_journal: [("j2".to_string(), "T-stat".to_string())].into(),
            ids_by_name: [
                ("日报".to_string(), ["T-day".to_string()].into()),
                (
                    "周报".to_string(),
                    ["T-w1".to_string(), "T-w2".to_string()].into(),
                ),
            ]
            .into(),
        };
        let mut details = vec![
            detail("j1", "日报", Some("T-own")),
            detail("j2", "日报", None),
            detail("j3", "日报", Some("")),
            detail("j4", "周报", None),
            detail("j5", "汇报", None),
        ];
        let unknown = attribute_templates(&mut details, &known);
        let ids: Vec<Option<&str>> = details.iter().map(|d| d.template_id.as_deref()).collect();
        assert_eq!(
            ids,
            [Some("T-own"), Some("T-stat"), Some("T-day"), None, None]
        );
        // Two templates are called 周报; none is called 汇报.
        assert_eq!(unknown, ["j4", "j5"]);
    }
}
