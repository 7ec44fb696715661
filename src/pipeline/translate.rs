//! The API passes over one document. Segments found in the cache are not sent; the others go
//! in batches of consecutive segments, all batches at once (each backend's limits decide how
//! many are in flight). A language-model batch whose reply fails validation is split in half
//! and retried, down to single segments; a segment that still fails is reported with the
//! reason, never copied through.

use std::collections::HashMap;
use std::ops::Range;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::json;

use super::batch::{self, BatchLimits};
use super::engine::{Engine, Member, Pass};
use super::mask::{MaskStyle, Masked, mask, unmask};
use super::protocol::{self, Expect, GlossaryTerm, Item, Request, estimate_tokens};
use crate::backend::{BackendError, ChatRequest, ErrorKind, Stop, TranslateRequest};
use crate::cache::{CacheKey, Entry, KeyParts};
use crate::config::Lang;
use crate::repair::{RepairedDocument, RepairedSegment};
use crate::segment::content_hash;
use crate::verify::{self, Finding};

/// Characters of neighbouring text sent along as read-only context.
const CONTEXT_CHARS: usize = 600;
/// DeepL: at most 50 texts and 128 KiB per request; stay clear of the byte limit.
const TRANSLATE_LIMITS: BatchLimits = BatchLimits {
    max_tokens: u32::MAX,
    max_items: 50,
    max_bytes: 100 * 1024,
};
const MAX_CHAT_ITEMS: usize = 40;

/// One segment's way through the passes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SegmentResult {
    pub id: String,
    pub hash: String,
    /// The German as read.
    pub source: String,
    /// After the offline repairs: what was sent.
    pub repaired: String,
    /// The literal English: the draft pass, or `literal` from the restore reply.
    pub draft: Option<String>,
    /// The restored English (or corrected German with `--to de`).
    pub final_text: Option<String>,
    pub notes: Vec<String>,
    pub draft_cached: bool,
    pub final_cached: bool,
    /// Which backend produced the draft and the final text (fallbacks may differ).
    pub draft_backend: Option<String>,
    pub final_backend: Option<String>,
    pub error: Option<String>,
    /// What verify found in the result.
    pub findings: Vec<Finding>,
}

/// A document after the API passes.
#[derive(Debug, Clone, Serialize)]
pub struct Translated {
    pub segments: Vec<SegmentResult>,
}

impl Translated {
    pub fn failed(&self) -> impl Iterator<Item = &SegmentResult> {
        self.segments.iter().filter(|s| s.final_text.is_none())
    }

    /// The finished document, or `None` while any segment failed.
    pub fn document(&self, doc: &RepairedDocument, source: &str) -> Option<String> {
        if self.failed().next().is_some() {
            return None;
        }
        Some(doc.segmented.join_with(source, |seg| {
            self.segments[seg.index]
                .final_text
                .clone()
                .unwrap_or_default()
                .into()
        }))
    }
}

/// What one segment looks like to the passes.
struct Unit<'a> {
    seg: &'a RepairedSegment,
    id: String,
    /// Neighbouring repaired text, part of the cache key.
    context: String,
}

impl Engine {
    /// Run the passes over `doc` (already repaired offline) whose text is `source`.
    pub async fn translate(&self, doc: &RepairedDocument, source: &str) -> Translated {
        let texts: Vec<&str> = doc.segments.iter().map(|s| s.text.as_str()).collect();
        let units = units(doc);
        let mut results: Vec<SegmentResult> = doc
            .segmented
            .segments()
            .map(|seg| SegmentResult {
                id: format!("s{}", seg.index),
                hash: content_hash(seg.text(source)),
                source: seg.text(source).to_owned(),
                repaired: doc.segments[seg.index].text.clone(),
                ..SegmentResult::default()
            })
            .collect();

        if let Some(draft) = &self.draft {
            self.run_pass(draft, &units, &texts, &mut results).await;
        }
        self.run_pass(&self.main, &units, &texts, &mut results)
            .await;
        self.verify(&units, &mut results);
        Translated { segments: results }
    }

