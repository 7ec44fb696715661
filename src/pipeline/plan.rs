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
use super::spend::{estimated_usage, split};
use super::translate::MEMORY;
use super::translate::Prepared;
use super::translated::SegmentResult;
use super::units::{Unit, plan_batches, units_of};
use crate::cost::{self, Amounts};
use crate::repair::RepairedDocument;

/// What a dry run found for one pass.
#[derive(Debug, Clone, Serialize)]
pub struct PassPlan {
    pub pass: PassKind,
    pub backend: String,
    pub segments: usize,
    /// Paragraphs the cache answers.
    pub cached: usize,
    /// Paragraphs a translation memory answers (`--memory`): not sent, not cached.
    #[serde(skip_serializing_if = "is_zero_count")]
    pub remembered: usize,
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
    /// Tokens sent per paragraph token (`estimated_input / source_input`, chat passes): what
    /// the prompt, framing and context cost on top of the paragraphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_paragraph_token: Option<f64>,
    /// Its paragraphs share requests with an earlier document of its pack, which counts them
    /// (`requests`); `estimated_input` is its share of their tokens.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl PassPlan {
    /// The paragraphs neither the cache nor a memory answers.
    pub fn to_send(&self) -> usize {
        self.segments - self.cached - self.remembered
    }

    /// Add another document's plan of the same pass.
    pub fn add(&mut self, other: &PassPlan) {
        self.segments += other.segments;
        self.cached += other.cached;
        self.remembered += other.remembered;
        self.requests += other.requests;
        self.estimated_input += other.estimated_input;
        self.source_input += other.source_input;
        self.estimated_output += other.estimated_output;
        self.literal_output += other.literal_output;
        self.cost = PlanCost::sum(&self.cost, &other.cost);
        self.literal_cost = PlanCost::sum(&self.literal_cost, &other.literal_cost);
        self.rounds = self.rounds.max(other.rounds);
        self.shared = false;
        self.settle();
    }

    /// Fill in [`PassPlan::per_paragraph_token`] from the counts.
    fn settle(&mut self) {
        self.per_paragraph_token = (self.unit == "tokens" && self.source_input > 0).then(|| {
            (self.estimated_input as f64 / self.source_input as f64 * 100.0).round() / 100.0
        });
    }

    /// A plan with nothing in it yet.
    fn empty(pass: PassKind, backend: &str, unit: &'static str, rounds: Option<u8>) -> Self {
        Self {
            pass,
            backend: backend.to_owned(),
            segments: 0,
            cached: 0,
            remembered: 0,
            requests: 0,
            estimated_input: 0,
            source_input: 0,
            unit,
            estimated_output: 0,
            literal_output: 0,
            cost: None,
            literal_cost: None,
            rounds,
            per_paragraph_token: None,
            shared: false,
        }
    }
}

