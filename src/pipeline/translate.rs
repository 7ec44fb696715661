//! The API passes over one document. Segments found in the cache are not sent; the others go
//! in batches of consecutive segments, all batches at once (each backend's limits decide how
//! many are in flight). A language-model batch whose reply fails validation is split in half
//! and retried, down to single segments; a segment that still fails is reported with the
//! reason, never copied through. Then verify checks every finished paragraph, and the refine
//! round (`refine`) sends back those it flags.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use futures_util::future::join_all;
use serde_json::json;

use super::engine::{Engine, Member, Pass, PassKind};
use super::flight::{Claimed, settling};
use super::send::{Done, PassRun};
use super::spend::{add_usage, share_usage};
use super::translated::{SegmentResult, Translated};
use super::units::{Unit, consecutive_runs, plan_batches, units_of};
use crate::backend::Usage;
use crate::cache::{CacheKey, Entry, KeyParts};
use crate::config::{Lang, Quotes};
use crate::quotes;
use crate::repair::RepairedDocument;
use crate::segment::content_hash;
use crate::verify::{self, Finding};

/// The producer of a result taken from `--memory` (where a backend's name stands otherwise).
pub const MEMORY: &str = "memory";

/// A pass's work on one document, decided before anything is sent: the segments still to
/// send with their cache key for each member of the pass, and the batches they go in.
pub(super) struct Prepared {
    pub(super) keys: HashMap<usize, Vec<CacheKey>>,
    pub(super) batches: Vec<Range<usize>>,
}

impl Engine {
    /// Run the passes over `doc` (already repaired offline) whose text is `source`.
    pub async fn translate(&self, doc: &RepairedDocument, source: &str) -> Translated {
        let mut translated = self.translate_pack(&[(doc, source)]).await;
        translated.pop().unwrap_or_else(|| Translated {
            segments: Vec::new(),
            usage: BTreeMap::new(),
        })
    }

    /// Run the passes over a pack of documents (each repaired offline, with its text) as one
    /// list of segments, so their segments share requests; each keeps its own context, names
    /// and verify. What the requests reported is shared out among the documents by the length
    /// of their German.
    pub async fn translate_pack(&self, docs: &[(&RepairedDocument, &str)]) -> Vec<Translated> {
        let repaired: Vec<&RepairedDocument> = docs.iter().map(|(doc, _)| *doc).collect();
        let units = units_of(&repaired);
        let mut results: Vec<SegmentResult> = docs
            .iter()
            .flat_map(|(doc, source)| {
                doc.segmented.segments().map(|seg| SegmentResult {
                    id: seg.id(),
                    hash: content_hash(seg.text(source)),
                    source: seg.text(source).to_owned(),
                    repaired: doc.segments[seg.index].text.clone(),
                    ..SegmentResult::default()
                })
            })
            .collect();

        self.remembered(&units, &mut results);
        let mut usage = BTreeMap::new();
        if let Some(draft) = &self.draft {
            add_usage(&mut usage, self.run_pass(draft, &units, &mut results).await);
        }
        add_usage(
            &mut usage,
            self.run_pass(&self.main, &units, &mut results).await,
        );
        if self.quotes == Quotes::Straight {
            straighten(&units, &mut results);
        }
        self.verify_each(&units, &mut results);
        if self.refine_round(&units, &mut results, &mut usage).await {
            // A refined text comes back with the model's curly quotes.
            if self.quotes == Quotes::Straight {
                straighten(&units, &mut results);
            }
            self.verify_each(&units, &mut results);
        }
        let weights: Vec<u64> = repaired
            .iter()
            .map(|doc| doc.segments.iter().map(|seg| seg.text.len() as u64).sum())
            .collect();
        let mut rest = results.into_iter();
        repaired
            .iter()
            .zip(share_usage(&usage, &weights))
            .map(|(doc, usage)| Translated {
                segments: rest.by_ref().take(doc.segments.len()).collect(),
                usage,
            })
            .collect()
    }

