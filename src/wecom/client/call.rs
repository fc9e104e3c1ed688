//! One call of the client, from the waits before it leaves to its last retry: the 45009 block
//! of its endpoint, a slot in flight, the quotas' slot, the exchange itself, and the retry loop
//! with its two budgets (retries for errors, time for 45009s). The switch that stops new calls
//! ends every wait at once.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE};
use tokio::time::Instant;

use super::retry::{self, backoff_delay, RetryBudget, Step, Verdict};
use super::{ratelimit, token, transport_error, Call, Endpoint, WecomClient};
use crate::wecom::errcode;
use crate::wecom::error::WecomError;
use crate::wecom::secret::Secret;

/// The client's "send nothing more" switch.
#[derive(Default)]
pub(super) struct Stopping {
    set: std::sync::atomic::AtomicBool,
    changed: tokio::sync::Notify,
}

impl Stopping {
    pub(super) fn is_set(&self) -> bool {
        self.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn set(&self) {
        self.set.store(true, std::sync::atomic::Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Runs `work` unless the switch is (or gets) set first: then `None`.
    async fn unless<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let changed = self.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if self.is_set() {
            return None;
        }
        tokio::select! {
            out = work => Some(out),
            _ = changed => None,
        }
    }
}

impl WecomClient {
    /// Makes `call` (each attempt by `attempt`, with the token `lease` gives, `no_token` for
    /// `gettoken` and downloads) until it succeeds or its failure is not worth another try,
    /// following [`retry::classify`] within a [`RetryBudget`]: at most `max_retries` retries
    /// (-1 at most [`MAX_BUSY_RETRIES`]), one token refresh on 40014 / 42001. A 45009 waits as
    /// the rate limiter says ([`ratelimit::RateLimits::quota_exceeded`]) and spends no retry:
    /// the call's waits for quotas WeCom says are spent (a block of the endpoint included)
    /// have their own budget, `max_quota_wait`.
    pub(super) async fn with_retries<T, L, LF, A, AF>(
        &self,
        call: &Call,
        extra_secrets: &[Secret],
        lease: L,
        attempt: A,
    ) -> Result<T, WecomError>
    where
        L: Fn() -> LF,
        LF: std::future::Future<Output = Result<Option<token::TokenLease>, WecomError>>,
        A: Fn(Option<token::TokenLease>) -> AF,
        AF: std::future::Future<Output = Result<T, WecomError>>,
    {
        let get_lease = lease;
        let inner = &self.inner;
        let endpoint = call.endpoint;
        let name = endpoint.name();
        let mut budget = RetryBudget::new(inner.config.max_retries);
        let mut quota = QuotaBudget::new(inner.config.limits.max_quota_wait);
        loop {
            if let Some(until) = inner.limits.blocked_until(endpoint, Instant::now()) {
                quota.admit(endpoint, until, None)?;
                self.sleep_until(endpoint, until).await?;
            }
            let lease = get_lease().await?;
            let outcome = attempt(lease.clone()).await;
            let err = match outcome {
                Ok(value) => {
                    inner.limits.admitted(endpoint);
                    return Ok(value);
                }
                Err(e) => self.scrub(e, lease.as_ref().map(|l| &l.token), extra_secrets),
            };
            let mut verdict = retry::classify(&err);
            if verdict == Verdict::QuotaExceeded {
                self.count(|s| s.quota_errors += 1);
            } else if err.errcode().is_some() {
                // WeCom answered something else: its quota admitted the call.
                inner.limits.admitted(endpoint);
            }
            if verdict == Verdict::RefreshToken && lease.is_none() {
                // A call made without a token cannot be helped by a new one.
                verdict = Verdict::GiveUp;
            }
            let Some(step) = budget.admit(verdict) else {
                if !matches!(err, WecomError::Stopped { .. }) {
                    tracing::warn!(endpoint = name, retries = budget.retries(), error = %err, "call failed");
                }
                return Err(err);
            };
            self.count(|s| *s.retries.entry(name).or_default() += 1);
            let (until, why) = match step {
                Step::RefreshToken => {
                    if let Some(lease) = &lease {
                        inner.token.invalidate(lease.generation).await;
                    }
                    (Instant::now(), "token refreshed".to_string())
                }
                Step::QuotaWait => {
                    let now = Instant::now();
                    let wait = inner.limits.quota_exceeded(endpoint, now);
                    let until = wait.until(now);
                    quota.admit(endpoint, until, Some(&err))?;
                    (until, quota_wait_reason(wait))
                }
                Step::Backoff { retry } => (
                    Instant::now()
                        + backoff_delay(
                            inner.config.backoff_base,
                            inner.config.backoff_max,
                            retry,
                            retry::jitter_unit(),
                        ),
                    "backoff".to_string(),
                ),
            };
            let wait = until.saturating_duration_since(Instant::now());
            tracing::warn!(
                endpoint = name,
                retry = budget.retries(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %err,
                "retrying ({why})"
            );
            self.sleep_until(endpoint, until).await?;
        }
    }

    /// Sleeps until `until`, unless the client stops first ([`WecomError::Stopped`]).
    async fn sleep_until(&self, endpoint: Endpoint, until: Instant) -> Result<(), WecomError> {
        self.inner
            .stopping
            .unless(tokio::time::sleep_until(until))
            .await
            .ok_or(WecomError::Stopped {
                endpoint: endpoint.path(),
            })
    }

    /// Waits for a 45009 block, a slot in flight and the quota, in that order (unless the
    /// client stops first), and builds the request. The slot and the permit are held until the
    /// answer is read: the quotas count the call until a period after that.
    pub(super) async fn prepare(
        &self,
        call: &Call,
        lease: Option<&token::TokenLease>,
        http: &reqwest::Client,
    ) -> Result<Prepared<'_>, WecomError> {
        let inner = &self.inner;
        let endpoint = call.endpoint;
        let stopped = || WecomError::Stopped {
            endpoint: endpoint.path(),
        };
        // The slot is taken before the quota: a call that waited for its slot after taking its
        // quota could leave together with others and overrun the server's window.
        let permit = inner
            .stopping
            .unless(inner.in_flight.acquire())
            .await
            .ok_or_else(stopped)?
            .map_err(|_| stopped())?;
        let slot = inner
            .stopping
            .unless(inner.limits.acquire(endpoint))
            .await
            .ok_or_else(stopped)?;
        self.count(|s| *s.calls.entry(endpoint.name()).or_default() += 1);
        tracing::debug!(endpoint = endpoint.name(), "request");

        let url = match &call.url {
            Some(url) => url.clone(),
            None => format!("{}{}", inner.base, endpoint.path()),
        };
        let mut request = http.request(call.method.clone(), url);
        if let Some(lease) = lease {
            request = request.query(&[("access_token", lease.token.expose())]);
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.json_body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(cookie) = &call.cookie {
            request = request.header(COOKIE, cookie.clone());
        }
        Ok(Prepared {
            request,
            _permit: permit,
            _slot: slot,
        })
    }

    /// One HTTP exchange of an API call: returns the whole body of a 2xx answer.
    pub(super) async fn attempt(
        &self,
        call: &Call,
        lease: Option<&token::TokenLease>,
    ) -> Result<Vec<u8>, WecomError> {
        let endpoint = call.endpoint;
        let prepared = self.prepare(call, lease, &self.inner.http).await?;
        let response = prepared
            .request
            .send()
            .await
            .map_err(|e| transport_error(endpoint, e))?;
        check_status(endpoint, &response)?;
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(endpoint, e))?;
        tracing::trace!(endpoint = endpoint.name(), bytes = body.len(), "response");
        Ok(body.to_vec())
    }
}

/// A request ready to send, with the slot in flight and the quota slot it holds.
pub(super) struct Prepared<'a> {
    pub(super) request: reqwest::RequestBuilder,
    _permit: tokio::sync::SemaphorePermit<'a>,
    _slot: ratelimit::QuotaSlot<'a>,
}

/// A non-2xx answer as a transport error (retryable or not, by status).
pub(super) fn check_status(
    endpoint: Endpoint,
    response: &reqwest::Response,
) -> Result<(), WecomError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(WecomError::Transport {
        endpoint: endpoint.path(),
        message: format!("HTTP status {status}"),
        retryable: retry::status_is_retryable(status.as_u16()),
    })
}

