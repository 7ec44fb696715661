//! What a run spends: each backend's price, the usage per pass (draft, literal, restore or
//! polish-de, refine) beside the usage per backend, and the `--max-cost` budget every request
//! reserves its estimated cost against before it is sent (see [`crate::cost::Budget`]). A
//! batch-job path calls the same budget before it submits a job. Also the arithmetic of usage:
//! adding it up per backend, and sharing a pack's out among its documents (the dry run shares
//! its estimates the same way).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::Serialize;

use super::engine::{Engine, Member};
use crate::backend::{BackendError, ErrorKind, Usage};
use crate::config::Settings;
use crate::cost::{self, Amounts, Budget, BudgetReached, Price, Reservation};

/// The literal's own name among the passes: the restore model's `literal` beside each
/// restoration (its output tokens are moved here from `restore`).
pub const LITERAL: &str = "literal";

/// The money side of an [`Engine`].
pub(super) struct Spending {
    budget: Budget,
    /// Backend name → price, for the backends of the run that have one.
    prices: BTreeMap<String, Price>,
    /// Backends of the run without a price.
    unpriced: BTreeSet<String>,
    /// Pass name → backend name → what its replies reported.
    by_pass: Mutex<BTreeMap<String, BTreeMap<String, Usage>>>,
}

impl Spending {
    /// The prices of `backends` (the run's, by name) and a budget of `settings.max_cost` in
    /// their currency.
    pub(super) fn new<'a>(settings: &Settings, backends: impl Iterator<Item = &'a str>) -> Self {
        let mut prices = BTreeMap::new();
        let mut unpriced = BTreeSet::new();
        for name in backends {
            match settings.backends.get(name).and_then(|b| b.price.as_ref()) {
                Some(price) => {
                    prices.insert(name.to_owned(), price.value.clone());
                }
                None => {
                    unpriced.insert(name.to_owned());
                }
            }
        }
        let currency = prices
            .values()
            .map(|p| p.currency.as_str())
            .next()
            .unwrap_or("USD");
        Self {
            budget: Budget::new(settings.max_cost.as_ref().map(|c| c.value), currency),
            prices,
            unpriced,
            by_pass: Mutex::default(),
        }
    }
}

/// What a run spent, per backend and per pass, from the usage the providers reported, beside
/// what its requests were estimated to cost before they were sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Spent {
    /// When the built-in prices were list prices (a configured price overrides them).
    pub prices_as_of: &'static str,
    /// Every backend with a price.
    pub total: Amounts,
    /// The estimates the requests reserved before they were sent (in the budget's currency).
    pub estimated: Amounts,
    /// `--max-cost`, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    pub backends: BTreeMap<String, CostLine>,
    /// `draft`, `literal`, `restore` (or `polish-de`), `refine`.
    pub passes: BTreeMap<String, CostLine>,
    /// Backends of the run without a price: their cost is not in the totals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

/// Usage and its cost; `cost` is absent when a backend in it has no price.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CostLine {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub output_tokens: u64,
    pub billed_characters: u64,
    pub cost: Option<Amounts>,
}

impl CostLine {
    fn add(&mut self, usage: &Usage, cost: Option<(f64, &str)>) {
        self.input_tokens += usage.input_tokens;
        self.cached_input_tokens += usage.cached_input_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        self.output_tokens += usage.output_tokens;
        self.billed_characters += usage.billed_characters;
        if let Some((amount, currency)) = cost {
            self.cost
                .get_or_insert_with(Amounts::default)
                .add(amount, currency);
        }
    }
}

impl Engine {
    /// The run's budget: reserve a request's (or a batch job's) estimated cost before sending
    /// it, and settle with the actual cost when the reply comes.
    pub fn budget(&self) -> &Budget {
        &self.spending.budget
    }

    /// The price of a backend of the run, if known.
    pub fn price(&self, backend: &str) -> Option<&Price> {
        self.spending.prices.get(backend)
    }

    /// Backends of the run with no price: `--max-cost` refuses them, the reports leave their
    /// cost out.
    pub fn unpriced(&self) -> Vec<String> {
        self.spending.unpriced.iter().cloned().collect()
    }

    /// What `usage` on `backend` costs, synchronously or through the batch API.
    pub fn cost_of(&self, backend: &str, usage: &Usage, batch: bool) -> Option<f64> {
        self.price(backend).map(|p| cost::cost(usage, p, batch))
    }