/// A request of a pack, the segments `batch`: each of the `docs` documents' weight in it, the
/// `size` of its paragraphs there, by which the request's input is shared out.
fn doc_weights(batch: &[Unit<'_>], docs: usize, size: impl Fn(&Unit<'_>) -> u64) -> Vec<u64> {
    let mut weights = vec![0u64; docs];
    for unit in batch {
        weights[unit.doc] += size(unit);
    }
    weights
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_count(n: &usize) -> bool {
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
        self.plan_pack(&[doc]).pop().unwrap_or_default()
    }

    /// [`Engine::plan`] for a pack of documents that share their requests: each document's
    /// own segments, and each request counted once, for the document of its first segment.
    pub fn plan_pack(&self, docs: &[&RepairedDocument]) -> Vec<Vec<PassPlan>> {
        let units = units_of(docs);
        let mut results = vec![SegmentResult::default(); units.len()];
        self.remembered(&units, &mut results);
        let mut plans: Vec<Vec<PassPlan>> = vec![Vec::new(); docs.len()];
        for pass in self.draft.iter().chain([&self.main]) {
            let Prepared { keys, batches } = self.prepare(pass, &units, &mut results);
            let member = self.active(pass).map_or(pass.first(), |(_, m)| m);
            let unit = match member.kind {
                MemberKind::Chat(_) => "tokens",
                MemberKind::Translation => "characters",
            };
            // A paragraph's size in the unit the backend bills.
            let size = |unit: &Unit<'_>| -> u64 {
                let text = &unit.seg.text;
                match member.kind {
                    MemberKind::Chat(_) => u64::from(estimate_tokens(text)),
                    MemberKind::Translation => text.chars().count() as u64,
                }
            };
            let mut per_doc: Vec<PassPlan> = docs
                .iter()
                .map(|_| PassPlan::empty(pass.kind, member.backend.name(), unit, None))
                .collect();
            for (i, unit) in units.iter().enumerate() {
                let plan = &mut per_doc[unit.doc];
                plan.segments += 1;
                if !keys.contains_key(&i) {
                    if results[i].final_backend.as_deref() == Some(MEMORY) {
                        plan.remembered += 1;
                    } else {
                        plan.cached += 1;
                    }
                    continue;
                }
                plan.source_input += size(unit);
            }
            let run = PassRun::new(self, pass, &units, &results);
            for batch in &batches {
                let first = units[batch.start].doc;
                per_doc[first].requests += 1;
                let sent = match &member.kind {
                    MemberKind::Chat(chat) => {
                        u64::from(run.chat_request(chat, batch.clone()).estimated_tokens)
                    }
                    MemberKind::Translation => units[batch.clone()].iter().map(size).sum(),
                };
                let weights = doc_weights(&units[batch.clone()], docs.len(), size);
                for (d, share) in split(sent, &weights).into_iter().enumerate() {
                    per_doc[d].estimated_input += share;
                    per_doc[d].shared |= d != first && weights[d] > 0;
                }
            }
            drop(run);
            for (all, mut plan) in plans.iter_mut().zip(per_doc) {
                plan.shared &= plan.requests == 0;
                let with_literal = member.chat().is_some_and(|c| c.with_literal);
                self.price_plan(&mut plan, member.chat().is_some(), with_literal, 1);
                plan.settle();
                all.push(plan);
            }
            // Pretend the pending drafts arrived (as long as the German), so the main pass is
            // planned as a full send of about the right size.
            for &i in keys.keys() {
                results[i]
                    .draft
                    .get_or_insert_with(|| units[i].seg.text.clone());
            }
        }
        if let Some(refine) = self.plan_refine(&units, &results) {
            for (d, all) in plans.iter_mut().enumerate() {
                all.push(refine[d].clone());
            }
        }
        plans
    }

    /// The refine round if verify flagged every paragraph: each goes back with an earlier
    /// answer about as long as its German, once per round. One plan per document of the pack.
    fn plan_refine(&self, units: &[Unit<'_>], results: &[SegmentResult]) -> Option<Vec<PassPlan>> {
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
        let docs = units.last().map_or(0, |u| u.doc + 1);
        let mut plans: Vec<PassPlan> = (0..docs)
            .map(|_| {
                PassPlan::empty(
                    PassKind::Refine,
                    member.backend.name(),
                    "tokens",
                    Some(self.refine),
                )
            })
            .collect();
        for unit in units {
            plans[unit.doc].segments += 1;
            plans[unit.doc].source_input += u64::from(estimate_tokens(&unit.seg.text)) * rounds;
        }
        for batch in batches {
            let first = units[batch.start].doc;
            plans[first].requests += usize::from(self.refine);
            let sent = u64::from(run.chat_request(chat, batch.clone()).estimated_tokens) * rounds;
            let weights = doc_weights(&units[batch], docs, |unit| {
                u64::from(estimate_tokens(&unit.seg.text))
            });
            for (d, share) in split(sent, &weights).into_iter().enumerate() {
                plans[d].estimated_input += share;
            }
        }
        for plan in &mut plans {
            self.price_plan(plan, true, false, rounds);
            plan.settle();
        }
        Some(plans)
    }

    /// Fill in a plan's estimated output and cost from its counts: each paragraph sent is
    /// written back once (twice with the literal), `rounds` times for the refine round.
    fn price_plan(&self, plan: &mut PassPlan, chat: bool, with_literal: bool, rounds: u64) {
        let sent = plan.to_send() as u64;
        if chat {
            plan.estimated_output =
                cost::estimate_output(plan.source_input, sent * rounds, with_literal);
            plan.literal_output = if with_literal {
                cost::literal_output(plan.source_input)
            } else {
                0
            };
        }
        let backend = plan.backend.clone();
        plan.cost = self.plan_cost(&backend, chat, plan.estimated_input, plan.estimated_output);
        plan.literal_cost = (plan.literal_output > 0)
            .then(|| self.plan_cost(&backend, chat, 0, plan.literal_output))
            .flatten();
    }

    fn plan_cost(&self, backend: &str, chat: bool, input: u64, output: u64) -> Option<PlanCost> {
        let price = self.price(backend)?;
        let usage = estimated_usage(chat, input, output);
        Some(PlanCost {
            currency: price.currency.clone(),
            synchronous: cost::cost(&usage, price, false),
            batch: cost::cost(&usage, price, true),
        })
    }
}
