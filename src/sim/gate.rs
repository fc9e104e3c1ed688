//! Holding requests on a test's word: [`Gate::pause`] (now) or [`Gate::pause_at`] (from the
//! n-th request to a path) makes every request wait before it is answered, until
//! [`Gate::resume`]. A test uses it to catch a client in the middle of a stage, with calls on
//! the wire, and signal or kill it there; it is never on unless a test turns it on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

#[derive(Debug)]
pub(crate) struct Gate {
    closed: watch::Sender<bool>,
    held: AtomicU64,
    trigger: Mutex<Trigger>,
}

/// When the gate closes by itself.
#[derive(Debug, Default)]
struct Trigger {
    /// (path, the arrival number at which it closes).
    at: Option<(String, u64)>,
    /// Requests that arrived so far, by path.
    arrivals: HashMap<String, u64>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            closed: watch::Sender::new(false),
            held: AtomicU64::new(0),
            trigger: Mutex::new(Trigger::default()),
        }
    }
}

impl Gate {
    pub(crate) fn pause(&self) {
        self.closed.send_replace(true);
    }

    pub(crate) fn pause_at(&self, path: &str, nth: u64) {
        let mut t = self.trigger.lock().unwrap_or_else(|p| p.into_inner());
        let seen = t.arrivals.get(path).copied().unwrap_or(0);
        t.at = Some((path.to_owned(), seen + nth.max(1)));
    }

    pub(crate) fn resume(&self) {
        self.trigger.lock().unwrap_or_else(|p| p.into_inner()).at = None;
        self.closed.send_replace(false);
    }

    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    /// A request to `path` arrived: it waits here while the gate is closed.
    pub(crate) async fn pass(&self, path: &str) {
        {
            let mut t = self.trigger.lock().unwrap_or_else(|p| p.into_inner());
            let n = {
                let n = t.arrivals.entry(path.to_owned()).or_insert(0);
                *n += 1;
                *n
            };
            if matches!(&t.at, Some((p, at)) if p == path && n >= *at) {
                t.at = None;
                self.closed.send_replace(true);
            }
        }
        let mut open = self.closed.subscribe();
        if !*open.borrow_and_update() {
            return;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        let _ = open.wait_for(|closed| !closed).await;
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}