    /// Usage per pass and backend, so far.
    pub fn pass_usage(&self) -> BTreeMap<String, BTreeMap<String, Usage>> {
        self.spending
            .by_pass
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// A reply's usage, counted for its pass.
    pub(super) fn add_pass_usage(&self, pass: &str, backend: &str, usage: Usage) {
        if let Ok(mut all) = self.spending.by_pass.lock() {
            *all.entry(pass.to_owned())
                .or_default()
                .entry(backend.to_owned())
                .or_default() += usage;
        }
    }

    /// `tokens` of a `pass` reply's output were the literal beside the restoration: count
    /// them for the literal.
    pub(super) fn move_to_literal(&self, pass: &str, backend: &str, tokens: u64) {
        if let Ok(mut all) = self.spending.by_pass.lock() {
            let from = all
                .entry(pass.to_owned())
                .or_default()
                .entry(backend.to_owned())
                .or_default();
            let tokens = tokens.min(from.output_tokens);
            from.output_tokens -= tokens;
            all.entry(LITERAL.to_owned())
                .or_default()
                .entry(backend.to_owned())
                .or_default()
                .output_tokens += tokens;
        }
    }

    /// Reserve the estimated cost of a request to `member`: `input` tokens (characters for a
    /// translation service) read, `output` tokens written. Refused as a halt: nothing more is
    /// sent, and the paragraphs are reported as not sent, like after a quota stop.
    pub(super) fn reserve(
        &self,
        member: &Member,
        input: u64,
        output: u64,
    ) -> Result<Reservation<'_>, BackendError> {
        let usage = estimated_usage(member.chat().is_some(), input, output);
        let name = member.backend.name();
        let batch = member.backend.is_deferred();
        let estimate = self.cost_of(name, &usage, batch).unwrap_or_default();
        self.budget()
            .reserve(estimate)
            .map_err(|reached| budget_reached(name, &reached))
    }

    /// What the run spent so far, per backend and per pass.
    pub fn spent(&self) -> Spent {
        let mut spent = Spent {
            prices_as_of: cost::PRICES_AS_OF,
            max_cost: self.budget().limit(),
            unpriced: self.unpriced(),
            ..Spent::default()
        };
        let estimated = self.budget().estimated();
        if estimated > 0.0 {
            spent.estimated = Amounts::one(estimated, self.budget().currency());
        }
        // One snapshot of the run's usage, for the backends' lines and the passes' mix.
        let all = self.usage();
        for (backend, usage) in &all {
            let cost = self.line_cost(backend, usage, &all);
            if let Some((amount, currency)) = cost {
                spent.total.add(amount, currency);
            }
            spent
                .backends
                .entry(backend.clone())
                .or_default()
                .add(usage, cost);
        }
        for (pass, backends) in self.pass_usage() {
            let line = spent.passes.entry(pass).or_default();
            for (backend, usage) in backends {
                line.add(&usage, self.line_cost(&backend, &usage, &all));
            }
        }
        spent
    }

    /// What `usage`, a part of `backend`'s, cost; `all` is the run's usage per backend.
    fn line_cost(
        &self,
        backend: &str,
        usage: &Usage,
        all: &BTreeMap<String, Usage>,
    ) -> Option<(f64, &str)> {
        let price = self.price(backend)?;
        let cost = match self.direct_usage(backend) {
            None => cost::cost(usage, price, false),
            // Batch mode: lines at the batch price, the few sent directly at the full one; a
            // part of the backend's usage (one pass) gets the same mix as the whole.
            Some(direct) => {
                let all = all.get(backend).copied().unwrap_or_default();
                let at_batch = cost::cost(&all, price, true);
                let exact = cost::cost(&minus(all, direct), price, true)
                    + cost::cost(&direct, price, false);
                let share = if at_batch > 0.0 {
                    exact / at_batch
                } else {
                    1.0
                };
                cost::cost(usage, price, true) * share
            }
        };
        Some((cost, price.currency.as_str()))
    }

    /// Whether `backend` sends through batch jobs (`None` if not), and what its requests sent
    /// directly used.
    fn direct_usage(&self, backend: &str) -> Option<Usage> {
        let mut deferred = self
            .draft
            .iter()
            .chain([&self.main])
            .flat_map(|p| &p.members)
            .filter(|m| m.backend.name() == backend && m.backend.is_deferred())
            .peekable();
        deferred.peek()?;
        Some(deferred.fold(Usage::default(), |mut all, m| {
            all += m.backend.direct_usage();
            all
        }))
    }
}

/// Add `more` to `usage`, backend by backend.
pub(super) fn add_usage(usage: &mut BTreeMap<String, Usage>, more: BTreeMap<String, Usage>) {
    for (backend, used) in more {
        *usage.entry(backend).or_default() += used;
    }
}

