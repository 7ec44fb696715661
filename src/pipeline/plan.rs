//! `--dry-run`: what a run would send, without sending. Each pass is prepared exactly as the
//! run prepares it (cache lookups, batches for the backend that would serve it), and the chat
//! requests are built as they would go out, so the estimate counts the prompt, the JSON
//! framing, the context and the glossary. The refine round is planned as a possibility: which
//! paragraphs verify flags is known only after the run, so its plan counts what it would send
//! if every paragraph went back in every round.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::engine::{Engine, MemberKind, PassKind};
use super::mask::MaskStyle;
use super::protocol::{Revision, estimate_tokens};
use super::send::PassRun;
use super::translate::Prepared;
use super::translated::SegmentResult;
use super::units::{Unit, plan_batches, units};
use crate::backend::Usage;
use crate::cost::{self, Amounts};
use crate::repair::RepairedDocument;

/// What a dry run found for one pass.
#[derive(Debug, Clone, Serialize)]
pub struct PassPlan {
    pub pass: PassKind,
    pub backend: String,
    pub segments: usize,
    pub cached: usize,
    pub requests: usize,
    /// What the requests would carry: prompts, framing, context and the paragraphs.
    pub estimated_input: u64,
    /// The paragraphs alone.
    pub source_input: u64,
    pub unit: &'static str,
    /// Output tokens the replies are estimated to write (chat backends), the literal included.
    pub estimated_output: u64,
    /// The part of `estimated_output` that is the literal beside each restoration, when the
    /// restore model writes one.
    #[serde(skip_serializing_if = "is_zero")]
    pub literal_output: u64,
    /// What the requests would cost at the backend's price; absent when it has none.
    pub cost: Option<PlanCost>,
    /// The literal's part of `cost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub literal_cost: Option<PlanCost>,
    /// The refine round: the rounds at most. Its counts are upper bounds, not a plan: only the
    /// paragraphs verify flags go back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u8>,
}

impl PassPlan {
    /// Add another document's plan of the same pass.
    pub fn add(&mut self, other: &PassPlan) {
        self.segments += other.segments;
        self.cached += other.cached;
        self.requests += other.requests;
        self.estimated_input += other.estimated_input;
        self.source_input += other.source_input;
        self.estimated_output += other.estimated_output;
        self.literal_output += other.literal_output;
        self.cost = PlanCost::sum(&self.cost, &other.cost);
        self.literal_cost = PlanCost::sum(&self.literal_cost, &other.literal_cost);
        self.rounds = self.rounds.max(other.rounds);
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An estimated cost, sent synchronously and through the provider's batch API (the same
/// where the provider has none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanCost {
    pub currency: String,
    #[serde(serialize_with = "cost::rounded_amount")]
    pub synchronous: f64,
    #[serde(serialize_with = "cost::rounded_amount")]
    pub batch: f64,
}

impl PlanCost {
    /// Both known and in one currency, else unknown.
    fn sum(a: &Option<PlanCost>, b: &Option<PlanCost>) -> Option<PlanCost> {
        match (a, b) {
            (Some(a), Some(b)) if a.currency == b.currency => Some(PlanCost {
                currency: a.currency.clone(),
                synchronous: a.synchronous + b.synchronous,
                batch: a.batch + b.batch,
            }),
            _ => None,
        }
    }
}

/// The estimated cost of a whole dry run, summed over its passes' plans.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Estimate {
    /// When the built-in prices were list prices.
    pub prices_as_of: &'static str,
    /// Draft, literal and restore: the run if verify flags nothing.
    pub synchronous: Amounts,
    /// The same through the providers' batch APIs (`--batch-api`): half price where sold.
    pub batch: Amounts,
    /// Per pass (`draft`, `literal`, `restore` or `polish-de`, `refine`); refine at most: if
    /// every paragraph went back in every round.
    pub passes: BTreeMap<String, PassEstimate>,
    /// Backends with no price: their share is not in the sums.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PassEstimate {
    pub synchronous: Amounts,
    pub batch: Amounts,
}

impl Estimate {
    pub fn of(plans: &[PassPlan]) -> Self {
        let mut estimate = Self {
            prices_as_of: cost::PRICES_AS_OF,
            ..Self::default()
        };
        for plan in plans {
            let Some(cost) = &plan.cost else {
                if !estimate.unpriced.contains(&plan.backend) {
                    estimate.unpriced.push(plan.backend.clone());
                }
                continue;
            };
            let literal = plan.literal_cost.as_ref();
            let (sync, batch) = (
                cost.synchronous - literal.map_or(0.0, |l| l.synchronous),
                cost.batch - literal.map_or(0.0, |l| l.batch),
            );
            let mut add = |pass: &str, sync: f64, batch: f64| {
                let entry = estimate.passes.entry(pass.to_owned()).or_default();
                entry.synchronous.add(sync, &cost.currency);
                entry.batch.add(batch, &cost.currency);
            };
            add(plan.pass.name(), sync, batch);
            if let Some(literal) = literal {
                add(super::spend::LITERAL, literal.synchronous, literal.batch);
            }
            if plan.rounds.is_none() {
                estimate.synchronous.add(cost.synchronous, &cost.currency);
                estimate.batch.add(cost.batch, &cost.currency);
            }
        }
        estimate
    }
}

