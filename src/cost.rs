//! Money: what a backend charges (a small built-in, dated table of list prices for the
//! default models of each kind, overridable per backend in the config), what a run's usage
//! costs at those prices, synchronously or through a provider's batch API, and the budget of
//! `--max-cost` that requests reserve their estimated cost against before they are sent.
//! Pure: no I/O, no async; the budget is a mutex around three numbers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

use crate::backend::Usage;
use crate::config::BackendKind;

/// When the built-in prices were the providers' list prices.
pub const PRICES_AS_OF: &str = "2025-11";

/// What the providers' batch APIs charge, as a share of the synchronous price.
pub const BATCH_SHARE: f64 = 0.5;

/// Anthropic bills writing the prompt cache at 1.25 times the input price.
pub const CACHE_WRITE_SHARE: f64 = 1.25;

/// Output tokens per ten source tokens a chat reply is estimated to write for each text it
/// returns (the restoration, and the literal beside it when asked for): English runs a little
/// shorter than German, the JSON around each text a little longer.
pub const OUTPUT_TENTHS_PER_SOURCE_TOKEN: u64 = 11;

/// Output tokens per item for the JSON around it (`{"id": "s12", "en": …, "notes": []}`).
pub const OUTPUT_PER_ITEM: u64 = 12;

/// The output tokens a chat request for `items` texts of `source_tokens` tokens is estimated
/// to cost: the text written once, and again for the literal when `literal`.
pub fn estimate_output(source_tokens: u64, items: u64, literal: bool) -> u64 {
    let text = literal_output(source_tokens);
    let texts = if literal { 2 * text } else { text };
    texts + items * OUTPUT_PER_ITEM
}

/// The part of [`estimate_output`] that is the literal: about as long as the restoration.
pub fn literal_output(source_tokens: u64) -> u64 {
    (source_tokens * OUTPUT_TENTHS_PER_SOURCE_TOKEN).div_ceil(10)
}

/// A backend's prices: per million tokens for a chat model, per million characters for a
/// translation service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub input: f64,
    /// Input read from the provider's prompt cache.
    pub cached_input: f64,
    pub output: f64,
    pub characters: f64,
    pub currency: String,
    /// The provider sells the same for half the price through its batch API.
    pub batch_discount: bool,
}

impl Price {
    /// A chat model's prices (USD per million tokens).
    fn tokens(input: f64, cached_input: f64, output: f64, batch_discount: bool) -> Self {
        Self {
            input,
            cached_input,
            output,
            characters: 0.0,
            currency: USD.to_owned(),
            batch_discount,
        }
    }

    /// A translation service's price (USD per million characters).
    fn characters(characters: f64) -> Self {
        Self {
            input: 0.0,
            cached_input: 0.0,
            output: 0.0,
            characters,
            currency: USD.to_owned(),
            batch_discount: false,
        }
    }

    /// Whether `kind` sells through a batch API at [`BATCH_SHARE`] of the price.
    pub fn batch_discount_for(kind: BackendKind) -> bool {
        matches!(kind, BackendKind::Openai | BackendKind::Anthropic)
    }
}

const USD: &str = "USD";

