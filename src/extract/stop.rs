//! Stopping a run early, as SIGTERM and SIGINT ask: [`Stop`] is the shared switch. Once it is
//! thrown the extraction takes no new work, the client sends no new request (calls already on
//! the wire finish), and what comes back within [`DRAIN_GRACE`] is stored; the stages then
//! return [`ExtractError::Interrupted`](super::ExtractError::Interrupted). A second signal
//! stops the waiting at once.
//!
//! The switch knows nothing of signals themselves: the pipeline installs the handlers and
//! throws it (`pipeline::stop_on_signals`), a test or another program may throw it directly.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tokio::sync::Notify;

/// How long calls in flight are waited for once stopped: well inside Kubernetes' default grace
/// period of 30 s before its SIGKILL, leaving time for the manifest.
pub(crate) const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// What asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (a scheduler stopping the job).
    Terminate,
}

impl StopSignal {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Default)]
struct State {
    /// The first signal and when it came.
    signal: Option<(StopSignal, Instant)>,
    /// A second signal: stop waiting for anything.
    forced: bool,
}

/// The switch that stops a run. Cheap to clone; every clone is the same switch.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Throws the switch: the first time, the run stops taking work and waits for its calls
    /// in flight; the second, it stops waiting.
    pub fn trigger(&self, signal: StopSignal) {
        {
            let mut state = self.state();
            match state.signal {
                None => state.signal = Some((signal, Instant::now())),
                Some(_) => state.forced = true,
            }
        }
        self.changed.notify_waiters();
    }

    /// The signal that stopped the run, if one did.
    pub(crate) fn signal(&self) -> Option<StopSignal> {
        self.state().signal.map(|(s, _)| s)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.signal().is_some()
    }

    /// When calls in flight are no longer waited for: [`DRAIN_GRACE`] after the first signal,
    /// at once after the second; `None` while not stopped.
    fn deadline(&self) -> Option<Instant> {
        let state = self.state();
        state
            .signal
            .map(|(_, at)| if state.forced { at } else { at + DRAIN_GRACE })
    }

    /// Resolves once the switch is thrown.
    pub(crate) async fn stopped(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            changed.await;
        }
    }

    /// Resolves once calls in flight are no longer waited for (never while not stopped).
    pub(crate) async fn past_grace(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.deadline() {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => {}
                        _ = &mut changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// What waiting for the next of a stage's calls came to.
pub(crate) enum Next<T> {
    Item(T),
    /// Nothing left in flight.
    Done,
    /// Stopped, and the grace for calls in flight is over: the rest are dropped.
    Abandoned,
}

/// The next result of `in_flight`, unless the run was stopped and its grace is over.
pub(crate) async fn next_or_abandon<S>(stop: &Stop, in_flight: &mut S) -> Next<S::Item>
where
    S: Stream + Unpin,
{
    tokio::select! {
        biased;
        item = in_flight.next() => match item {
            Some(item) => Next::Item(item),
            None => Next::Done,
        },
        _ = stop.past_grace() => Next::Abandoned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_stops_and_the_second_ends_the_grace() {
        let stop = Stop::new();
        assert!(!stop.is_stopped() && stop.deadline().is_none());
        let clone = stop.clone();
        let waiter = tokio::spawn(async move { clone.stopped().await });
        stop.trigger(StopSignal::Terminate);
        waiter.await.unwrap();
        assert_eq!(stop.signal(), Some(StopSignal::Terminate));
        let deadline = stop.deadline().unwrap();
        assert!(deadline > Instant::now() + DRAIN_GRACE / 2);
        // A second signal (of either kind) keeps the first's name and ends the wait.
        stop.trigger(StopSignal::Interrupt);
        assert_eq!(stop.signal(), Some(StopSignal::Terminate));
        stop.past_grace().await;
    }

    #[tokio::test]
    async fn the_next_result_comes_first_while_there_is_one() {
        let stop = Stop::new();
        stop.trigger(StopSignal::Interrupt);
        stop.trigger(StopSignal::Interrupt);
        let items = futures::stream::iter([1, 2]);
        let mut items = std::pin::pin!(items);
        assert!(matches!(
            next_or_abandon(&stop, &mut items).await,
            Next::Item(1)
        ));
        assert!(matches!(
            next_or_abandon(&stop, &mut items).await,
            Next::Item(2)
        ));
        assert!(matches!(
            next_or_abandon(&stop, &mut items).await,
            Next::Done
        ));
        let never = futures::stream::pending::<u8>();
        let mut never = std::pin::pin!(never);
        assert!(matches!(
            next_or_abandon(&stop, &mut never).await,
            Next::Abandoned
        ));
    }
}
