//! Extract, as the pipeline runs it: the client a job calls through, the in-process simulator
//! a sandbox run calls instead, and the extraction itself with what it cost (calls, retries,
//! time), whether it succeeded or not, for the manifest.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::extract::{self, ExtractError, ExtractOptions, ExtractSummary};
use crate::job::{DateRange, Job};
use crate::sim::{Gentle, SimConfig, SimHandle};
use crate::store::Store;
use crate::wecom::client::CallStats;
use crate::wecom::{ClientConfig, Secret, WecomClient};

/// What one extraction did and cost.
#[derive(Debug)]
pub(crate) struct Extracted {
    /// What it fetched and stored, and its gaps; or why it stopped.
    pub(crate) result: std::result::Result<ExtractSummary, ExtractError>,
    /// The client's calls and retries over the extraction (a failed one included).
    pub(crate) calls: CallStats,
    pub(crate) elapsed: Duration,
}

/// Extracts `range` of `job` through `client` into `store` (see [`extract::extract`]).
pub(crate) async fn extract(
    job: &Job,
    range: DateRange,
    client: &WecomClient,
    store: &Store,
    opts: &ExtractOptions,
) -> Extracted {
    let t = Instant::now();
    let result = extract::extract(job, range, client, store, opts).await;
    Extracted {
        result,
        calls: client.stats(),
        elapsed: t.elapsed(),
    }
}

/// The client for the job's `[source]`: its API base, credentials and quotas, then `tune`d.
pub(crate) fn client_for(job: &Job, tune: Option<fn(&mut ClientConfig)>) -> Result<WecomClient> {
    let mut config = ClientConfig::new(
        &job.source.api_base,
        &job.source.corp_id,
        job.source.secret.clone(),
    );
    config.limits = job.source.limits.clone();
    if let Some(tune) = tune {
        tune(&mut config);
    }
    Ok(WecomClient::new(config)?)
}

/// Starts the simulator in the current runtime on a loopback port, serving `range` in the
/// job's zone, and points the job at it (its base URL, corp id and secret). The job's own
/// credentials are not used, so they need not be set. Serving stops when the handle drops.
/// `gentle` spares the run real behaviours (for tests of the pipeline only).
pub(crate) async fn start_sandbox(
    job: &mut Job,
    range: DateRange,
    gentle: Gentle,
) -> Result<SimHandle> {
    let sim = SimHandle::start(
        SimConfig {
            start: range.start,
            days: range.days().max(1) as u32,
            timezone: job.source.timezone,
            gentle,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().expect("a literal socket address"),
    )
    .await
    .context("starting the in-process simulator")?;
    job.source.api_base = sim.base_url.clone();
    job.source.corp_id = sim.corp_id.clone();
    job.source.secret = Secret::new(sim.secret.clone());
    tracing::info!(base_url = %sim.base_url, "sandbox: simulator started in-process");
    Ok(sim)
}