    /// Check every finished paragraph against its German, offline.
    fn verify(&self, units: &[Unit<'_>], results: &mut [SegmentResult]) {
        let target = self
            .main
            .first()
            .chat
            .as_ref()
            .map_or(Lang::En, |c| c.target);
        for (unit, result) in units.iter().zip(results.iter_mut()) {
            let Some(output) = &result.final_text else {
                continue;
            };
            result.findings = verify::verify(
                &verify::Pair {
                    id: &unit.id,
                    source: &unit.seg.text,
                    draft: result.draft.as_deref(),
                    output,
                    target,
                },
                &verify::Options {
                    glossary: Some(&self.glossary),
                    protected: &unit.seg.protected,
                },
            );
        }
    }

    async fn run_pass(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        texts: &[&str],
        results: &mut [SegmentResult],
    ) {
        let is_draft = pass.name == "draft";
        let pending = self.pending(pass, units, results);
        let indices: Vec<usize> = pending.iter().map(|(i, _)| *i).collect();
        let batches = match self.active(pass) {
            Some((_, member)) => plan_batches(member, texts, &indices),
            None => consecutive_runs(&indices),
        };
        let drafts: Vec<Option<&str>> = results.iter().map(|r| r.draft.as_deref()).collect();
        let keys: HashMap<usize, Vec<CacheKey>> = pending.into_iter().collect();
        let done = join_all(
            batches
                .into_iter()
                .map(|range| self.run_batch(pass, units, texts, &drafts, &keys, range)),
        )
        .await;
        for (i, outcome) in done.into_iter().flatten() {
            match outcome {
                Ok(entry) => store(&mut results[i], is_draft, entry, false),
                Err(message) => results[i].error = Some(message),
            }
        }
    }

    /// Fill `results` from the cache — a result from any of the pass's backends counts — and
    /// return the segments still to send, with their key for each backend.
    fn pending(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        results: &mut [SegmentResult],
    ) -> Vec<(usize, Vec<CacheKey>)> {
        let is_draft = pass.name == "draft";
        let mut pending = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            if results[i].error.is_some() {
                continue; // the draft failed; the restore would need it
            }
            // What this pass reads: the repaired German, plus the draft for the main pass.
            let source = match (&results[i].draft, is_draft, self.draft.is_some()) {
                (Some(draft), false, true) => format!("{}\u{1f}{draft}", unit.seg.text),
                _ => unit.seg.text.clone(),
            };
            let keys: Vec<CacheKey> = pass
                .members
                .iter()
                .map(|member| self.key(pass, member, unit, &source))
                .collect();
            match keys.iter().find_map(|key| self.cached(key)) {
                Some(entry) => store(&mut results[i], is_draft, entry, true),
                None => pending.push((i, keys)),
            }
        }
        pending
    }

    /// What a run would send, without sending: per pass, the segments found in the cache, the
    /// requests and the estimated input (tokens, or characters for translation services).
    /// A main pass behind an uncached draft cannot know its cache hits and counts them as sends.
    pub fn plan(&self, doc: &RepairedDocument) -> Vec<PassPlan> {
        let units = units(doc);
        let texts: Vec<&str> = doc.segments.iter().map(|s| s.text.as_str()).collect();
        let mut results = vec![SegmentResult::default(); units.len()];
        let mut plans = Vec::new();
        for pass in self.draft.iter().chain([&self.main]) {
            let pending = self.pending(pass, &units, &mut results);
            let member = self.active(pass).map_or(pass.first(), |(_, m)| m);
            let indices: Vec<usize> = pending.iter().map(|(i, _)| *i).collect();
            let batches = plan_batches(member, &texts, &indices);
            let source: u64 = pending
                .iter()
                .map(|(i, _)| (*i, &member.chat))
                .map(|(i, chat)| match chat {
                    Some(_) => u64::from(estimate_tokens(texts[i])),
                    None => texts[i].chars().count() as u64,
                })
                .sum();
            // The requests as they would be sent: prompt, JSON framing, context, glossary.
            let drafts: Vec<Option<&str>> = results.iter().map(|r| r.draft.as_deref()).collect();
            let sent: u64 = match member.chat {
                Some(_) => batches
                    .iter()
                    .map(|b| {
                        let (request, _) =
                            self.chat_request(pass, member, &units, &texts, &drafts, b.clone());
                        u64::from(request.estimated_tokens)
                    })
                    .sum(),
                None => source,
            };
            plans.push(PassPlan {
                pass: pass.name,
                backend: member.backend.name().to_owned(),
                segments: units.len(),
                cached: units.len() - pending.len(),
                requests: batches.len(),
                estimated_input: sent,
                source_input: source,
                unit: if member.chat.is_some() {
                    "tokens"
                } else {
                    "characters"
                },
            });
            // Pretend the pending drafts arrived (as long as the German), so the main pass is
            // planned as a full send of about the right size.
            for (i, _) in &pending {
                results[*i]
                    .draft
                    .get_or_insert_with(|| texts[*i].to_owned());
            }
        }
        plans
    }

