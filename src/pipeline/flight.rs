//! Single flight: a run never pays twice for one result. A segment about to be sent whose key
//! another batch of the run (of this document or any other) is already fetching is not sent
//! again: it waits for that batch and takes its outcome, a failure included (a paragraph the
//! backend could not do, or did not get to, is not paid for a second time). Results finished
//! earlier in the run come from the cache, or, when no cache keeps them (`--no-cache`, a
//! read-only cache), from the run's memory. A batch that ends without a word (its task
//! crashed) wakes its waiters, and they send for themselves; Ctrl-C wakes them too.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use tokio::sync::watch;

use super::engine::Engine;
use super::send::Done;
use super::translated::{FailureKind, SegmentFailure};
use crate::cache::{CacheKey, Entry};

/// How a sent segment ended.
pub(super) type Outcome = Result<Entry, SegmentFailure>;

/// The segments in flight in the run, and what finished when no cache keeps it.
#[derive(Default)]
pub(super) struct Flights {
    in_flight: Mutex<HashMap<CacheKey, watch::Receiver<Option<Outcome>>>>,
    /// Results of this run by key, kept only when the cache does not keep them.
    settled: Mutex<HashMap<CacheKey, Entry>>,
}

/// What a segment about to be sent does.
pub(super) enum Claimed<'e> {
    /// It finished already: in the cache, or earlier in this run.
    Found(Entry),
    /// It is this batch's to send; the claim tells the waiters how it went (none when the
    /// registry could not be read: then it is sent without one).
    Lead(Option<Claim<'e>>),
    /// Another batch is sending it: wait for that.
    Follow(watch::Receiver<Option<Outcome>>),
}

/// A segment this batch sends for every batch of the run that needs it.
pub(super) struct Claim<'e> {
    flights: &'e Flights,
    key: CacheKey,
    tx: watch::Sender<Option<Outcome>>,
    /// Keep the result in memory for later documents (no cache keeps it).
    keep: bool,
    settled: bool,
}

impl Claim<'_> {
    /// Tell the waiters how the segment ended, and stop being in flight.
    pub(super) fn settle(mut self, outcome: &Outcome) {
        if let Ok(mut in_flight) = self.flights.in_flight.lock() {
            if let (true, Ok(entry)) = (self.keep, outcome)
                && let Ok(mut settled) = self.flights.settled.lock()
            {
                settled.insert(self.key, entry.clone());
            }
            self.tx.send_replace(Some(outcome.clone()));
            in_flight.remove(&self.key);
            self.settled = true;
        }
    }
}

impl Drop for Claim<'_> {
    /// A claim dropped unsettled (its batch was dropped): its waiters wake to an empty channel
    /// and send for themselves.
    fn drop(&mut self) {
        if !self.settled
            && let Ok(mut in_flight) = self.flights.in_flight.lock()
        {
            in_flight.remove(&self.key);
        }
    }
}

impl Flights {
    /// Claim each segment of `segments` (an index and its keys, one per member of the pass;
    /// the first names the request) for sending, unless `found` has its result or another
    /// batch is sending it. All under one lock, so two batches never both claim a key, and a
    /// document's segments go together: identical documents make identical requests once.
    /// `keep`: whether results are to be kept in memory (no cache keeps them).
    fn claim_all<'k>(
        &self,
        segments: impl IntoIterator<Item = (usize, &'k [CacheKey])>,
        found: impl Fn(&[CacheKey]) -> Option<Entry>,
        keep: bool,
    ) -> Vec<(usize, Claimed<'_>)> {
        let mut in_flight = self.in_flight.lock().ok();
        let settled = self.settled.lock().ok();
        let mut claimed = Vec::new();
        for (i, keys) in segments {
            let (Some(in_flight), Some(&key)) = (in_flight.as_mut(), keys.first()) else {
                claimed.push((i, Claimed::Lead(None)));
                continue;
            };
            let kept = settled.as_ref().and_then(|s| s.get(&key).cloned());
            if let Some(entry) = kept.or_else(|| found(keys)) {
                claimed.push((i, Claimed::Found(entry)));
            } else if let Some(rx) = in_flight.get(&key) {
                claimed.push((i, Claimed::Follow(rx.clone())));
            } else {
                let (tx, rx) = watch::channel(None);
                in_flight.insert(key, rx);
                let claim = Claim {
                    flights: self,
                    key,
                    tx,
                    keep,
                    settled: false,
                };
                claimed.push((i, Claimed::Lead(Some(claim))));
            }
        }
        claimed
    }
}

/// Send a batch (`batch`, the segments of `range`), then tell the waiters of the segments
/// `claims` holds for it how each ended.
pub(super) fn settling<'e, F: Future<Output = Vec<Done>>>(
    claims: &mut HashMap<usize, Claim<'e>>,
    range: Range<usize>,
    batch: F,
) -> impl Future<Output = Vec<Done>> + use<'e, F> {
    let mut mine: HashMap<usize, Claim<'e>> = range
        .filter_map(|i| Some((i, claims.remove(&i)?)))
        .collect();
    async move {
        let done = batch.await;
        for (i, outcome) in &done {
            if let Some(claim) = mine.remove(i) {
                claim.settle(outcome);
            }
        }
        done
    }
}

