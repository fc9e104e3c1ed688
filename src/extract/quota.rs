//! The quotas' usage across processes: before its first call a run loads into its client's
//! rate limiter what other processes spent of the same quota (the corp behind the API base) in
//! the last hour, from the store, and what earlier jobs of its own process spent (the
//! [`QuotaCarry`] the jobs of one `run` share); as it goes (every [`FLUSH_EVERY`]) and at its
//! end, whatever the end, it writes what its process spent, under the process's own token, so
//! that a resumed run or the next job continues the same budget instead of starting empty.
//!
//! Rows are per writing process so that nothing is counted twice: a process skips its own rows
//! when it loads (it carries them in memory) and replaces them when it writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::ExtractError;
use crate::job::Job;
use crate::store::{QuotaBucket, Store};
use crate::wecom::client::{QuotaUsage, UsageBucket};
use crate::wecom::{Endpoint, WecomClient};

/// How often a run writes what it spent.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Usage older than this is forgotten (the hourly window, with room to spare).
const KEEP: Duration = Duration::from_secs(2 * 3600);

/// The quota a job's calls count against: its corp at its API base (`corp_id@api_base`).
pub fn quota_key(job: &Job) -> String {
    format!("{}@{}", job.source.corp_id, job.source.api_base)
}

/// What this process spent of each quota, handed from one job of a `run` to the next. Cheap to
/// clone; clones share it. `Default` is a process's first (a fresh writer token).
#[derive(Debug, Clone)]
pub struct QuotaCarry {
    inner: Arc<Mutex<Carried>>,
}

#[derive(Debug)]
struct Carried {
    /// This process's rows in the stores: unique per process (pid, start time, a counter).
    writer: String,
    by_quota: HashMap<String, QuotaUsage>,
}

impl Default for QuotaCarry {
    fn default() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let writer = format!(
            "{}-{}-{}",
            std::process::id(),
            unix_ms(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        QuotaCarry {
            inner: Arc::new(Mutex::new(Carried {
                writer,
                by_quota: HashMap::new(),
            })),
        }
    }
}

impl QuotaCarry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Carried> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn writer(&self) -> String {
        self.lock().writer.clone()
    }

    /// What the process spent of `quota` so far.
    pub(crate) fn get(&self, quota: &str) -> QuotaUsage {
        self.lock().by_quota.get(quota).cloned().unwrap_or_default()
    }

    fn set(&self, quota: &str, usage: QuotaUsage) {
        self.lock().by_quota.insert(quota.to_owned(), usage);
    }
}

/// One extraction's side of the quotas' usage.
pub(super) struct Ledger<'a> {
    quota: String,
    writer: String,
    /// What the process spent before this extraction.
    carried: QuotaUsage,
    carry: QuotaCarry,
    client: &'a WecomClient,
}

impl<'a> Ledger<'a> {
    /// Loads into `client` what other processes (the store) and earlier jobs of this process
    /// (`carry`) spent of the job's quota.
    pub(super) fn load(
        job: &Job,
        client: &'a WecomClient,
        store: &Store,
        carry: &QuotaCarry,
    ) -> Result<Ledger<'a>, ExtractError> {
        let quota = quota_key(job);
        let writer = carry.writer();
        let since = unix_ms() - millis(KEEP);
        let mut earlier = QuotaUsage::default();
        for row in store.quota_usage(Some(&quota), since)? {
            if row.writer == writer {
                continue;
            }
            // An endpoint this build does not know (a newer one wrote it) counts for nothing.
            if let Some(endpoint) = Endpoint::from_name(&row.bucket.endpoint) {
                earlier.merge(&QuotaUsage {
                    buckets: vec![UsageBucket {
                        endpoint,
                        start_ms: row.bucket.start_ms,
                        length_ms: row.bucket.length_ms,
                        calls: row.bucket.calls,
                    }],
                });
            }
        }
        let carried = carry.get(&quota);
        earlier.merge(&carried);
        if !earlier.buckets.is_empty() {
            let hour_ago = unix_ms() - 3_600_000;
            tracing::info!(
                quota = %quota,
                details_last_hour = earlier.calls_since(Endpoint::RecordDetail, hour_ago),
                "quota usage of earlier runs loaded"
            );
        }
        client.preload_quota_usage(&earlier);
        Ok(Ledger {
            quota,
            writer,
            carried,
            carry: carry.clone(),
            client,
        })
    }

    /// What this process spent: earlier jobs' and this extraction's.
    fn spent(&self) -> QuotaUsage {
        let mut spent = self.carried.clone();
        spent.merge(&self.client.quota_usage());
        spent.forget_before(unix_ms() - millis(KEEP));
        spent
    }

    fn flush(&self, store: &Store) -> Result<(), ExtractError> {
        let buckets: Vec<QuotaBucket> = self
            .spent()
            .buckets
            .iter()
            .map(|b| QuotaBucket {
                endpoint: b.endpoint.name().to_owned(),
                start_ms: b.start_ms,
                length_ms: b.length_ms,
                calls: b.calls,
            })
            .collect();
        store.put_quota_usage(
            &self.quota,
            &self.writer,
            &buckets,
            unix_ms() - millis(KEEP),
        )?;
        Ok(())
    }

    /// Writes what was spent every [`FLUSH_EVERY`], for ever (a failed write is retried at the
    /// next tick: the usage is advice to the next process, not the run's data).
    pub(super) async fn flush_every(&self, store: &Store) {
        loop {
            tokio::time::sleep(FLUSH_EVERY).await;
            if let Err(e) = self.flush(store) {
                tracing::warn!("recording the quota usage: {e}");
            }
        }
    }

    /// Writes what was spent and hands it to the next job of this process.
    pub(super) fn finish(&self, store: &Store) -> Result<(), ExtractError> {
        let spent = self.spent();
        self.carry.set(&self.quota, spent);
        self.flush(store)
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
