//! `--dry-run`: what a run would send, without sending. Each pass is prepared exactly as the
//! run prepares it (cache lookups, batches for the backend that would serve it), and the chat
//! requests are built as they would go out, so the estimate counts the prompt, the JSON
//! framing, the context and the glossary. The refine round is planned as a possibility: which
//! paragraphs verify flags is known only after the run, so its plan counts what it would send
//! if every paragraph went back in every round.

use std::collections::HashMap;

use serde::Serialize;

use super::engine::{Engine, MemberKind, PassKind};
use super::mask::MaskStyle;
use super::protocol::{Revision, estimate_tokens};
use super::send::PassRun;
use super::translate::Prepared;
use super::translated::SegmentResult;
use super::units::{Unit, plan_batches, units_of};
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
        self.rounds = self.rounds.max(other.rounds);
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
        let doc_of = |i: usize| units.get(i).map_or(0, |u| u.doc);
        let mut results = vec![SegmentResult::default(); units.len()];
        let mut plans: Vec<Vec<PassPlan>> = vec![Vec::new(); docs.len()];
        for pass in self.draft.iter().chain([&self.main]) {
            let Prepared { keys, batches } = self.prepare(pass, &units, &mut results);
            let member = self.active(pass).map_or(pass.first(), |(_, m)| m);
            let mut per_doc: Vec<PassPlan> = docs
                .iter()
                .map(|_| PassPlan {
                    pass: pass.kind,
                    backend: member.backend.name().to_owned(),
                    segments: 0,
                    cached: 0,
                    requests: 0,
                    estimated_input: 0,
                    source_input: 0,
                    unit: match member.kind {
                        MemberKind::Chat(_) => "tokens",
                        MemberKind::Translation => "characters",
                    },
                    rounds: None,
                })
                .collect();
            for (i, unit) in units.iter().enumerate() {
                let plan = &mut per_doc[unit.doc];
                plan.segments += 1;
                if !keys.contains_key(&i) {
                    plan.cached += 1;
                    continue;
                }
                let text = &unit.seg.text;
                plan.source_input += match member.kind {
                    MemberKind::Chat(_) => u64::from(estimate_tokens(text)),
                    MemberKind::Translation => text.chars().count() as u64,
                };
            }
            let run = PassRun::new(self, pass, &units, &results);
            for batch in &batches {
                let plan = &mut per_doc[doc_of(batch.start)];
                plan.requests += 1;
                plan.estimated_input += match &member.kind {
                    MemberKind::Chat(chat) => {
                        u64::from(run.chat_request(chat, batch.clone()).estimated_tokens)
                    }
                    MemberKind::Translation => batch
                        .clone()
                        .map(|i| units[i].seg.text.chars().count() as u64)
                        .sum(),
                };
            }
            drop(run);
            for (all, plan) in plans.iter_mut().zip(per_doc) {
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
            .map(|_| PassPlan {
                pass: PassKind::Refine,
                backend: member.backend.name().to_owned(),
                segments: 0,
                cached: 0,
                requests: 0,
                estimated_input: 0,
                source_input: 0,
                unit: "tokens",
                rounds: Some(self.refine),
            })
            .collect();
        for unit in units {
            plans[unit.doc].segments += 1;
            plans[unit.doc].source_input += u64::from(estimate_tokens(&unit.seg.text)) * rounds;
        }
        for batch in batches {
            let plan = &mut plans[units[batch.start].doc];
            plan.requests += usize::from(self.refine);
            plan.estimated_input +=
                u64::from(run.chat_request(chat, batch.clone()).estimated_tokens) * rounds;
        }
        Some(plans)
    }
}