/// The outcome the batch sending a segment reports, or `None` when it ended without one;
/// `cancelled` ends the wait as Ctrl-C does.
async fn follow(
    mut rx: watch::Receiver<Option<Outcome>>,
    cancelled: impl Future<Output = ()>,
) -> Option<Outcome> {
    tokio::select! {
        biased;
        got = rx.wait_for(Option::is_some) => got.ok().and_then(|outcome| (*outcome).clone()),
        () = cancelled => Some(Err(SegmentFailure::new(
            FailureKind::NotSent,
            "not sent: cancelled (Ctrl-C)",
        ))),
    }
}

impl Engine {
    /// Claim the segments `todo` (with their keys, one per member of the pass) for sending,
    /// unless one is finished (in this run, or in the cache under any member's key) or in
    /// flight already.
    pub(super) fn claim(
        &self,
        todo: &[usize],
        keys: &HashMap<usize, Vec<CacheKey>>,
    ) -> Vec<(usize, Claimed<'_>)> {
        let keep = !self.keeps_results();
        let segments = todo
            .iter()
            .map(|i| (*i, keys.get(i).map_or(&[][..], Vec::as_slice)));
        self.flights.claim_all(
            segments,
            |keys| keys.iter().find_map(|k| self.cached(k)),
            keep,
        )
    }

    /// Wait for the batch sending a segment: its outcome, or `None` when it ended without
    /// one (the caller then sends the segment itself). Ctrl-C ends the wait.
    pub(super) async fn follow(&self, rx: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
        follow(rx, self.cancelled()).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::cache::KeyParts;

    fn key(source: &str) -> CacheKey {
        CacheKey::new(&KeyParts {
            pass: "restore",
            backend: "b",
            kind: "openai",
            model: "m",
            prompt_hash: "p",
            params: &json!({}),
            source,
        })
    }

    fn entry(text: &str) -> Entry {
        Entry {
            text: text.to_owned(),
            literal: None,
            notes: Vec::new(),
            pass: "restore".to_owned(),
            backend: "b".to_owned(),
            model: "m".to_owned(),
            source: "Quelle".to_owned(),
            terms: Vec::new(),
        }
    }

    impl Flights {
        fn claim(
            &self,
            key: CacheKey,
            found: impl Fn() -> Option<Entry>,
            keep: impl FnOnce() -> bool,
        ) -> Claimed<'_> {
            let keys = [key];
            let mut claimed = self.claim_all([(0, &keys[..])], |_| found(), keep());
            claimed.pop().expect("one").1
        }
    }

    fn never() -> std::future::Pending<()> {
        std::future::pending()
    }

    fn lead(claimed: Claimed<'_>) -> Claim<'_> {
        match claimed {
            Claimed::Lead(Some(claim)) => claim,
            _ => panic!("expected to lead"),
        }
    }

    fn follower(claimed: Claimed<'_>) -> watch::Receiver<Option<Outcome>> {
        match claimed {
            Claimed::Follow(rx) => rx,
            _ => panic!("expected to follow"),
        }
    }

    #[tokio::test]
    async fn a_second_claim_follows_the_first_and_takes_its_outcome() {
        let flights = Flights::default();
        let claim = lead(flights.claim(key("a"), || None, || false));
        let rx = follower(flights.claim(key("a"), || None, || false));
        // Another key is not held up.
        assert!(matches!(
            flights.claim(key("b"), || None, || false),
            Claimed::Lead(Some(_))
        ));
        let waiting = tokio::spawn(follow(rx, never()));
        tokio::time::sleep(Duration::from_millis(10)).await;
        claim.settle(&Ok(entry("done")));
        let got = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(got.map(|o| o.map(|e| e.text)), Some(Ok("done".to_owned())));
        // Settled and not kept: the next claim sends again (the cache answers in a run).
        assert!(matches!(
            flights.claim(key("a"), || None, || false),
            Claimed::Lead(Some(_))
        ));
    }

    #[tokio::test]
    async fn a_kept_result_is_found_later_in_the_run() {
        let flights = Flights::default();
        lead(flights.claim(key("a"), || None, || true)).settle(&Ok(entry("kept")));
        match flights.claim(key("a"), || None, || true) {
            Claimed::Found(found) => assert_eq!(found.text, "kept"),
            _ => panic!("expected the kept result"),
        }
    }

    #[tokio::test]
    async fn a_failure_reaches_the_waiters_and_a_dropped_claim_wakes_them_empty() {
        let flights = Flights::default();
        let claim = lead(flights.claim(key("a"), || None, || true));
        let rx = follower(flights.claim(key("a"), || None, || true));
        let failure = SegmentFailure::new(FailureKind::Backend, "quota");
        claim.settle(&Err(failure.clone()));
        assert_eq!(follow(rx, never()).await, Some(Err(failure)));
        // A failure is not kept: a later claim may send.
        let claim = lead(flights.claim(key("a"), || None, || true));
        let rx = follower(flights.claim(key("a"), || None, || true));
        drop(claim);
        assert_eq!(follow(rx, never()).await, None);
        assert!(matches!(
            flights.claim(key("a"), || None, || true),
            Claimed::Lead(Some(_))
        ));
    }

    #[tokio::test]
    async fn cancelling_ends_the_wait() {
        let flights = Flights::default();
        let _claim = lead(flights.claim(key("a"), || None, || false));
        let rx = follower(flights.claim(key("a"), || None, || false));
        let got = follow(rx, std::future::ready(())).await;
        assert!(matches!(got, Some(Err(f)) if f.kind == FailureKind::NotSent));
    }
}
