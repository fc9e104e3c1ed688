//! What the store has learnt of templates, for a journal whose detail lacks `template_id`
//! (most real details do): each journal's template as the stat lists' `report_list` names it
//! (`journal_templates`), and every (template id, name) pair seen in a detail or a stat cycle
//! (`templates`), which is also every template in the store's history. A record list filtered
//! by a template names its journals' template too (`journal_templates` with cycle end 0, which
//! a stat list's entry replaces).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{params, Connection};

use super::{Result, SqlContext, Store};
use crate::wecom::types::{JournalDetail, StatListResponse};

/// The template facts the store holds, read once for the journals of a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TemplateFacts {
    /// template name → every id seen with that name.
    pub(crate) ids_by_name: BTreeMap<String, BTreeSet<String>>,
}

/// A stored journal whose template nothing names yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownTemplate {
    pub(crate) journal_uuid: String,
    /// The detail's `template_name` (empty when it has none).
    pub(crate) template_name: String,
    pub(crate) report_time: i64,
}

impl Store {
    /// The templates the stat lists name for `uuids` (those they name; each uuid once).
    pub(crate) fn journal_templates_of(&self, uuids: &[&str]) -> Result<HashMap<String, String>> {
        let what = "reading the templates the stat lists name for journals";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT template_id FROM journal_templates WHERE journal_uuid = ?1")
            .ctx(what)?;
        let mut found = HashMap::new();
        for uuid in uuids {
            let mut rows = stmt.query([uuid]).ctx(what)?;
            if let Some(row) = rows.next().ctx(what)? {
                found.insert((*uuid).to_owned(), row.get(0).ctx(what)?);
            }
        }
        Ok(found)
    }

    /// Every template id in the store's history (a detail's, a stat cycle's, a stat window's).
    pub(crate) fn known_template_ids(&self) -> Result<Vec<String>> {
        let what = "listing the templates the store knows";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT template_id FROM templates
                 UNION SELECT template_id FROM stats
                 UNION SELECT template_id FROM details WHERE template_id IS NOT NULL
                 ORDER BY 1",
            )
            .ctx(what)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).ctx(what)?;
        let ids = rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?;
        Ok(ids.into_iter().filter(|id| !id.is_empty()).collect())
    }

    /// A template's name as a detail or a stat cycle gave it (none for a template the store
    /// has not read anything of, e.g. one the app was never allowed to read).
    pub(crate) fn template_name(&self, template_id: &str) -> Result<Option<String>> {
        let what = "reading a template's name";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT template_name FROM templates WHERE template_id = ?1 \
                 ORDER BY template_name LIMIT 1",
            )
            .ctx(what)?;
        let mut rows = stmt.query([template_id]).ctx(what)?;
        match rows.next().ctx(what)? {
            Some(row) => Ok(Some(row.get(0).ctx(what)?)),
            None => Ok(None),
        }
    }

    /// Stored details with `start_ts <= report_time < end_ts` whose template nothing names yet
    /// (no `template_id` in the detail, no stat list or filtered record list naming the
    /// journal): (uuid, the detail's `template_name`, report time), by report time.
    pub(crate) fn journals_of_unknown_template(
        &self,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Vec<UnknownTemplate>> {
        let what = "listing the journals of no known template";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT d.journal_uuid, coalesce(json_extract(d.raw, '$.template_name'), ''),
                        d.report_time
                 FROM details d LEFT JOIN journal_templates jt USING (journal_uuid)
                 WHERE (d.template_id IS NULL OR d.template_id = '') AND jt.journal_uuid IS NULL
                   AND d.report_time >= ?1 AND d.report_time < ?2
                 ORDER BY d.report_time, d.journal_uuid",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(params![start_ts, end_ts], |r| {
                Ok(UnknownTemplate {
                    journal_uuid: r.get(0)?,
                    template_name: r.get::<_, rusqlite::types::Value>(1).map(|v| match v {
                        rusqlite::types::Value::Text(t) => t,
                        _ => String::new(),
                    })?,
                    report_time: r.get(2)?,
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Records that a record list filtered by `template_id` listed `uuids`: their template,
    /// unless a stat list named one already (whose cycle end it also gives; a stat list read
    /// later replaces this).
    pub(crate) fn learn_listed_templates(&self, template_id: &str, uuids: &[String]) -> Result<()> {
        let what = "recording the templates a filtered record list gives";
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO journal_templates (journal_uuid, template_id, cycle_end)
                     VALUES (?1, ?2, 0)",
                )
                .ctx(what)?;
            for uuid in uuids {
                stmt.execute(params![uuid, template_id]).ctx(what)?;
            }
        }
        tx.commit().ctx(what)
    }

    /// The (name → ids) pairs seen in details and stat cycles.
    pub(crate) fn template_facts(&self) -> Result<TemplateFacts> {
        let what = "reading the template names the store knows";
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT template_id, template_name FROM templates")
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .ctx(what)?;
        let mut facts = TemplateFacts::default();
        for row in rows {
            let (id, name) = row.ctx(what)?;
            facts.ids_by_name.entry(name).or_default().insert(id);
        }
        Ok(facts)
    }
}

/// Records the template of a detail that names its id.
pub(super) fn learn_from_detail(conn: &Connection, d: &JournalDetail) -> Result<()> {
    if let Some(id) = d.template_id.as_deref().filter(|id| !id.is_empty()) {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO templates (template_id, template_name) VALUES (?1, ?2)",
        )
        .and_then(|mut stmt| stmt.execute(params![id, d.template_name]))
        .ctx(format!(
            "recording the template of detail {}",
            d.journal_uuid
        ))?;
    }
    Ok(())
}

/// Records what a stat response says of templates: each cycle's (id, name), and the template
/// and cycle end of every journal its `report_list` holds.
pub(super) fn learn_from_stats(conn: &Connection, response: &StatListResponse) -> Result<()> {
    let what = "recording the journals' templates of a stat response";
    let mut names = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO templates (template_id, template_name) VALUES (?1, ?2)",
        )
        .ctx(what)?;
    let mut journals = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO journal_templates (journal_uuid, template_id, cycle_end)
             VALUES (?1, ?2, ?3)",
        )
        .ctx(what)?;
    for cycle in &response.stat_list {
        if cycle.template_id.is_empty() {
            continue;
        }
        names
            .execute(params![cycle.template_id, cycle.template_name])
            .ctx(what)?;
        for user in &cycle.report_list {
            for item in user.itemlist.iter().filter(|i| !i.journaluuid.is_empty()) {
                journals
                    .execute(params![
                        item.journaluuid,
                        cycle.template_id,
                        i64::try_from(cycle.cycle_end_time).unwrap_or(i64::MAX)
                    ])
                    .ctx(what)?;
            }
        }
    }
    Ok(())
}

/// Fills `templates` and `journal_templates` from every stored stat response and detail: the
/// migration of a store older than [`JOURNAL_TEMPLATES_SINCE`](super::schema), inside its
/// transaction.
pub(super) fn fill_templates(conn: &Connection) -> Result<()> {
    let what = "reading stored stat responses";
    let raws: Vec<String> = {
        let mut stmt = conn.prepare("SELECT raw FROM stats").ctx(what)?;
        let rows = stmt.query_map([], |r| r.get(0)).ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?
    };
    for raw in raws {
        // A response that no longer decodes teaches nothing; reading it fails elsewhere.
        if let Ok(response) = serde_json::from_str::<StatListResponse>(&raw) {
            learn_from_stats(conn, &response)?;
        }
    }
    super::details::for_each_stored_detail(conn, |d| learn_from_detail(conn, d))
}
