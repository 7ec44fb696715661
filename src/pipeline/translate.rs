//! The API passes over one document. Segments found in the cache are not sent; the others go
//! in batches of consecutive segments, all batches at once (each backend's limits decide how
//! many are in flight). A language-model batch whose reply fails validation is split in half
//! and retried, down to single segments; a segment that still fails is reported with the
//! reason, never copied through.

use std::collections::HashMap;
use std::ops::Range;

use futures_util::future::join_all;
use serde_json::json;

use super::batch::{self, BatchLimits};
use super::engine::{ChatSetup, Engine, Member, MemberKind, Pass, PassKind};
use super::mask::{MaskStyle, Masked, mask, unmask};
use super::protocol::{self, Expect, GlossaryTerm, Item, Request, estimate_tokens};
use super::translated::{FailureKind, SegmentFailure, SegmentResult, Translated};
use crate::backend::{BackendError, ChatRequest, ErrorKind, Limits, Size, Stop, TranslateRequest};
use crate::cache::{CacheKey, Entry, KeyParts};
use crate::config::Lang;
use crate::repair::{RepairedDocument, RepairedSegment};
use crate::segment::{SegmentId, content_hash};
use crate::verify;

/// Characters of neighbouring text sent along as read-only context.
const CONTEXT_CHARS: usize = 600;
const MAX_CHAT_ITEMS: usize = 40;

/// What one segment looks like to the passes.
pub(super) struct Unit<'a> {
    pub(super) seg: &'a RepairedSegment,
    pub(super) id: SegmentId,
    /// Neighbouring repaired text, part of the cache key.
    context: String,
}

/// One segment's outcome in a pass.
type Done = (usize, Result<Entry, SegmentFailure>);

/// A pass's work on one document, decided before anything is sent: the segments still to
/// send with their cache key for each member of the pass, and the batches they go in.
pub(super) struct Prepared {
    pub(super) keys: HashMap<usize, Vec<CacheKey>>,
    pub(super) batches: Vec<Range<usize>>,
}

