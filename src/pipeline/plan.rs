//! `--dry-run`: what a run would send, without sending. Each pass is prepared exactly as the
//! run prepares it (cache lookups, batches for the backend that would serve it), and the chat
//! requests are built as they would go out, so the estimate counts the prompt, the JSON
//! framing, the context and the glossary.

use serde::Serialize;

use super::engine::{Engine, MemberKind, PassKind};
use super::protocol::estimate_tokens;
use super::send::PassRun;
use super::translate::Prepared;
use super::translated::SegmentResult;
use super::units::units;
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
}

impl PassPlan {
    /// Add another document's plan of the same pass.
    pub fn add(&mut self, other: &PassPlan) {
        self.segments += other.segments;
        self.cached += other.cached;
        self.requests += other.requests;
        self.estimated_input += other.estimated_input;
        self.source_input += other.source_input;
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
            });
            // Pretend the pending drafts arrived (as long as the German), so the main pass is
            // planned as a full send of about the right size.
            for &i in keys.keys() {
                results[i]
                    .draft
                    .get_or_insert_with(|| units[i].seg.text.clone());
            }
        }
        plans
    }
}
