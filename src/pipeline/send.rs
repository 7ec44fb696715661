//! One batch of a pass, out and back: the request built from the masked segments alone (the
//! segments, their drafts masked alike, the context of their masked neighbours, the glossary
//! hits in the masked text), sent to the backend that serves the pass now, the
//! reply validated and unmasked. A reply that fails validation is split in half and retried,
//! down to single segments; a backend that stops hands the batch to the next one of the pass;
//! each finished batch is cached at once. The names a restore reply says it decided are learned
//! for the document: batches whose request is built later get them as glossary entries. The
//! refine round goes the same way, with the refine prompt, each segment's [`Revision`], and
//! only the pass's chat backends.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;

use super::batch;
use super::engine::{ChatSetup, Engine, Member, MemberKind, Pass, PassKind};
use super::mask::{MaskStyle, unmask};
use super::protocol::{self, Expect, GlossaryTerm, Item, Request, Revision, estimate_tokens};
use super::translated::{FailureKind, SegmentFailure, SegmentResult};
use super::units::{Unit, context, doc_parts, plan_batches};
use crate::backend::{BackendError, ChatRequest, ErrorKind, Stop, TranslateRequest, Usage};
use crate::cache::{CacheKey, Entry};
use crate::cost;
use crate::glossary::{self, Term};

/// One segment's outcome in a pass.
pub(super) type Done = (usize, Result<Entry, SegmentFailure>);

/// One pass over one document: what every batch of it reads.
pub(super) struct PassRun<'a> {
    engine: &'a Engine,
    pass: &'a Pass,
    units: &'a [Unit<'a>],
    /// The drafts so far, per segment, masked like their segment (what the main pass
    /// post-edits); none for the draft pass itself.
    drafts: Vec<Option<String>>,
    /// The refine round: what goes back with each segment sent. `None` for the pass itself.
    revisions: Option<&'a HashMap<usize, Revision>>,
    /// Names this document's restore replies decided so far (from the cache, then from each
    /// batch as it finishes; the first decision for a German form wins). Sent as glossary
    /// entries but never part of a cache key: what a batch learns depends on which batches
    /// finished before its request was built, and a re-run must find the same keys.
    /// Per document of a pack: a name learned in one document is never imposed on another.
    learned: Mutex<Vec<(usize, Term)>>,
    /// What this document's replies in this pass reported, per backend: the engine counts the
    /// whole run, this the document's own share.
    used: Mutex<BTreeMap<String, Usage>>,
}