/// One pass over one document: what every batch of it reads.
pub(super) struct PassRun<'a> {
    pub(super) engine: &'a Engine,
    pub(super) pass: &'a Pass,
    pub(super) units: &'a [Unit<'a>],
    /// The repaired German per segment.
    pub(super) texts: &'a [&'a str],
    /// The drafts so far, per segment (what the main pass post-edits).
    pub(super) drafts: Vec<Option<&'a str>>,
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
                id: seg.id(),
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
        let target = self.main.first().chat().map_or(Lang::En, |c| c.target);
        for (unit, result) in units.iter().zip(results.iter_mut()) {
            let Some(output) = &result.final_text else {
                continue;
            };
            result.findings = verify::verify(
                &verify::Pair {
                    id: unit.id,
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
        let Prepared { keys, batches } = self.prepare(pass, units, texts, results);
        let done: Vec<Done> = {
            let run = PassRun {
                engine: self,
                pass,
                units,
                texts,
                drafts: results.iter().map(|r| r.draft.as_deref()).collect(),
            };
            join_all(batches.into_iter().map(|range| run.batch(&keys, range)))
                .await
                .into_iter()
                .flatten()
                .collect()
        };
        for (i, outcome) in done {
            match outcome {
                Ok(entry) => store(&mut results[i], pass.kind, entry, false),
                Err(failure) => results[i].error = Some(failure),
            }
        }
    }

    /// Fill `results` from the cache — a result from any of the pass's backends counts — and
    /// plan the rest: their keys, and batches sized for the backend that serves the pass now.
    pub(super) fn prepare(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        texts: &[&str],
        results: &mut [SegmentResult],
    ) -> Prepared {
        let mut keys = HashMap::new();
        let mut pending = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            if results[i].error.is_some() {
                continue; // the draft failed; the restore would need it
            }
            // What this pass reads: the repaired German, plus the draft for the main pass.
            let source = match (&results[i].draft, pass.kind, self.draft.is_some()) {
                (Some(draft), PassKind::Restore | PassKind::PolishDe, true) => {
                    format!("{}\u{1f}{draft}", unit.seg.text)
                }
                _ => unit.seg.text.clone(),
            };
            let member_keys: Vec<CacheKey> = pass
                .members
                .iter()
                .map(|member| self.key(pass, member, unit, &source))
                .collect();
            match member_keys.iter().find_map(|key| self.cached(key)) {
                Some(entry) => store(&mut results[i], pass.kind, entry, true),
                None => {
                    keys.insert(i, member_keys);
                    pending.push(i);
                }
            }
        }
        let batches = match self.active(pass) {
            Some((_, member)) => plan_batches(member, texts, &pending),
            None => consecutive_runs(&pending),
        };
        Prepared { keys, batches }
    }

    /// A place among the run's `--jobs` requests in flight (none without `--jobs`).
    async fn job(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.jobs {
            Some(jobs) => jobs.acquire().await.ok(),
            None => None,
        }
    }

    /// The backend that serves `pass` now: the first one that has not stopped.
    pub(super) fn active<'p>(&self, pass: &'p Pass) -> Option<(usize, &'p Member)> {
        pass.members
            .iter()
            .enumerate()
            .find(|(_, member)| !self.is_stopped(member.backend.name()))
    }

    fn key(&self, pass: &Pass, member: &Member, unit: &Unit<'_>, source: &str) -> CacheKey {
        let hits = self.glossary.hits(&unit.seg.text);
        let mut params = member.params.clone();
        if !hits.is_empty() {
            params["glossary"] = json!(hits);
        }
        let kind = member.backend.kind().to_string();
        CacheKey::new(&KeyParts {
            pass: pass.kind.name(),
            backend: member.backend.name(),
            kind: &kind,
            model: member.backend.model(),
            prompt_hash: member.chat().map_or("", |c| c.prompt_hash.as_str()),
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

impl PassRun<'_> {
    /// One batch, split on invalid replies; the outcome for each index in `range`. A backend
    /// that stops (quota, auth, or failing past its retries) hands the batch to the next one
    /// in the pass. Each finished batch goes into the cache at once, so an interruption loses
    /// nothing that was paid for.
    async fn batch(&self, keys: &HashMap<usize, Vec<CacheKey>>, range: Range<usize>) -> Vec<Done> {
        let engine = self.engine;
        let mut out = Vec::new();
        let mut queue = vec![range];
        // A single paragraph whose reply failed validation gets one more try: models slip.
        let mut second_tries: Vec<usize> = Vec::new();
        let fail_all = |out: &mut Vec<Done>, range: Range<usize>, failure: SegmentFailure| {
            out.extend(range.map(|i| (i, Err(failure.clone()))));
        };
        while let Some(range) = queue.pop() {
            if engine.is_cancelled() {
                let failure =
                    SegmentFailure::new(FailureKind::NotSent, "not sent: cancelled (Ctrl-C)");
                fail_all(&mut out, range, failure);
                continue;
            }
            let Some((m, member)) = engine.active(self.pass) else {
                let why = match engine.stopped().last() {
                    Some(e) => format!("not sent: {e}"),
                    None => "not sent: no backend left".to_owned(),
                };
                fail_all(
                    &mut out,
                    range,
                    SegmentFailure::new(FailureKind::NotSent, why),
                );
                continue;
            };
            // A fallback with other limits gets the range in batches of its own size.
            let fitted = plan_batches(member, self.texts, &range.clone().collect::<Vec<_>>());
            if fitted.len() > 1 {
                queue.extend(fitted.into_iter().rev());
                continue;
            }
            let attempt = match &member.kind {
                MemberKind::Chat(chat) => self.chat_batch(member, chat, range.clone()).await,
                MemberKind::Translation => self.translate_batch(member, range.clone()).await,
            };
            match attempt {
                Ok(entries) => {
                    let finished: Vec<(CacheKey, Entry)> = entries
                        .iter()
                        .filter_map(|(i, entry)| {
                            Some((*keys.get(i)?.get(m)?, entry.as_ref().ok()?.clone()))
                        })
                        .collect();
                    engine.remember(&finished);
                    out.extend(entries);
                }
                Err(Failed::Backend(e)) => {
                    let gives_up = e.is_fatal_for_backend()
                        || matches!(e.kind, ErrorKind::Unavailable | ErrorKind::RateLimited);
                    let fallback = self
                        .pass
                        .members
                        .iter()
                        .skip(m + 1)
                        .any(|other| !engine.is_stopped(other.backend.name()));
                    if e.is_fatal_for_backend() || (gives_up && fallback) {
                        engine.stop(&e);
                    }
                    if gives_up && fallback {
                        queue.push(range);
                    } else if e.kind == ErrorKind::Rejected && range.len() > 1 {
                        // A refused request may be too large; smaller ones may pass.
                        split(&mut queue, range);
                    } else {
                        let kind = if e.kind == ErrorKind::Cancelled {
                            FailureKind::NotSent
                        } else {
                            FailureKind::Backend
                        };
                        fail_all(&mut out, range, SegmentFailure::new(kind, e.to_string()));
                    }
                }
                Err(Failed::Invalid(_)) if range.len() > 1 => split(&mut queue, range),
                Err(Failed::Invalid(_)) if !second_tries.contains(&range.start) => {
                    second_tries.push(range.start);
                    queue.push(range);
                }
                Err(Failed::Invalid(why)) => {
                    let message = format!("{}: {why}", member.backend.name());
                    fail_all(
                        &mut out,
                        range,
                        SegmentFailure::new(FailureKind::Invalid, message),
                    );
                }
            }
        }
        out
    }

    /// The request for one chat batch, and the masked German it carries.
    pub(super) fn chat_request(
        &self,
        chat: &ChatSetup,
        range: Range<usize>,
    ) -> (ChatRequest, Vec<Masked>) {
        let (units, texts) = (self.units, self.texts);
        let masked: Vec<Masked> = range
            .clone()
            .map(|i| mask(texts[i], &units[i].seg.protected, MaskStyle::Brackets))
            .collect();
        let masked_drafts: Vec<Option<Masked>> = range
            .clone()
            .map(|i| {
                let protected = &units[i].seg.protected;
                // The draft carries the spans verbatim; mask them the same way when found.
                self.drafts[i]
                    .filter(|_| self.pass.kind != PassKind::Draft)
                    .map(|d| {
                        let spans = spans_in(d, texts[i], protected);
                        mask(d, &spans, MaskStyle::Brackets)
                    })
            })
            .collect();
        let ids: Vec<String> = range.clone().map(|i| units[i].id.to_string()).collect();
        let items: Vec<Item> = ids
            .iter()
            .zip(&masked)
            .zip(&masked_drafts)
            .map(|((id, m), d)| Item {
                id,
                de: &m.text,
                draft: d.as_ref().map(|d| d.text.as_str()),
            })
            .collect();
        let joined: String = range
            .clone()
            .map(|i| texts[i])
            .collect::<Vec<_>>()
            .join("\n");
        let terms = self.engine.glossary.hits(&joined);
        let glossary: Vec<GlossaryTerm> = terms
            .iter()
            .map(|t| GlossaryTerm {
                de: &t.de,
                en: &t.en,
            })
            .collect();
        let (before, after) = batch::context(texts, range, CONTEXT_CHARS);
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
        member: &Member,
        chat: &ChatSetup,
        range: Range<usize>,
    ) -> Result<Vec<Done>, Failed> {
        let (request, masked) = self.chat_request(chat, range.clone());
        let ids: Vec<String> = range
            .clone()
            .map(|i| self.units[i].id.to_string())
            .collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let _job = self.engine.job().await;
        let reply = member
            .backend
            .chat(&request)
            .await
            .map_err(Failed::Backend)?;
        self.engine.add_usage(member.backend.name(), reply.usage);
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
        for ((i, reply), masked) in range.zip(segments).zip(&masked) {
            let text = unmask(&reply.text, masked).map_err(Failed::Invalid)?;
            let literal = reply
                .literal
                .map(|l| unmask(&l, masked))
                .transpose()
                .map_err(Failed::Invalid)?;
            out.push((i, Ok(self.entry(member, i, text, literal, reply.notes))));
        }
        Ok(out)
    }

    async fn translate_batch(
        &self,
        member: &Member,
        range: Range<usize>,
    ) -> Result<Vec<Done>, Failed> {
        let (units, texts) = (self.units, self.texts);
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
        let _job = self.engine.job().await;
        let reply = member
            .backend
            .translate(&request)
            .await
            .map_err(Failed::Backend)?;
        self.engine.add_usage(member.backend.name(), reply.usage);
        Ok(range
            .zip(reply.texts)
            .zip(&masked)
            .map(|((i, text), masked)| {
                let outcome = unmask(&text, masked)
                    .map(|text| self.entry(member, i, text, None, Vec::new()))
                    .map_err(|why| {
                        let message = format!("{}: {why}", member.backend.name());
                        SegmentFailure::new(FailureKind::Invalid, message)
                    });
                (i, outcome)
            })
            .collect())
    }

    fn entry(
        &self,
        member: &Member,
        i: usize,
        text: String,
        literal: Option<String>,
        notes: Vec<String>,
    ) -> Entry {
        Entry {
            text,
            literal,
            notes,
            pass: self.pass.kind.name().to_owned(),
            backend: member.backend.name().to_owned(),
            model: member.backend.model().to_owned(),
            source: self.units[i].seg.text.clone(),
        }
    }
}

pub(super) fn units(doc: &RepairedDocument) -> Vec<Unit<'_>> {
    let texts: Vec<&str> = doc.segments.iter().map(|s| s.text.as_str()).collect();
    doc.segments
        .iter()
        .map(|seg| {
            let i = seg.index;
            let before = i.checked_sub(1).map_or("", |p| texts[p]);
            let after = texts.get(i + 1).copied().unwrap_or_default();
            Unit {
                seg,
                id: SegmentId(i),
                context: format!("{before}\n\n{after}"),
            }
        })
        .collect()
}

/// Batches of consecutive pending segments, sized for the backend that will get them.
pub(super) fn plan_batches(
    member: &Member,
    texts: &[&str],
    indices: &[usize],
) -> Vec<Range<usize>> {
    let limits = match &member.kind {
        MemberKind::Chat(chat) => BatchLimits {
            max_tokens: chat.max_batch_tokens,
            max_items: MAX_CHAT_ITEMS,
            max_bytes: usize::MAX,
        },
        MemberKind::Translation => match member.backend.limits() {
            Some(limits) => service_batch(limits),
            None => BatchLimits {
                max_tokens: u32::MAX,
                max_items: usize::MAX,
                max_bytes: usize::MAX,
            },
        },
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

/// A translation service's per-request limits as a batch budget, so one batch is one request.
/// Batches are measured in bytes of the German, never fewer than its characters; a body limit
/// also carries the JSON framing, escapes and the context, so a sixth of it is left for those.
fn service_batch(limits: Limits) -> BatchLimits {
    BatchLimits {
        max_tokens: u32::MAX,
        max_items: limits.max_texts,
        max_bytes: match limits.max_size {
            Size::Chars(chars) => chars,
            Size::BodyBytes(bytes) => bytes - bytes / 6,
        },
    }
}

enum Failed {
    Backend(BackendError),
    /// The reply did not pass validation.
    Invalid(String),
}

fn store(result: &mut SegmentResult, pass: PassKind, entry: Entry, cached: bool) {
    if pass == PassKind::Draft {
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