    /// `--memory`: every paragraph whose repaired German the memory has takes its English,
    /// and no pass sends it. Restoring English only: a memory pairs German with English.
    pub(super) fn remembered(&self, units: &[Unit<'_>], results: &mut [SegmentResult]) {
        let Some(memory) = &self.memory else { return };
        if self.main.kind != PassKind::Restore {
            return;
        }
        for (unit, result) in units.iter().zip(results.iter_mut()) {
            if let Some(english) = memory.get(&unit.seg.text) {
                result.final_text = Some(english.to_owned());
                result.final_backend = Some(MEMORY.to_owned());
            }
        }
    }

    /// [`Engine::verify`] for each document of a pack on its own.
    fn verify_each(&self, units: &[Unit<'_>], results: &mut [SegmentResult]) {
        let mut start = 0;
        while let Some(span) = units.get(start).map(|u| u.span.clone()) {
            self.verify(&units[span.clone()], &mut results[span.clone()]);
            start = span.end.max(start + 1);
        }
    }

    /// Check every finished paragraph against its German, offline.
    fn verify(&self, units: &[Unit<'_>], results: &mut [SegmentResult]) {
        let target = self.main.first().chat().map_or(Lang::En, |c| c.target);
        for (unit, result) in units.iter().zip(results.iter_mut()) {
            result.findings = verify::verify_source_for_translation(unit.id, &result.source);
            let Some(output) = &result.final_text else {
                continue;
            };
            result.findings.extend(self.check(
                unit,
                result.draft.as_deref(),
                output,
                &result.notes,
            ));
            // The model's notes join the findings here, once: every view reads them from there.
            result
                .findings
                .extend(verify::model_notes(unit.id, &result.notes));
        }
        if target == Lang::En {
            self.verify_consistency(units, results);
        }
    }

    /// One name rendered two ways across the document's finished paragraphs.
    fn verify_consistency(&self, units: &[Unit<'_>], results: &mut [SegmentResult]) {
        let rendered: Vec<verify::Rendered> = units
            .iter()
            .zip(results.iter())
            .filter_map(|(unit, result)| {
                Some(verify::Rendered {
                    id: unit.id,
                    source: &unit.seg.text,
                    output: result.final_text.as_deref()?,
                    terms: &result.terms,
                })
            })
            .collect();
        let findings = verify::verify_consistency(&rendered, Some(&self.glossary));
        for finding in findings {
            let at = finding.segment.map(|id| id.0);
            if let Some(result) = at.and_then(|i| results.get_mut(i)) {
                result.findings.push(finding);
            }
        }
    }

    /// What verify finds in `output`, a candidate result for `unit` (the refine round judges
    /// one before it is kept), as [`Engine::verify`] checks a result.
    pub(super) fn check(
        &self,
        unit: &Unit<'_>,
        draft: Option<&str>,
        output: &str,
        notes: &[String],
    ) -> Vec<Finding> {
        let target = self.main.first().chat().map_or(Lang::En, |c| c.target);
        verify::verify(
            &verify::Pair {
                id: unit.id,
                source: &unit.seg.text,
                draft,
                output,
                target,
            },
            &verify::Options {
                glossary: Some(&self.glossary),
                protected: &unit.seg.protected,
                notes,
            },
        )
    }

    /// One pass over the document; what its replies reported, per backend. A segment another
    /// batch of the run is sending already is not sent again: it takes that batch's outcome
    /// (single flight, see `flight`).
    async fn run_pass(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        results: &mut [SegmentResult],
    ) -> BTreeMap<String, Usage> {
        let Prepared { keys, .. } = self.prepare(pass, units, results);
        let mut todo: Vec<usize> = keys.keys().copied().collect();
        todo.sort_unstable();
        let mut usage = BTreeMap::new();
        while !todo.is_empty() {
            let mut leads = Vec::new();
            let mut claims = HashMap::new();
            let mut follows = Vec::new();
            for (i, claimed) in self.claim(&todo, &keys) {
                match claimed {
                    Claimed::Found(entry) => store(&mut results[i], pass.kind, entry, true),
                    Claimed::Lead(claim) => {
                        leads.push(i);
                        claims.extend(claim.map(|c| (i, c)));
                    }
                    Claimed::Follow(rx) => follows.push((i, rx)),
                }
            }
            let batches = self.batches_for(pass, units, &leads);
            let (done, waited, used): (Vec<Done>, Vec<_>, _) = {
                let run = PassRun::new(self, pass, units, results);
                let sent =
                    join_all(batches.into_iter().map(|range| {
                        settling(&mut claims, range.clone(), run.batch(&keys, range))
                    }));
                let waits = join_all(
                    follows
                        .into_iter()
                        .map(|(i, rx)| async move { (i, self.follow(rx).await) }),
                );
                let (sent, waited) = futures_util::future::join(sent, waits).await;
                (
                    sent.into_iter().flatten().collect(),
                    waited,
                    run.into_usage(),
                )
            };
            add_usage(&mut usage, used);
            for (i, outcome) in done {
                match outcome {
                    Ok(entry) => store(&mut results[i], pass.kind, entry, false),
                    Err(failure) => results[i].error = Some(failure),
                }
            }
            // Taken from the batch that sent them; those whose batch ended without a word go
            // round again.
            todo = Vec::new();
            for (i, outcome) in waited {
                match outcome {
                    Some(Ok(entry)) => store(&mut results[i], pass.kind, entry, true),
                    Some(Err(failure)) => results[i].error = Some(failure),
                    None => todo.push(i),
                }
            }
        }
        usage
    }

    /// Fill `results` from the cache — a result from any of the pass's backends counts — and
    /// plan the rest: their keys, and batches sized for the backend that serves the pass now.
    pub(super) fn prepare(
        &self,
        pass: &Pass,
        units: &[Unit<'_>],
        results: &mut [SegmentResult],
    ) -> Prepared {
        let mut keys = HashMap::new();
        let mut pending = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            if results[i].error.is_some() {
                continue; // the draft failed; the restore would need it
            }
            if results[i].final_backend.as_deref() == Some(MEMORY) {
                continue; // taken from the translation memory
            }
            let source = self.read_by(pass.kind, unit, &results[i]);
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
        let batches = self.batches_for(pass, units, &pending);
        Prepared { keys, batches }
    }

    /// The batches of the segments `pending`, sized for the backend that serves `pass` now.
    fn batches_for(&self, pass: &Pass, units: &[Unit<'_>], pending: &[usize]) -> Vec<Range<usize>> {
        match self.active(pass) {
            Some((_, member)) => plan_batches(member, units, pending),
            None => consecutive_runs(pending),
        }
    }

    /// A place among the run's `--jobs` requests in flight (none without `--jobs`).
    pub(super) async fn job(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
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

    /// What `pass` reads of a paragraph, for its cache key: the repaired German, plus the
    /// draft for the main pass (and the refine round, which sends it again).
    pub(super) fn read_by(
        &self,
        pass: PassKind,
        unit: &Unit<'_>,
        result: &SegmentResult,
    ) -> String {
        match (&result.draft, pass, self.draft.is_some()) {
            (Some(draft), PassKind::Restore | PassKind::PolishDe | PassKind::Refine, true) => {
                format!("{}\u{1f}{draft}", unit.seg.text)
            }
            _ => unit.seg.text.clone(),
        }
    }

    /// Everything that decides the paragraph's result; not its neighbours, whose context is
    /// advisory, so an edit re-sends the edited paragraph alone.
    fn key(&self, pass: &Pass, member: &Member, unit: &Unit<'_>, source: &str) -> CacheKey {
        let prompt_hash = member.chat().map_or("", |c| c.prompt_hash.as_str());
        self.key_for(pass.kind, prompt_hash, member, unit, source)
    }

    /// The key of one request of `pass` for `unit`, sent with `prompt_hash` to `member`.
    pub(super) fn key_for(
        &self,
        pass: PassKind,
        prompt_hash: &str,
        member: &Member,
        unit: &Unit<'_>,
        source: &str,
    ) -> CacheKey {
        // The terms the request carries, found in the text that is sent.
        let hits = self.glossary.hits(&unit.context);
        let mut params = member.params.clone();
        if !hits.is_empty() {
            params["glossary"] = json!(hits);
        }
        // A language model reads the segment's role (a heading is written as one).
        if member.chat().is_some() {
            params["role"] = json!(unit.role.as_str());
        }
        let kind = member.backend.kind().to_string();
        CacheKey::new(&KeyParts {
            pass: pass.name(),
            backend: member.backend.name(),
            kind: &kind,
            model: member.backend.model(),
            prompt_hash,
            params: &params,
            source,
        })
    }

    pub(super) fn cached(&self, key: &CacheKey) -> Option<Entry> {
        let cache = self.cache.as_ref()?.lock().ok()?;
        match cache.get(key) {
            Ok(entry) => entry,
            Err(e) => {
                self.warn(format!("cache: {e}; going on without it"));
                None
            }
        }
    }

    /// Put `entries` in the cache in one write (none for no entries).
    pub(super) fn remember(&self, entries: &[(CacheKey, Entry)]) {
        if entries.is_empty() {
            return;
        }
        let Some(cache) = &self.cache else { return };
        let Ok(cache) = cache.lock() else { return };
        if let Err(e) = cache.put_many(entries) {
            self.warn(format!("cache: {e}; results of this run are not cached"));
        }
    }
}

/// `quotes = "straight"`: both sides of every result with straight quotation marks, the
/// protected spans (which came back verbatim) as they are.
fn straighten(units: &[Unit<'_>], results: &mut [SegmentResult]) {
    for (unit, result) in units.iter().zip(results.iter_mut()) {
        let seg = unit.seg;
        let kept: Vec<&str> = seg
            .protected
            .iter()
            .filter_map(|r| seg.text.get(r.clone()))
            .collect();
        for text in [&mut result.final_text, &mut result.draft]
            .into_iter()
            .flatten()
        {
            *text = quotes::straighten(text, &kept);
        }
    }
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
        result.terms = entry.terms;
        result.final_cached = cached;
        result.final_backend = Some(entry.backend);
    }
}