/// The built-in list prices (USD per million tokens: input, cached input, output) as of
/// [`PRICES_AS_OF`], for the models the README suggests; a dated snapshot of a name also
/// matches (`gpt-4.1-mini-2025-04-14`, `claude-sonnet-4-5-20250929`).
const CHAT_PRICES: &[(BackendKind, &str, f64, f64, f64)] = &[
    (BackendKind::Openai, "gpt-4.1", 2.00, 0.50, 8.00),
    (BackendKind::Openai, "gpt-4.1-mini", 0.40, 0.10, 1.60),
    (BackendKind::Openai, "gpt-4.1-nano", 0.10, 0.025, 0.40),
    (BackendKind::Openai, "gpt-4o", 2.50, 1.25, 10.00),
    (BackendKind::Openai, "gpt-4o-mini", 0.15, 0.075, 0.60),
    (BackendKind::Openai, "gpt-5", 1.25, 0.125, 10.00),
    (BackendKind::Openai, "gpt-5-mini", 0.25, 0.025, 2.00),
    (BackendKind::Openai, "gpt-5-nano", 0.05, 0.005, 0.40),
    (
        BackendKind::Anthropic,
        "claude-sonnet-4-5",
        3.00,
        0.30,
        15.00,
    ),
    (
        BackendKind::Anthropic,
        "claude-sonnet-4-0",
        3.00,
        0.30,
        15.00,
    ),
    (BackendKind::Anthropic, "claude-sonnet-4", 3.00, 0.30, 15.00),
    (BackendKind::Anthropic, "claude-haiku-4-5", 1.00, 0.10, 5.00),
    (BackendKind::Anthropic, "claude-opus-4-5", 5.00, 0.50, 25.00),
    (BackendKind::Gemini, "gemini-2.5-flash", 0.30, 0.03, 2.50),
    (
        BackendKind::Gemini,
        "gemini-2.5-flash-lite",
        0.10,
        0.01,
        0.40,
    ),
    (BackendKind::Gemini, "gemini-2.5-pro", 1.25, 0.125, 10.00),
];

/// The built-in price of `model` on a backend of `kind`, if the table knows it. A local
/// Ollama and a self-hosted LibreTranslate cost nothing per token or character; the
/// translation services have one price per character whatever the model.
pub fn builtin(kind: BackendKind, model: Option<&str>) -> Option<Price> {
    match kind {
        BackendKind::Ollama => return Some(Price::tokens(0.0, 0.0, 0.0, false)),
        BackendKind::Libretranslate => return Some(Price::characters(0.0)),
        // DeepL API Pro, Cloud Translation (Basic and Advanced), Translator S1.
        BackendKind::Deepl => return Some(Price::characters(25.0)),
        BackendKind::Google => return Some(Price::characters(20.0)),
        BackendKind::Azure => return Some(Price::characters(10.0)),
        BackendKind::Openai | BackendKind::Anthropic | BackendKind::Gemini => {}
    }
    let model = model?.trim();
    CHAT_PRICES
        .iter()
        .find(|(k, name, ..)| *k == kind && is_snapshot_of(model, name))
        .map(|&(kind, _, input, cached, output)| {
            Price::tokens(input, cached, output, Price::batch_discount_for(kind))
        })
}

/// `model` is `name` or a dated snapshot of it (`name-2025-04-14`, `name-20250929`).
fn is_snapshot_of(model: &str, name: &str) -> bool {
    match model.strip_prefix(name) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('-').is_some_and(|date| {
            date.len() >= 8 && date.chars().all(|c| c.is_ascii_digit() || c == '-')
        }),
        None => false,
    }
}

/// What `usage` costs at `price`; through the batch API at [`BATCH_SHARE`] where the provider
/// offers it. Cached input is billed at its own price, cache writes at [`CACHE_WRITE_SHARE`]
/// of the input price, the rest of the input at the input price.
pub fn cost(usage: &Usage, price: &Price, batch: bool) -> f64 {
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    let written = usage
        .cache_creation_input_tokens
        .min(usage.input_tokens - cached);
    let plain = usage.input_tokens - cached - written;
    let tokens = plain as f64 * price.input
        + cached as f64 * price.cached_input
        + written as f64 * price.input * CACHE_WRITE_SHARE
        + usage.output_tokens as f64 * price.output;
    let characters = usage.billed_characters as f64 * price.characters;
    let share = if batch && price.batch_discount {
        BATCH_SHARE
    } else {
        1.0
    };
    (tokens + characters) / 1_000_000.0 * share
}

/// Sums of money, one per currency (a run whose backends bill in one currency has one).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Amounts(#[serde(serialize_with = "rounded_map")] BTreeMap<String, f64>);

