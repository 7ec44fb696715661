//! How many requests a backend may have in flight. Starts at the configured `concurrency`;
//! a 429 from the server (we kept to our limits, so they were set too high) halves it, and a
//! run of successes raises it again one step at a time — additive increase, multiplicative
//! decrease, as TCP does — so a wrong guess at a provider's limits costs little.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Successes per current slot before one more slot is tried.
const RAISE_AFTER: usize = 8;

pub struct Slots {
    semaphore: Semaphore,
    /// The configured ceiling.
    max: usize,
    /// The limit in force now.
    limit: AtomicUsize,
    /// Permits to retire as they come back (they were in use when the limit dropped).
    debt: AtomicUsize,
    successes: AtomicUsize,
}

/// A slot in use; returned (or retired, after a cut) when dropped.
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    slots: &'a Slots,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let retire = self
            .slots
            .debt
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
            .is_ok();
        if let (true, Some(permit)) = (retire, self.permit.take()) {
            permit.forget();
        }
    }
}

impl Slots {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            semaphore: Semaphore::new(max),
            max,
            limit: AtomicUsize::new(max),
            debt: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
        }
    }

    pub async fn acquire(&self) -> Slot<'_> {
        let permit = self
            .semaphore
            .acquire()
            .await
            .expect("the semaphore is never closed");
        Slot {
            permit: Some(permit),
            slots: self,
        }
    }

    /// The limit in force now.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// The server said 429: halve the limit (never below one).
    pub fn rate_limited(&self) {
        let Ok(before) = self
            .limit
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| {
                (l > 1).then_some(l.div_ceil(2))
            })
        else {
            return;
        };
        let cut = before - before.div_ceil(2);
        self.successes.store(0, Ordering::Release);
        // Retire free permits now, the rest as they come back.
        let forgotten = self.semaphore.forget_permits(cut);
        self.debt.fetch_add(cut - forgotten, Ordering::AcqRel);
    }

    /// A request succeeded: after enough of them, try one more slot.
    pub fn succeeded(&self) {
        let limit = self.limit();
        if limit >= self.max {
            return;
        }
        let count = self.successes.fetch_add(1, Ordering::AcqRel) + 1;
        if count < RAISE_AFTER * limit {
            return;
        }
        if self
            .limit
            .compare_exchange(limit, limit + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.successes.store(0, Ordering::Release);
            // Cancel a pending retirement first; otherwise add a permit.
            let paid = self
                .debt
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
                .is_ok();
            if !paid {
                self.semaphore.add_permits(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_on_429_and_climbs_back() {
        let slots = Slots::new(8);
        assert_eq!(slots.limit(), 8);
        {
            let _held: Vec<Slot> = vec![slots.acquire().await, slots.acquire().await];
            slots.rate_limited();
            assert_eq!(slots.limit(), 4);
            slots.rate_limited();
            assert_eq!(slots.limit(), 2);
            // Two held, debt covers what could not be forgotten.
        }
        // Exactly `limit` slots can be held at once now.
        let a = slots.acquire().await;
        let b = slots.acquire().await;
        assert!(slots.semaphore.try_acquire().is_err(), "only two slots");
        drop((a, b));
        for _ in 0..(RAISE_AFTER * 2) {
            slots.succeeded();
        }
        assert_eq!(slots.limit(), 3);
        let held: Vec<Slot> = vec![
            slots.acquire().await,
            slots.acquire().await,
            slots.acquire().await,
        ];
        assert!(slots.semaphore.try_acquire().is_err(), "three slots");
        drop(held);
        for _ in 0..1000 {
            slots.succeeded();
        }
        assert_eq!(slots.limit(), 8, "never above the configured concurrency");
        let all: Vec<Slot> = futures_util::future::join_all((0..8).map(|_| slots.acquire())).await;
        assert!(slots.semaphore.try_acquire().is_err());
        drop(all);
        let one = Slots::new(1);
        one.rate_limited();
        assert_eq!(one.limit(), 1, "never below one");
    }
}
