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
use super::units::{Unit, plan_batches, units};
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
            plans.push(PassPlan {
                pass: pass.kind,
                backend: member.backend.name().to_owned(),
                segments: units.len(),
                cached: units.len() - keys.len(),
                requests: batches.len(),
                estimated_input: sent,
                source_input: source,
                unit: match member.kind {
                    MemberKind::Chat(_) => "tokens",
                    MemberKind::Translation => "characters",
                },
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
        Some(PassPlan {
            pass: PassKind::Refine,
            backend: member.backend.name().to_owned(),
            segments: units.len(),
            cached: 0,
            requests: batches.len() * usize::from(self.refine),
            estimated_input: sent * rounds,
            source_input: source * rounds,
            unit: "tokens",
            rounds: Some(self.refine),
        })
    }
}