/// An amount for a report: to 1e-10 of the currency, without the float noise of sums
/// (`0.10066499999999999`).
pub fn rounded(amount: f64) -> f64 {
    (amount * 1e10).round() / 1e10
}

/// Serde's `serialize_with` for one amount.
pub fn rounded_amount<S: serde::Serializer>(amount: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(rounded(*amount))
}

fn rounded_map<S: serde::Serializer>(map: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(
        map.iter()
            .map(|(currency, amount)| (currency, rounded(*amount))),
    )
}

impl Amounts {
    pub fn one(amount: f64, currency: &str) -> Self {
        let mut amounts = Self::default();
        amounts.add(amount, currency);
        amounts
    }

    pub fn add(&mut self, amount: f64, currency: &str) {
        *self.0.entry(currency.to_owned()).or_default() += amount;
    }

    pub fn add_all(&mut self, other: &Amounts) {
        for (currency, amount) in &other.0 {
            self.add(*amount, currency);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The amount in `currency` (0 when none).
    pub fn get(&self, currency: &str) -> f64 {
        self.0.get(currency).copied().unwrap_or_default()
    }

    /// The one amount when all is in one currency.
    pub fn single(&self) -> Option<(f64, &str)> {
        match self.0.iter().collect::<Vec<_>>().as_slice() {
            [(currency, amount)] => Some((**amount, currency.as_str())),
            _ => None,
        }
    }
}

/// `$0.0123`, `$12.34`, `€1.20`, `0.50 CHF`; amounts in several currencies joined with `+`.
impl fmt::Display for Amounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(&money(0.0, USD));
        }
        let parts: Vec<String> = self.0.iter().map(|(c, a)| money(*a, c)).collect();
        f.write_str(&parts.join(" + "))
    }
}

/// One amount as people read it: cents for a dollar or more, four decimals below.
pub fn money(amount: f64, currency: &str) -> String {
    let number = if amount == 0.0 {
        "0.00".to_owned()
    } else if amount.abs() >= 1.0 {
        format!("{amount:.2}")
    } else {
        format!("{amount:.4}")
    };
    match currency {
        "USD" => format!("${number}"),
        "EUR" => format!("€{number}"),
        "GBP" => format!("£{number}"),
        other => format!("{number} {other}"),
    }
}

/// `--max-cost`: the most a run may spend. Each request reserves its estimated cost before it
/// is sent and settles with what the reply says it cost; one whose estimate would take what is
/// spent and reserved past the limit is not sent. Without a limit every reservation succeeds,
/// and the budget only adds up the estimates and the actual costs.
#[derive(Debug)]
pub struct Budget {
    limit: Option<f64>,
    currency: String,
    state: Mutex<Tally>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Settled: what the replies cost.
    spent: f64,
    /// Reserved by requests in flight.
    reserved: f64,
    /// Every reservation's estimate, settled or not.
    estimated: f64,
}

/// A request that would take the run past its budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "budget reached: {} of {} spent or reserved, the next request would cost about {}",
    money(*committed, currency), money(*limit, currency), money(*request, currency)
)]
pub struct BudgetReached {
    pub limit: f64,
    pub committed: f64,
    pub request: f64,
    pub currency: String,
}

/// An estimated cost held against the budget until [`Reservation::settle`]. Dropped unsettled
/// (the request went out but no reply came), the estimate counts as spent: a request that
/// left may have been billed.
#[derive(Debug)]
#[must_use = "settle the reservation with the actual cost"]
pub struct Reservation<'a> {
    budget: &'a Budget,
    amount: f64,
    settled: bool,
}

impl Budget {
    /// `limit` in `currency`; `None`: no limit.
    pub fn new(limit: Option<f64>, currency: &str) -> Self {
        Self {
            limit,
            currency: currency.to_owned(),
            state: Mutex::default(),
        }
    }