    /// One batch, split on invalid replies; the result for each index in `range`. A backend
    /// that stops (quota, auth, or failing past its retries) hands the batch to the next one
    /// in the pass. Each finished batch goes into the cache at once, so an interruption loses
    /// nothing that was paid for.
    async fn run_batch(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        texts: &[&str],
        drafts: &[Option<&str>],
        keys: &HashMap<usize, Vec<CacheKey>>,
        range: Range<usize>,
    ) -> Vec<(usize, Result<Entry, String>)> {
        let mut out = Vec::new();
        let mut queue = vec![range];
        // A single paragraph whose reply failed validation gets one more try: models slip.
        let mut second_tries: Vec<usize> = Vec::new();
        while let Some(range) = queue.pop() {
            if self.is_cancelled() {
                out.extend(range.map(|i| (i, Err("not sent: cancelled (Ctrl-C)".to_owned()))));
                continue;
            }
            let Some((m, member)) = self.active(pass) else {
                let why = match self.stopped().last() {
                    Some(e) => format!("not sent: {e}"),
                    None => "not sent: no backend left".to_owned(),
                };
                out.extend(range.map(|i| (i, Err(why.clone()))));
                continue;
            };
            // A fallback with other limits gets the range in batches of its own size.
            let fitted = plan_batches(member, texts, &range.clone().collect::<Vec<_>>());
            if fitted.len() > 1 {
                queue.extend(fitted.into_iter().rev());
                continue;
            }
            let attempt = match &member.chat {
                Some(_) => {
                    self.chat_batch(pass, member, units, texts, drafts, range.clone())
                        .await
                }
                None => {
                    self.translate_batch(member, units, texts, range.clone())
                        .await
                }
            };
            match attempt {
                Ok(entries) => {
                    let finished: Vec<(CacheKey, Entry)> = entries
                        .iter()
                        .filter_map(|(i, entry)| {
                            Some((*keys.get(i)?.get(m)?, entry.as_ref().ok()?.clone()))
                        })
                        .collect();
                    self.remember(&finished);
                    out.extend(entries);
                }
                Err(Failed::Backend(e)) => {
                    let gives_up = e.is_fatal_for_backend()
                        || matches!(e.kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
                    let fallback = pass
                        .members
                        .iter()
                        .skip(m + 1)
                        .any(|other| !self.is_stopped(other.backend.name()));
                    if e.is_fatal_for_backend() || (gives_up && fallback) {
                        self.stop(&e);
                    }
                    if gives_up && fallback {
                        queue.push(range);
                    } else if e.kind == ErrorKind::Rejected && range.len() > 1 {
                        // A refused request may be too large; smaller ones may pass.
                        split(&mut queue, range);
                    } else {
                        out.extend(range.map(|i| (i, Err(e.to_string()))));
                    }
                }
                Err(Failed::Invalid(_)) if range.len() > 1 => split(&mut queue, range),
                Err(Failed::Invalid(_)) if !second_tries.contains(&range.start) => {
                    second_tries.push(range.start);
                    queue.push(range);
                }
                Err(Failed::Invalid(why)) => {
                    let name = member.backend.name();
                    out.extend(range.map(|i| (i, Err(format!("{name}: {why}")))));
                }
            }
        }
        out
    }

    /// A place among the run's `--jobs` requests in flight (none without `--jobs`).
    async fn job(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.jobs {
            Some(jobs) => jobs.acquire().await.ok(),
            None => None,
        }
    }

    /// The backend that serves `pass` now: the first one that has not stopped.
    fn active<'p>(&self, pass: &'p Pass) -> Option<(usize, &'p Member)> {
        pass.members
            .iter()
            .enumerate()
            .find(|(_, member)| !self.is_stopped(member.backend.name()))
    }