/// One call's waits for quotas WeCom says are spent, against `max_quota_wait`.
struct QuotaBudget {
    max: Duration,
    started: Option<Instant>,
}

impl QuotaBudget {
    fn new(max: Duration) -> QuotaBudget {
        QuotaBudget { max, started: None }
    }

    /// Admits a wait until `until`, or gives the error to fail with: the call's first 45009
    /// (or block) was more than `max_quota_wait` before `until`.
    fn admit(
        &mut self,
        endpoint: Endpoint,
        until: Instant,
        refused: Option<&WecomError>,
    ) -> Result<(), WecomError> {
        let now = Instant::now();
        let started = *self.started.get_or_insert(now);
        if until.saturating_duration_since(started) <= self.max {
            return Ok(());
        }
        let what = match refused {
            Some(err) => format!("{err}"),
            None => "the endpoint is blocked after 45009 answers".to_string(),
        };
        Err(WecomError::Api {
            endpoint: endpoint.path(),
            errcode: errcode::FREQUENCY_LIMITED,
            errmsg: format!(
                "{what}; gave up: waiting for the quota would exceed max_quota_wait ({} s)",
                self.max.as_secs()
            ),
        })
    }
}

/// Why a 45009 waits, for the log line.
fn quota_wait_reason(wait: ratelimit::QuotaWait) -> String {
    match wait {
        ratelimit::QuotaWait::OwnWindow => "45009: waiting for a slot of the quota".into(),
        ratelimit::QuotaWait::MinuteRollover(_) => {
            "45009 not explained by our own calls: this call waits for the next minute".into()
        }
        ratelimit::QuotaWait::Blocked { hour: false, .. } => {
            "45009: the minute's quota is spent; the endpoint waits for the next minute".into()
        }
        ratelimit::QuotaWait::Blocked { hour: true, .. } => {
            "45009: the hour's quota is spent; the endpoint waits for the next hour".into()
        }
    }
}