impl Engine {
    /// Per pass: the segments found in the cache, the requests and the estimated input
    /// (tokens, or characters for translation services). A main pass behind an uncached draft
    /// cannot know its cache hits and counts them as sends.
    pub fn plan(&self, doc: &RepairedDocument) -> Vec<PassPlan> {
        let units = units(doc);
        let mut results = vec![SegmentResult::default(); units.len()];
        let mut plans = Vec::new();
        for pass in self.draft.iter().chain([&self.main]) {
            let Prepared { keys, batches } = self.prepare(pass, &units, &mut results);
            let member = self.active(pass).map_or(pass.first(), |(_, m)| m);
            let source: u64 = keys
                .keys()
                .map(|&i| {
                    let text = &units[i].seg.text;
                    match member.kind {
                        MemberKind::Chat(_) => u64::from(estimate_tokens(text)),
                        MemberKind::Translation => text.chars().count() as u64,
                    }
                })
                .sum();
            let sent: u64 = match &member.kind {
                MemberKind::Chat(chat) => {
                    let run = PassRun::new(self, pass, &units, &results);
                    batches
                        .iter()
                        .map(|b| u64::from(run.chat_request(chat, b.clone()).estimated_tokens))
                        .sum()
                }
                MemberKind::Translation => source,
            };
            let (output, literal) = match &member.kind {
                MemberKind::Chat(chat) => {
                    let items = keys.len() as u64;
                    let output = cost::estimate_output(source, items, chat.with_literal);
                    let literal = if chat.with_literal {
                        cost::literal_output(source)
                    } else {
                        0
                    };
                    (output, literal)
                }
                MemberKind::Translation => (0, 0),
            };
            let name = member.backend.name();
            let chat = member.chat().is_some();
            plans.push(PassPlan {
                pass: pass.kind,
                backend: name.to_owned(),
                segments: units.len(),
                cached: units.len() - keys.len(),
                requests: batches.len(),
                estimated_input: sent,
                source_input: source,
                unit: match member.kind {
                    MemberKind::Chat(_) => "tokens",
                    MemberKind::Translation => "characters",
                },
                estimated_output: output,
                literal_output: literal,
                cost: self.plan_cost(name, chat, sent, output),
                literal_cost: (literal > 0)
                    .then(|| self.plan_cost(name, chat, 0, literal))
                    .flatten(),
                rounds: None,
            });
            // Pretend the pending drafts arrived (as long as the German), so the main pass is
            // planned as a full send of about the right size.
            for &i in keys.keys() {
                results[i]
                    .draft
                    .get_or_insert_with(|| units[i].seg.text.clone());
            }
        }
        plans.extend(self.plan_refine(&units, &results));
        plans
    }

    /// The refine round if verify flagged every paragraph: each goes back with an earlier
    /// answer about as long as its German, once per round.
    fn plan_refine(&self, units: &[Unit<'_>], results: &[SegmentResult]) -> Option<PassPlan> {
        if !self.refines() {
            return None;
        }
        let revisions: HashMap<usize, Revision> = units
            .iter()
            .enumerate()
            .map(|(i, unit)| {
                let previous = unit.masked.text(MaskStyle::Brackets);
                (
                    i,
                    Revision {
                        previous,
                        problems: Vec::new(),
                    },
                )
            })
            .collect();
        let run = PassRun::refining(self, &self.main, units, results, &revisions);
        let (_, member) = run.serving()?;
        let chat = member.chat()?;
        let all: Vec<usize> = (0..units.len()).collect();
        let batches = plan_batches(member, units, &all);
        let rounds = u64::from(self.refine);
        let sent: u64 = batches
            .iter()
            .map(|b| u64::from(run.chat_request(chat, b.clone()).estimated_tokens))
            .sum();
        let source: u64 = units
            .iter()
            .map(|u| u64::from(estimate_tokens(&u.seg.text)))
            .sum();
        let output = cost::estimate_output(source, units.len() as u64, false) * rounds;
        let name = member.backend.name();
        Some(PassPlan {
            pass: PassKind::Refine,
            backend: name.to_owned(),
            segments: units.len(),
            cached: 0,
            requests: batches.len() * usize::from(self.refine),
            estimated_input: sent * rounds,
            source_input: source * rounds,
            unit: "tokens",
            estimated_output: output,
            literal_output: 0,
            cost: self.plan_cost(name, true, sent * rounds, output),
            literal_cost: None,
            rounds: Some(self.refine),
        })
    }

    /// What `input` (tokens, or characters for a translation service) and `output` tokens
    /// cost on `backend`, synchronously and in a batch job.
    fn plan_cost(&self, backend: &str, chat: bool, input: u64, output: u64) -> Option<PlanCost> {
        let price = self.price(backend)?;
        let usage = if chat {
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
        };
        Some(PlanCost {
            currency: price.currency.clone(),
            synchronous: cost::cost(&usage, price, false),
            batch: cost::cost(&usage, price, true),
        })
    }
}