    /// The request for one chat batch, and the masked German it carries.
    fn chat_request(
        &self,
        pass: &Pass,
        member: &Member,
        units: &[Unit<'_>],
        texts: &[&str],
        drafts: &[Option<&str>],
        range: Range<usize>,
    ) -> (ChatRequest, Vec<Masked>) {
        let chat = member
            .chat
            .as_ref()
            .expect("chat backends have a chat setup");
        let masked: Vec<Masked> = range
            .clone()
            .map(|i| mask(texts[i], &units[i].seg.protected, MaskStyle::Brackets))
            .collect();
        let masked_drafts: Vec<Option<Masked>> = range
            .clone()
            .map(|i| {
                let protected = &units[i].seg.protected;
                // The draft carries the spans verbatim; mask them the same way when found.
                drafts[i].filter(|_| pass.name != "draft").map(|d| {
                    let spans = spans_in(d, texts[i], protected);
                    mask(d, &spans, MaskStyle::Brackets)
                })
            })
            .collect();
        let items: Vec<Item> = range
            .clone()
            .zip(&masked)
            .zip(&masked_drafts)
            .map(|((i, m), d)| Item {
                id: &units[i].id,
                de: &m.text,
                draft: d.as_ref().map(|d| d.text.as_str()),
            })
            .collect();
        let joined: String = range
            .clone()
            .map(|i| texts[i])
            .collect::<Vec<_>>()
            .join("\n");
        let terms = self.glossary.hits(&joined);
        let glossary: Vec<GlossaryTerm> = terms
            .iter()
            .map(|t| GlossaryTerm {
                de: &t.de,
                en: &t.en,
            })
            .collect();
        let (before, after) = batch::context(texts, range.clone(), CONTEXT_CHARS);
        let user = protocol::user_message(&Request {
            items: &items,
            context_before: &before,
            context_after: &after,
            glossary: &glossary,
        });
        let request = ChatRequest {
            estimated_tokens: estimate_tokens(&chat.system) + estimate_tokens(&user),
            system: chat.system.clone(),
            user,
            schema: Some(protocol::reply_schema(chat.target, chat.with_literal)),
        };
        (request, masked)
    }

    async fn chat_batch(
        &self,
        pass: &Pass,
        member: &Member,
        units: &[Unit<'_>],
        texts: &[&str],
        drafts: &[Option<&str>],
        range: Range<usize>,
    ) -> Result<Vec<(usize, Result<Entry, String>)>, Failed> {
        let chat = member
            .chat
            .as_ref()
            .expect("chat backends have a chat setup");
        let (request, masked) =
            self.chat_request(pass, member, units, texts, drafts, range.clone());
        let ids: Vec<&str> = range.clone().map(|i| units[i].id.as_str()).collect();
        let _job = self.job().await;
        let reply = member
            .backend
            .chat(&request)
            .await
            .map_err(Failed::Backend)?;
        self.add_usage(member.backend.name(), reply.usage);
        match &reply.stop {
            Stop::Complete => {}
            Stop::Truncated => {
                return Err(Failed::Invalid(
                    "the reply was cut off (output limit)".into(),
                ));
            }
            Stop::Refused(why) => return Err(Failed::Invalid(format!("the model refused: {why}"))),
            Stop::Other(why) => return Err(Failed::Invalid(format!("the model stopped: {why}"))),
        }
        let sources: Vec<&str> = masked.iter().map(|m| m.text.as_str()).collect();
        let segments = protocol::parse_reply(
            &reply.text,
            &Expect {
                target: chat.target,
                ids: &ids,
                sources: &sources,
                with_literal: chat.with_literal,
            },
        )
        .map_err(|problems| {
            let described: Vec<String> = problems.iter().map(|p| p.describe()).collect();
            Failed::Invalid(described.join("; "))
        })?;
        let mut out = Vec::with_capacity(segments.len());
        for ((i, reply), masked) in range.clone().zip(segments).zip(&masked) {
            let text = unmask(&reply.text, masked).map_err(Failed::Invalid)?;
            let literal = reply
                .literal
                .map(|l| unmask(&l, masked))
                .transpose()
                .map_err(Failed::Invalid)?;
            out.push((
                i,
                Ok(self.entry(pass.name, member, &units[i], text, literal, reply.notes)),
            ));
        }
        Ok(out)
    }

    async fn translate_batch(
        &self,
        member: &Member,
        units: &[Unit<'_>],
        texts: &[&str],
        range: Range<usize>,
    ) -> Result<Vec<(usize, Result<Entry, String>)>, Failed> {
        let xml = range.clone().any(|i| !units[i].seg.protected.is_empty());
        let style = if xml {
            MaskStyle::Xml
        } else {
            MaskStyle::Brackets
        };
        let masked: Vec<Masked> = range
            .clone()
            .map(|i| mask(texts[i], &units[i].seg.protected, style))
            .collect();
        let (before, after) = batch::context(texts, range.clone(), CONTEXT_CHARS);
        let context = format!("{before}\n\n{after}").trim().to_owned();
        let request = TranslateRequest {
            texts: masked.iter().map(|m| m.text.clone()).collect(),
            context: (!context.is_empty()).then_some(context),
            xml,
        };
        let _job = self.job().await;
        let reply = member
            .backend
            .translate(&request)
            .await
            .map_err(Failed::Backend)?;
        self.add_usage(member.backend.name(), reply.usage);
        Ok(range
            .zip(reply.texts)
            .zip(&masked)
            .map(|((i, text), masked)| {
                let outcome = unmask(&text, masked)
                    .map(|text| self.entry("draft", member, &units[i], text, None, Vec::new()))
                    .map_err(|why| format!("{}: {why}", member.backend.name()));
                (i, outcome)
            })
            .collect())
    }

    fn entry(
        &self,
        pass: &str,
        member: &Member,
        unit: &Unit<'_>,
        text: String,
        literal: Option<String>,
        notes: Vec<String>,
    ) -> Entry {
        Entry {
            text,
            literal,
            notes,
            pass: pass.to_owned(),
            backend: member.backend.name().to_owned(),
            model: member.backend.model().to_owned(),
            source: unit.seg.text.clone(),
        }
    }

    fn key(&self, pass: &Pass, member: &Member, unit: &Unit<'_>, source: &str) -> CacheKey {
        let hits = self.glossary.hits(&unit.seg.text);
        let mut params = member.params.clone();
        if !hits.is_empty() {
            params["glossary"] = json!(hits);
        }
        let kind = member.backend.kind().to_string();
        CacheKey::new(&KeyParts {
            pass: pass.name,
            backend: member.backend.name(),
            kind: &kind,
            model: member.backend.model(),
            prompt_hash: member.chat.as_ref().map_or("", |c| c.prompt_hash.as_str()),
            params: &params,
            context: &unit.context,
            source,
        })
    }

    fn cached(&self, key: &CacheKey) -> Option<Entry> {
        let cache = self.cache.as_ref()?.lock().ok()?;
        match cache.get(key) {
            Ok(entry) => entry,
            Err(e) => {
                self.warn(format!("cache: {e}; going on without it"));
                None
            }
        }
    }

    fn remember(&self, entries: &[(CacheKey, Entry)]) {
        let Some(cache) = &self.cache else { return };
        let Ok(cache) = cache.lock() else { return };
        if let Err(e) = cache.put_many(entries) {
            self.warn(format!("cache: {e}; results of this run are not cached"));
        }
    }
}

/// What a dry run found for one pass.
#[derive(Debug, Clone, Serialize)]
pub struct PassPlan {
    pub pass: &'static str,
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

fn units(doc: &RepairedDocument) -> Vec<Unit<'_>> {
    let texts: Vec<&str> = doc.segments.iter().map(|s| s.text.as_str()).collect();
    doc.segments
        .iter()
        .map(|seg| {
            let i = seg.index;
            let before = i.checked_sub(1).map_or("", |p| texts[p]);
            let after = texts.get(i + 1).copied().unwrap_or_default();
            Unit {
                seg,
                id: format!("s{i}"),
                context: format!("{before}\n\n{after}"),
            }
        })
        .collect()
}

/// Batches of consecutive pending segments, sized for the backend that will get them.
fn plan_batches(member: &Member, texts: &[&str], indices: &[usize]) -> Vec<Range<usize>> {
    let limits = match &member.chat {
        Some(chat) => BatchLimits {
            max_tokens: chat.max_batch_tokens,
            max_items: MAX_CHAT_ITEMS,
            max_bytes: usize::MAX,
        },
        None => TRANSLATE_LIMITS,
    };
    consecutive_runs(indices)
        .into_iter()
        .flat_map(|run| {
            let sizes: Vec<(u32, usize)> = run
                .clone()
                .map(|i| (estimate_tokens(texts[i]), texts[i].len()))
                .collect();
            batch::plan(&sizes, &limits)
                .into_iter()
                .map(move |b| run.start + b.start..run.start + b.end)
        })
        .collect()
}

enum Failed {
    Backend(BackendError),
    /// The reply did not pass validation.
    Invalid(String),
}

fn store(result: &mut SegmentResult, is_draft: bool, entry: Entry, cached: bool) {
    if is_draft {
        result.draft = Some(entry.text);
        result.draft_cached = cached;
        result.draft_backend = Some(entry.backend);
    } else {
        result.final_text = Some(entry.text);
        if result.draft.is_none() {
            result.draft_backend = entry.literal.is_some().then(|| entry.backend.clone());
            result.draft = entry.literal;
        }
        result.notes = entry.notes;
        result.final_cached = cached;
        result.final_backend = Some(entry.backend);
    }
}

/// Second half first on the stack, so the first half is tried first.
fn split(queue: &mut Vec<Range<usize>>, range: Range<usize>) {
    if let Some((first, second)) = batch::halves(range) {
        queue.push(second);
        queue.push(first);
    }
}

/// `[1, 2, 3, 7, 8]` → `[1..4, 7..9]`.
fn consecutive_runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// The protected spans of `source` as they occur in `draft` (a translation service keeps them
/// verbatim); spans it cannot find are simply not masked.
fn spans_in(draft: &str, source: &str, protected: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    for range in protected {
        let Some(span) = source.get(range.clone()) else {
            continue;
        };
        if let Some(at) = draft.get(from..).and_then(|rest| rest.find(span)) {
            spans.push(from + at..from + at + span.len());
            from += at + span.len();
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_consecutive_indices() {
        assert_eq!(
            consecutive_runs(&[1, 2, 3, 7, 8, 10]),
            vec![1..4, 7..9, 10..11]
        );
        assert!(consecutive_runs(&[]).is_empty());
    }

    #[test]
    fn spans_are_found_in_the_draft_in_order() {
        let source = "Nutze `a` und `b`.";
        let protected = [6..9, 14..17];
        assert_eq!(
            spans_in("Use `a` and `b`.", source, &protected),
            vec![4..7, 12..15]
        );
        assert_eq!(spans_in("Use a and `b`.", source, &protected), vec![10..13]);
    }
}