    pub fn limit(&self) -> Option<f64> {
        self.limit
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// Hold `estimate` against the budget, or refuse when it would pass the limit.
    pub fn reserve(&self, estimate: f64) -> Result<Reservation<'_>, BudgetReached> {
        let estimate = estimate.max(0.0);
        let mut tally = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let committed = tally.spent + tally.reserved;
        if let Some(limit) = self.limit
            && committed + estimate > limit
        {
            return Err(BudgetReached {
                limit,
                committed,
                request: estimate,
                currency: self.currency.clone(),
            });
        }
        tally.reserved += estimate;
        tally.estimated += estimate;
        Ok(Reservation {
            budget: self,
            amount: estimate,
            settled: false,
        })
    }

    /// What the settled requests cost.
    pub fn spent(&self) -> f64 {
        self.tally().spent
    }

    /// The estimates of every request reserved so far.
    pub fn estimated(&self) -> f64 {
        self.tally().estimated
    }

    /// Spent plus reserved: what the run is committed to now.
    pub fn committed(&self) -> f64 {
        let tally = self.tally();
        tally.spent + tally.reserved
    }

    fn tally(&self) -> Tally {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, reserved: f64, actual: f64) {
        let mut tally = self.state.lock().unwrap_or_else(|e| e.into_inner());
        tally.reserved = (tally.reserved - reserved).max(0.0);
        tally.spent += actual.max(0.0);
    }
}