/// A pack's usage shared out among its documents by `weights` (their German's length): every
/// count split in proportion, the remainders to the largest fractions, so the shares add up
/// to the whole exactly.
pub(super) fn share_usage(
    usage: &BTreeMap<String, Usage>,
    weights: &[u64],
) -> Vec<BTreeMap<String, Usage>> {
    let mut shares = vec![BTreeMap::new(); weights.len()];
    for (backend, used) in usage {
        let mut parts = vec![Usage::default(); weights.len()];
        let mut whole = *used;
        for (field, total) in whole.counts_mut().into_iter().enumerate() {
            for (part, n) in parts.iter_mut().zip(split(*total, weights)) {
                *part.counts_mut()[field] = n;
            }
        }
        for (share, part) in shares.iter_mut().zip(parts) {
            share.insert(backend.clone(), part);
        }
    }
    shares
}

/// `total` split in proportion to `weights` (largest remainders first; all to the first when
/// every weight is zero), so the shares add up to `total`.
pub(super) fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return (0..weights.len())
            .map(|i| if i == 0 { total } else { 0 })
            .collect();
    }
    let exact = |w: u64| u128::from(total) * u128::from(w);
    let mut parts: Vec<u64> = weights.iter().map(|&w| (exact(w) / sum) as u64).collect();
    let left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact(weights[i]) % sum));
    for &i in order.iter().take(left as usize) {
        parts[i] += 1;
    }
    parts
}

/// The usage of a request estimated before it is sent: `input` tokens read and `output`
/// written by a language model (`chat`), or `input` characters billed by a translation
/// service. The budget reserves it, and the dry run prices it.
pub(super) fn estimated_usage(chat: bool, input: u64, output: u64) -> Usage {
    if chat {
        Usage {
            input_tokens: input,
            output_tokens: output,
            ..Usage::default()
        }
    } else {
        Usage {
            billed_characters: input,
            ..Usage::default()
        }
    }
}

/// `all` without `part` (never below zero).
fn minus(all: Usage, part: Usage) -> Usage {
    Usage {
        requests: all.requests.saturating_sub(part.requests),
        retries: all.retries.saturating_sub(part.retries),
        input_tokens: all.input_tokens.saturating_sub(part.input_tokens),
        cached_input_tokens: all
            .cached_input_tokens
            .saturating_sub(part.cached_input_tokens),
        cache_creation_input_tokens: all
            .cache_creation_input_tokens
            .saturating_sub(part.cache_creation_input_tokens),
        output_tokens: all.output_tokens.saturating_sub(part.output_tokens),
        billed_characters: all.billed_characters.saturating_sub(part.billed_characters),
    }
}

/// The error a request refused by the budget fails with.
fn budget_reached(backend: &str, reached: &BudgetReached) -> BackendError {
    BackendError {
        backend: backend.to_owned(),
        kind: ErrorKind::Halted,
        message: format!("{reached} (--max-cost)"),
        hint: Some(BUDGET_HINT.to_owned()),
        status: None,
    }
}

/// How to go on after the budget stopped a run.
pub const BUDGET_HINT: &str =
    "raise --max-cost or run the same command again: finished paragraphs come from the cache";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_packs_usage_is_shared_by_the_length_of_each_german() {
        let used = Usage {
            requests: 1,
            input_tokens: 1000,
            output_tokens: 301,
            ..Usage::default()
        };
        let usage = BTreeMap::from([("openai".to_owned(), used)]);
        let shares = share_usage(&usage, &[300, 100, 0]);
        let openai: Vec<Usage> = shares.iter().map(|s| s["openai"]).collect();
        assert_eq!(
            openai.iter().map(|u| u.input_tokens).collect::<Vec<_>>(),
            [750, 250, 0]
        );
        assert_eq!(
            openai.iter().map(|u| u.output_tokens).collect::<Vec<_>>(),
            [226, 75, 0],
            "the remainder to the largest fraction"
        );
        assert_eq!(
            openai.iter().map(|u| u.requests).collect::<Vec<_>>(),
            [1, 0, 0],
            "one request is counted once"
        );
        assert_eq!(split(7, &[0, 0]), [7, 0], "no German: all to the first");
    }

    proptest! {
        #[test]
        fn shares_add_up_to_the_whole(
            total in 0u64..1_000_000,
            weights in proptest::collection::vec(0u64..10_000, 1..12),
        ) {
            let parts = split(total, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().sum::<u64>(), total);
        }
    }
}
