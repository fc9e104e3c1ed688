//! The access-token cache: one token shared by every caller, refreshed before it expires (at
//! 90% of `expires_in`), one refresh at a time, and dropped when WeCom says it is no good.
//!
//! It does not talk HTTP itself: the client passes the fetch to [`TokenCache::get`], so the
//! cache stays a small piece of synchronisation that is tested without a server.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::wecom::error::WecomError;
use crate::wecom::secret::Secret;

/// The share of a token's lifetime after which it is refreshed: early enough that a call made
/// just before expiry does not arrive just after it.
const REFRESH_AT: f64 = 0.9;

/// A token handed to one call, with the generation that lets the call invalidate exactly this
/// token (and not a fresh one another caller already fetched).
#[derive(Clone)]
pub(crate) struct TokenLease {
    pub(crate) token: Secret,
    pub(crate) generation: u64,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
    generation: u64,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    // A tokio mutex: it is held across the fetch so that concurrent callers wait for one
    // refresh instead of each making their own.
    slot: tokio::sync::Mutex<Option<Cached>>,
    generations: AtomicU64,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (token, `expires_in`) when there is none or
    /// it is due for refresh.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<TokenLease, WecomError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), WecomError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(c) = slot.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok(TokenLease {
                    token: c.token.clone(),
                    generation: c.generation,
                });
            }
        }
        let (token, ttl) = fetch().await?;
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let refresh_at = Instant::now() + ttl.mul_f64(REFRESH_AT);
        *slot = Some(Cached {
            token: token.clone(),
            refresh_at,
            generation,
        });
        Ok(TokenLease { token, generation })
    }

    /// Forgets the token of `generation` if it is still the cached one.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| c.generation == generation) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok((Secret::new("tok-1"), Duration::from_secs(7200)))
                    })
                    .await
                    .map(|l| l.generation)
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 1);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invalidation_only_drops_the_named_generation() {
        let cache = TokenCache::default();
        let ok = |t: &'static str| {
            move || async move { Ok((Secret::new(t), Duration::from_secs(7200))) }
        };
        let first = cache.get(ok("a")).await.unwrap();
        cache.invalidate(first.generation).await;
        let second = cache.get(ok("b")).await.unwrap();
        assert_eq!(second.token.expose(), "b");
        // A late invalidation of the old token must not throw away the new one.
        cache.invalidate(first.generation).await;
        let third = cache.get(ok("c")).await.unwrap();
        assert_eq!(
            (third.token.expose(), third.generation),
            ("b", second.generation)
        );
    }

    #[tokio::test]
    async fn refreshes_at_ninety_percent_of_the_lifetime() {
        let ok = |t: &'static str, secs: f64| {
            move || async move { Ok((Secret::new(t), Duration::from_secs_f64(secs))) }
        };
        // Long before 90% of its life, the cached token is handed out.
        let cache = TokenCache::default();
        cache.get(ok("a", 100.0)).await.unwrap();
        assert_eq!(cache.get(ok("b", 100.0)).await.unwrap().token.expose(), "a");
        // Past 90% of its life (0.09 s of 0.1 s), a new one is fetched although it has not
        // expired yet. (A lower bound on time only: the sleep may last longer, never shorter.)
        let cache = TokenCache::default();
        cache.get(ok("a", 0.1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(95)).await;
        assert_eq!(cache.get(ok("b", 0.1)).await.unwrap().token.expose(), "b");
    }

    #[tokio::test]
    async fn a_failed_fetch_caches_nothing() {
        let cache = TokenCache::default();
        let err = cache
            .get(|| async { Err(WecomError::Config("nope".into())) })
            .await
            .err()
            .expect("the fetch failed");
        assert!(err.to_string().contains("nope"));
        let ok = cache
            .get(|| async { Ok((Secret::new("t"), Duration::from_secs(1))) })
            .await
            .unwrap();
        assert_eq!(ok.token.expose(), "t");
    }
}