impl Reservation<'_> {
    /// The estimate held.
    pub fn amount(&self) -> f64 {
        self.amount
    }

    /// The reply came (or the request failed, `actual` 0): replace the estimate by the cost.
    pub fn settle(mut self, actual: f64) {
        self.settled = true;
        self.budget.release(self.amount, actual);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.budget.release(self.amount, self.amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn the_default_models_have_prices() {
        for (kind, model) in [
            (BackendKind::Openai, "gpt-4.1-mini"),
            (BackendKind::Anthropic, "claude-sonnet-4-5"),
            (BackendKind::Gemini, "gemini-2.5-flash"),
        ] {
            assert!(builtin(kind, Some(model)).is_some(), "{model}");
        }
        let mini = builtin(BackendKind::Openai, Some("gpt-4.1-mini")).unwrap();
        assert_eq!(
            (mini.input, mini.cached_input, mini.output),
            (0.4, 0.1, 1.6)
        );
        assert!(mini.batch_discount);
        let deepl = builtin(BackendKind::Deepl, None).unwrap();
        assert_eq!(deepl.characters, 25.0);
        assert!(!deepl.batch_discount);
    }

    #[test]
    fn snapshots_match_but_other_models_do_not() {
        let price = |model| builtin(BackendKind::Openai, Some(model)).map(|p| p.input);
        assert_eq!(price("gpt-4.1-mini-2025-04-14"), Some(0.4));
        assert_eq!(price("gpt-4.1"), Some(2.0));
        assert_eq!(price("gpt-4.1-mini"), Some(0.4));
        assert_eq!(price("gpt-4.1-turbo"), None);
        assert_eq!(price("my-finetune"), None);
        let sonnet = builtin(BackendKind::Anthropic, Some("claude-sonnet-4-5-20250929"));
        assert_eq!(sonnet.map(|p| p.output), Some(15.0));
        // A model name is per provider: an OpenAI-compatible server's `claude-…` is unknown.
        assert_eq!(price("claude-sonnet-4-5"), None);
        assert_eq!(builtin(BackendKind::Openai, None), None);
    }

    #[test]
    fn cost_counts_cached_and_written_input_apart() {
        let price = Price::tokens(2.0, 0.5, 8.0, true);
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            cache_creation_input_tokens: 100_000,
            output_tokens: 250_000,
            ..Usage::default()
        };
        // 500k plain × 2 + 400k cached × 0.5 + 100k written × 2.5 + 250k out × 8, per million.
        near(cost(&usage, &price, false), 1.0 + 0.2 + 0.25 + 2.0);
        near(cost(&usage, &price, true), (1.0 + 0.2 + 0.25 + 2.0) / 2.0);
    }

    #[test]
    fn batch_is_half_price_only_where_the_provider_sells_it() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::default()
        };
        let openai = builtin(BackendKind::Openai, Some("gpt-4.1")).unwrap();
        near(cost(&usage, &openai, false), 10.0);
        near(cost(&usage, &openai, true), 5.0);
        let gemini = builtin(BackendKind::Gemini, Some("gemini-2.5-pro")).unwrap();
        near(cost(&usage, &gemini, true), cost(&usage, &gemini, false));
    }

    #[test]
    fn characters_are_billed_per_million() {
        let usage = Usage {
            billed_characters: 200_000,
            ..Usage::default()
        };
        near(cost(&usage, &Price::characters(25.0), false), 5.0);
        near(cost(&usage, &Price::characters(25.0), true), 5.0);
    }

    #[test]
    fn odd_usage_never_costs_less_than_nothing() {
        // A provider reporting more cached tokens than input tokens.
        let usage = Usage {
            input_tokens: 10,
            cached_input_tokens: 20,
            cache_creation_input_tokens: 5,
            ..Usage::default()
        };
        let price = Price::tokens(1.0, 0.1, 1.0, false);
        near(cost(&usage, &price, false), 10.0 * 0.1 / 1e6);
    }

    #[test]
    fn the_literal_doubles_the_text_written() {
        assert_eq!(estimate_output(100, 2, false), 110 + 24);
        assert_eq!(estimate_output(100, 2, true), 220 + 24);
        assert_eq!(literal_output(100), 110);
    }

    #[test]
    fn amounts_read_well() {
        assert_eq!(Amounts::one(0.012345, "USD").to_string(), "$0.0123");
        assert_eq!(Amounts::one(12.345, "USD").to_string(), "$12.35");
        let mut mixed = Amounts::one(1.5, "EUR");
        mixed.add(0.5, "USD");
        mixed.add(0.25, "CHF");
        assert_eq!(mixed.to_string(), "0.2500 CHF + €1.50 + $0.5000");
        assert_eq!(mixed.single(), None);
        assert_eq!(Amounts::one(2.0, "USD").single(), Some((2.0, "USD")));
        assert_eq!(
            serde_json::to_value(Amounts::one(2.0, "USD")).unwrap(),
            serde_json::json!({"USD": 2.0})
        );
    }

    #[test]
    fn a_budget_refuses_what_would_pass_it() {
        let budget = Budget::new(Some(1.0), "USD");
        let first = budget.reserve(0.6).unwrap();
        // Reserved counts: a second estimate of 0.6 would pass the limit.
        let refused = budget.reserve(0.6).unwrap_err();
        assert_eq!(refused.committed, 0.6);
        assert_eq!(
            refused.to_string(),
            "budget reached: $0.6000 of $1.00 spent or reserved, the next request would cost \
             about $0.6000"
        );
        first.settle(0.3);
        near(budget.spent(), 0.3);
        let second = budget.reserve(0.6).unwrap();
        near(budget.committed(), 0.9);
        second.settle(0.7);
        near(budget.spent(), 1.0);
        assert!(budget.reserve(0.01).is_err());
        // Exactly up to the limit is allowed.
        assert!(budget.reserve(0.0).is_ok());
        near(budget.estimated(), 1.2);
    }

    #[test]
    fn an_unsettled_reservation_counts_as_spent() {
        let budget = Budget::new(Some(1.0), "USD");
        drop(budget.reserve(0.4).unwrap());
        near(budget.spent(), 0.4);
        near(budget.committed(), 0.4);
    }

    #[test]
    fn without_a_limit_everything_is_reserved_and_counted() {
        let budget = Budget::new(None, "USD");
        for _ in 0..3 {
            budget.reserve(100.0).unwrap().settle(50.0);
        }
        near(budget.spent(), 150.0);
        near(budget.estimated(), 300.0);
    }
}