impl<'a> PassRun<'a> {
    pub(super) fn new(
        engine: &'a Engine,
        pass: &'a Pass,
        units: &'a [Unit<'a>],
        results: &[SegmentResult],
    ) -> Self {
        let drafts = units
            .iter()
            .zip(results)
            .map(|(unit, result)| {
                let draft = result.draft.as_deref();
                let draft = draft.filter(|_| pass.kind != PassKind::Draft)?;
                Some(unit.masked.draft(draft))
            })
            .collect();
        let learned = Mutex::new(Vec::new());
        let run = Self {
            engine,
            pass,
            units,
            drafts,
            learned,
            revisions: None,
            used: Mutex::default(),
        };
        if pass.kind != PassKind::Draft {
            for (unit, result) in units.iter().zip(results) {
                run.learn(unit.doc, &result.terms);
            }
        }
        run
    }

    /// The refine round of `pass` (the main pass): the segments of `revisions` go back with
    /// their earlier answer and its problems.
    pub(super) fn refining(
        engine: &'a Engine,
        pass: &'a Pass,
        units: &'a [Unit<'a>],
        results: &[SegmentResult],
        revisions: &'a HashMap<usize, Revision>,
    ) -> Self {
        let mut run = Self {
            revisions: Some(revisions),
            ..Self::new(engine, pass, units, results)
        };
        if engine.draft.is_none() {
            // The draft is then the model's own literal rendering: nothing to post-edit.
            run.drafts.fill(None);
        }
        run
    }

    /// What this pass's replies for the document reported, per backend.
    pub(super) fn into_usage(self) -> BTreeMap<String, Usage> {
        self.used.into_inner().unwrap_or_default()
    }

    /// A reply's usage, counted for the run and for this document.
    fn add_usage(&self, backend: &str, usage: Usage) {
        self.engine.add_usage(backend, usage);
        self.engine.add_pass_usage(self.pass_name(), backend, usage);
        if let Ok(mut used) = self.used.lock() {
            *used.entry(backend.to_owned()).or_default() += usage;
        }
    }

    /// Whether `member` can take this run's requests: any member a pass, only a language
    /// model the refine round (a translation service takes no instructions).
    fn takes(&self, member: &Member) -> bool {
        self.revisions.is_none() || member.chat().is_some()
    }

    /// The backend that serves the requests now: the first that takes them and has not
    /// stopped.
    pub(super) fn serving(&self) -> Option<(usize, &'a Member)> {
        self.pass.members.iter().enumerate().find(|(_, member)| {
            self.takes(member) && !self.engine.is_stopped(member.backend.name())
        })
    }

    /// The system prompt and whether a literal rendering is asked for.
    fn prompt<'c>(&self, chat: &'c ChatSetup) -> (&'c str, bool) {
        match (&self.revisions, &chat.refine) {
            (Some(_), Some(refine)) => (&refine.system, false),
            (Some(_), None) => (&chat.system, false),
            (None, _) => (&chat.system, chat.with_literal),
        }
    }

    fn pass_name(&self) -> &'static str {
        match self.revisions {
            Some(_) => PassKind::Refine.name(),
            None => self.pass.kind.name(),
        }
    }

    /// Remember names a reply (or a cached one) decided in document `doc`, unless the user's
    /// glossary or an earlier reply in that document already settled their German form.
    fn learn<'t>(&self, doc: usize, terms: impl IntoIterator<Item = &'t Term>) {
        let Ok(mut learned) = self.learned.lock() else {
            return;
        };
        let user = self.engine.glossary.terms();
        for term in terms {
            let settled = |t: &Term| t.de.eq_ignore_ascii_case(&term.de);
            let learned_here = learned.iter().any(|(d, t)| *d == doc && settled(t));
            if !user.iter().any(settled) && !learned_here {
                learned.push((doc, term.clone()));
            }
        }
    }

    /// The glossary entries of a request for the segments `range`: the user's terms that occur
    /// in them, then the names learned so far in each segment's document that occur in that
    /// document's segments (once each).
    fn glossary_hits(&self, range: Range<usize>) -> Vec<Term> {
        let units = &self.units[range.clone()];
        let joined: Vec<&str> = units.iter().map(|u| u.context.as_str()).collect();
        let mut terms: Vec<Term> = self
            .engine
            .glossary
            .hits(&joined.join("\n"))
            .into_iter()
            .cloned()
            .collect();
        if let Ok(learned) = self.learned.lock() {
            for part in doc_parts(self.units, range) {
                let doc = self.units[part.start].doc;
                let joined: Vec<&str> = self.units[part]
                    .iter()
                    .map(|u| u.context.as_str())
                    .collect();
                let german = joined.join("\n");
                for (_, term) in learned.iter().filter(|(d, _)| *d == doc) {
                    let new = !terms.iter().any(|t| t.de == term.de && t.en == term.en);
                    if new && glossary::find(&german, &term.de).is_some() {
                        terms.push(term.clone());
                    }
                }
            }
        }
        terms
    }

    /// One batch, split on invalid replies; the outcome for each index in `range`. A backend
    /// that stops (quota, auth, or failing past its retries) hands the batch to the next one
    /// in the pass. Each finished batch goes into the cache at once, so an interruption loses
    /// nothing that was paid for.
    pub(super) async fn batch(
        &self,
        keys: &HashMap<usize, Vec<CacheKey>>,
        range: Range<usize>,
    ) -> Vec<Done> {
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
            let Some((m, member)) = self.serving() else {
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
            let fitted = plan_batches(member, self.units, &range.clone().collect::<Vec<_>>());
            if fitted.len() > 1 {
                queue.extend(fitted.into_iter().rev());
                continue;
            }
            let attempt = match &member.kind {
                MemberKind::Chat(chat) => self.chat_batch(member, chat, range.clone()).await,
                MemberKind::Translation => (self.translate_batch(member, range.clone()).await)
                    .map(|done| (done, Vec::new())),
            };
            match attempt {
                Ok((entries, rejected)) => {
                    for (i, entry) in &entries {
                        if let Ok(entry) = entry {
                            self.learn(self.units[*i].doc, &entry.terms);
                        }
                    }
                    // A pack's documents whose part of the reply failed go again, each alone
                    // (and from there split in half like any batch); the others are kept.
                    queue.extend(rejected.into_iter().rev());
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
                    let fallback =
                        self.pass.members.iter().skip(m + 1).any(|other| {
                            self.takes(other) && !engine.is_stopped(other.backend.name())
                        });
                    if e.is_fatal_for_backend() || (gives_up && fallback) {
                        engine.stop(&e);
                    }
                    if gives_up && fallback {
                        queue.push(range);
                    } else if e.kind == ErrorKind::Rejected && range.len() > 1 {
                        // A refused request may be too large; smaller ones may pass.
                        split(&mut queue, self.units, range);
                    } else {
                        let failure = match e.kind {
                            ErrorKind::Cancelled => {
                                SegmentFailure::new(FailureKind::NotSent, e.to_string())
                            }
                            ErrorKind::Halted => {
                                SegmentFailure::new(FailureKind::NotSent, format!("not sent: {e}"))
                            }
                            _ => SegmentFailure::new(FailureKind::Backend, e.to_string()),
                        };
                        fail_all(&mut out, range, failure);
                    }
                }
                Err(Failed::Invalid(_)) if range.len() > 1 => {
                    split(&mut queue, self.units, range);
                }
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

    /// The request for one chat batch.
    pub(super) fn chat_request(&self, chat: &ChatSetup, range: Range<usize>) -> ChatRequest {
        let units = &self.units[range.clone()];
        let texts: Vec<String> = units
            .iter()
            .map(|u| u.masked.text(MaskStyle::Brackets))
            .collect();
        let ids: Vec<&str> = units.iter().map(|u| u.wire.as_str()).collect();
        let items: Vec<Item> = ids
            .iter()
            .zip(&texts)
            .zip(&self.drafts[range.clone()])
            .zip(units)
            .zip(range.clone())
            .map(|((((id, de), draft), unit), i)| Item {
                id,
                role: unit.role,
                de,
                draft: draft.as_deref(),
                revision: self.revisions.and_then(|r| r.get(&i)),
            })
            .collect();
        let terms = self.glossary_hits(range.clone());
        let glossary: Vec<GlossaryTerm> = terms
            .iter()
            .map(|t| GlossaryTerm {
                de: &t.de,
                en: &t.en,
            })
            .collect();
        let (before, after) = context(self.units, range);
        let user = protocol::user_message(&Request {
            items: &items,
            context_before: &before,
            context_after: &after,
            glossary: &glossary,
        });
        let (system, with_literal) = self.prompt(chat);
        ChatRequest {
            estimated_tokens: estimate_tokens(system) + estimate_tokens(&user),
            system: system.to_owned(),
            user,
            schema: Some({
                let schema = protocol::reply_schema(chat.target, with_literal);
                // The refine round asks for corrections, not for names.
                if chat.learns_terms && self.revisions.is_none() {
                    protocol::with_terms(schema)
                } else {
                    schema
                }
            }),
        }
    }

    /// One chat request and its reply, validated per document of the range: the outcomes of
    /// the documents whose part passed, and the parts that failed (only when some passed: a
    /// reply that fails everywhere is the batch's failure).
    async fn chat_batch(
        &self,
        member: &Member,
        chat: &ChatSetup,
        range: Range<usize>,
    ) -> Result<(Vec<Done>, Vec<Range<usize>>), Failed> {
        // Built once it may be sent, so it carries the names the batches before it decided.
        let _turn = match &chat.turns {
            Some(turns) => turns.acquire().await.ok(),
            None => None,
        };
        let request = self.chat_request(chat, range.clone());
        let units = &self.units[range.clone()];
        let ids: Vec<&str> = units.iter().map(|u| u.wire.as_str()).collect();
        let _job = self.engine.job().await;
        let sources: Vec<String> = units
            .iter()
            .map(|u| u.masked.text(MaskStyle::Brackets))
            .collect();
        let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
        let source: u64 = sources.iter().map(|s| u64::from(estimate_tokens(s))).sum();
        let with_literal = self.prompt(chat).1;
        let output = cost::estimate_output(source, units.len() as u64, with_literal);
        let input = u64::from(request.estimated_tokens);
        let sent = member.backend.chat(&request);
        let reply = self
            .within_budget(member, input, output, sent, |r| r.usage)
            .await?;
        let name = member.backend.name();
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
        let expect = Expect {
            target: chat.target,
            ids: &ids,
            sources: &sources,
            with_literal,
        };
        // Each document of a pack is validated as if it had been sent alone.
        let parts = doc_parts(self.units, range.clone());
        let local: Vec<Range<usize>> = parts
            .iter()
            .map(|p| p.start - range.start..p.end - range.start)
            .collect();
        let checked = protocol::parse_parts(&reply.text, &expect, &local);
        if checked.iter().all(Result::is_err) {
            let mut described: Vec<String> = Vec::new();
            for problem in checked.into_iter().filter_map(Result::err).flatten() {
                let line = problem.describe();
                if !described.contains(&line) {
                    described.push(line);
                }
            }
            return Err(Failed::Invalid(described.join("; ")));
        }
        if with_literal {
            // The literal's share of what the reply wrote, by length.
            let literal: usize = checked
                .iter()
                .filter_map(|part| part.as_ref().ok())
                .flatten()
                .filter_map(|s| s.literal.as_ref())
                .map(|l| l.chars().count())
                .sum();
            let written = reply.text.chars().count().max(1);
            let tokens = reply.usage.output_tokens * literal as u64 / written as u64;
            self.engine.move_to_literal(self.pass_name(), name, tokens);
        }
        let terms = if chat.learns_terms {
            protocol::reply_terms(&reply.text)
        } else {
            Vec::new()
        };
        let mut out = Vec::with_capacity(range.len());
        let mut rejected = Vec::new();
        for (part, checked) in parts.into_iter().zip(checked) {
            let Ok(segments) = checked else {
                rejected.push(part);
                continue;
            };
            match self.unmasked(member, &terms, part.clone(), segments) {
                Ok(done) => out.extend(done),
                // Only this document's markers came back wrong: it goes again.
                Err(_) if range.len() > part.len() => rejected.push(part),
                Err(e) => return Err(e),
            }
        }
        Ok((out, rejected))
    }

    /// The validated reply segments of `range`, unmasked, as entries with the names each
    /// rendered.
    fn unmasked(
        &self,
        member: &Member,
        terms: &[Term],
        range: Range<usize>,
        segments: Vec<protocol::ReplySegment>,
    ) -> Result<Vec<Done>, Failed> {
        let mut out = Vec::with_capacity(segments.len());
        for ((i, reply), unit) in range.clone().zip(segments).zip(&self.units[range]) {
            let back = |text: &str| unmask(text, &unit.masked, MaskStyle::Brackets);
            let text = back(&reply.text).map_err(Failed::Invalid)?;
            let literal = reply
                .literal
                .map(|l| back(&l))
                .transpose()
                .map_err(Failed::Invalid)?;
            let mut entry = self.entry(member, i, text, literal, reply.notes);
            entry.terms = rendered_in(terms, &unit.context, &entry.text);
            out.push((i, Ok(entry)));
        }
        Ok(out)
    }

    /// Send within the run's budget: `input` and `output` (tokens, or characters for a
    /// translation service) are reserved first — a request that would pass `--max-cost` is not
    /// sent — and the reply's cost settles the reservation and counts for this pass.
    async fn within_budget<T>(
        &self,
        member: &Member,
        input: u64,
        output: u64,
        sent: impl std::future::Future<Output = Result<T, crate::backend::BackendError>>,
        usage: impl Fn(&T) -> Usage,
    ) -> Result<T, Failed> {
        let reservation = self
            .engine
            .reserve(member, input, output)
            .map_err(Failed::Backend)?;
        let reply = match sent.await {
            Ok(reply) => reply,
            Err(e) => {
                reservation.settle(0.0);
                return Err(Failed::Backend(e));
            }
        };
        let name = member.backend.name();
        let used = usage(&reply);
        let batch = member.backend.is_deferred();
        reservation.settle(self.engine.cost_of(name, &used, batch).unwrap_or_default());
        self.add_usage(name, used);
        Ok(reply)
    }

    async fn translate_batch(
        &self,
        member: &Member,
        range: Range<usize>,
    ) -> Result<Vec<Done>, Failed> {
        let units = &self.units[range.clone()];
        let xml = units.iter().any(|u| u.masked.has_spans());
        let style = if xml {
            MaskStyle::Xml
        } else {
            MaskStyle::Brackets
        };
        let (before, after) = context(self.units, range.clone());
        let context = format!("{before}\n\n{after}").trim().to_owned();
        let request = TranslateRequest {
            texts: units.iter().map(|u| u.masked.text(style)).collect(),
            context: (!context.is_empty()).then_some(context),
            xml,
        };
        let _job = self.engine.job().await;
        let characters: usize = request.texts.iter().map(|t| t.chars().count()).sum();
        let sent = member.backend.translate(&request);
        let reply = self
            .within_budget(member, characters as u64, 0, sent, |r| r.usage)
            .await?;
        Ok(range
            .zip(reply.texts)
            .zip(units)
            .map(|((i, text), unit)| {
                let outcome = unmask(&text, &unit.masked, style)
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
            pass: self.pass_name().to_owned(),
            backend: member.backend.name().to_owned(),
            model: member.backend.model().to_owned(),
            source: self.units[i].seg.text.clone(),
            terms: Vec::new(),
        }
    }
}

/// The reported names that belong to one segment: its German (as sent) has the German form,
/// its English the English one. A reply reports names for the whole batch; a name found in no
/// segment (one from the context, or none at all) is dropped.
fn rendered_in(terms: &[Term], german: &str, english: &str) -> Vec<Term> {
    terms
        .iter()
        .filter(|t| {
            glossary::find(german, &t.de).is_some() && glossary::find(english, &t.en).is_some()
        })
        .cloned()
        .collect()
}

enum Failed {
    Backend(BackendError),
    /// The reply did not pass validation.
    Invalid(String),
}

/// A failed batch split for the retry: a pack by its documents, each alone; one document's
/// segments in half. The first part ends on top of the stack, so it is tried first.
fn split(queue: &mut Vec<Range<usize>>, units: &[Unit<'_>], range: Range<usize>) {
    let parts = doc_parts(units, range.clone());
    if parts.len() > 1 {
        queue.extend(parts.into_iter().rev());
    } else if let Some((first, second)) = batch::halves(range) {
        queue.push(second);
        queue.push(first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::units::units_of;
    use crate::repair::repair_document;
    use crate::segment::Format;

    #[test]
    fn a_failed_pack_splits_by_document_first_then_in_half() {
        let a = repair_document("Eins.\n\nZwei.\n\nDrei.\n", Format::Plain);
        let b = repair_document("Vier.\n\nFünf.\n", Format::Plain);
        let pack = units_of(&[&a, &b]);
        let mut queue = Vec::new();
        split(&mut queue, &pack, 0..5);
        // The first document is tried first (popped from the end).
        assert_eq!(queue, vec![3..5, 0..3]);
        queue.clear();
        split(&mut queue, &pack, 0..3);
        assert_eq!(queue, vec![1..3, 0..1]);
        queue.clear();
        split(&mut queue, &pack, 2..4);
        assert_eq!(queue, vec![3..4, 2..3]);
    }
}
