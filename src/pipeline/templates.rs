//! Each journal's template for the tables, when its detail lacks `template_id`: what the
//! store learnt (the stat lists' `report_list`, the names of known templates) handed to
//! [`flatten::attribute_templates`] batch by batch; the journals whose template cannot be
//! known are named in the manifest's warnings.

use anyhow::Result;

use crate::flatten::{self, TemplateKnowledge};
use crate::store::Store;
use crate::wecom::JournalDetail;

/// Journals without a known template named in the warning.
const NAMED: usize = 5;

pub(crate) struct Templates {
    known: TemplateKnowledge,
    unknown: Vec<String>,
    unknown_count: usize,
}

impl Templates {
    /// The names of every template the store knows.
    pub(crate) fn load(store: &Store) -> Result<Templates> {
        let facts = store.template_facts()?;
        Ok(Templates {
            known: TemplateKnowledge {
                by_journal: Default::default(),
                ids_by_name: facts.ids_by_name,
            },
            unknown: Vec::new(),
            unknown_count: 0,
        })
    }

    /// Fills the template of the batch's details that lack one.
    pub(crate) fn attribute(&mut self, store: &Store, batch: &mut [JournalDetail]) -> Result<()> {
        let lacking: Vec<&str> = batch
            .iter()
            .filter(|d| d.template_id.as_deref().is_none_or(str::is_empty))
            .map(|d| d.journal_uuid.as_str())
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        // Only this batch's journals: memory stays bounded however many a range holds.
        self.known.by_journal = store.journal_templates_of(&lacking)?;
        let unknown = flatten::attribute_templates(batch, &self.known);
        self.unknown_count += unknown.len();
        for uuid in unknown {
            if self.unknown.len() < NAMED {
                self.unknown.push(uuid);
            }
        }
        Ok(())
    }

    /// The warning naming the journals whose template is not known, if any.
    pub(crate) fn warning(&self) -> Option<String> {
        if self.unknown_count == 0 {
            return None;
        }
        let more = if self.unknown_count > self.unknown.len() {
            ", …"
        } else {
            ""
        };
        let w = format!(
            "{} journal(s) of no known template (the detail has no template_id, no stat list \
             names the journal, and its template_name is no single known template's): {}{more}",
            self.unknown_count,
            self.unknown.join(", ")
        );
        tracing::warn!("{w}");
        Some(w)
    }
}
