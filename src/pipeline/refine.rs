//! The refine round: after verify, every paragraph with an error-level finding goes back to
//! the main pass's language model once (`--refine N`: up to N times) with the findings marked
//! — what verify found, the words at fault and the German they come from — and its earlier
//! answer. The reply is validated like any other; the new text is kept only if it
//! [`improves`] on the old one, and either way the paragraph's [`Refinement`] records both
//! versions and what happened. Requests are batched, split, retried and cached like a pass's.

use std::collections::{BTreeMap, HashMap};

use futures_util::future::join_all;
use serde::Serialize;

use super::engine::{Engine, PassKind};
use super::flight::{Claim, Claimed, settling};
use super::protocol::{Flagged, Revision};
use super::send::{Done, PassRun};
use super::spend::add_usage;
use super::translated::{FailureKind, SegmentFailure, SegmentResult};
use super::units::{Unit, plan_batches};
use crate::backend::Usage;
use crate::cache::{CacheKey, Entry, REFINED};
use crate::verify::{Finding, Severity};

/// A paragraph's way through the refine round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refinement {
    /// Answers received (one per round the paragraph went back).
    pub rounds: u8,
    /// The text before the round: the main pass's answer.
    pub before: String,
    /// The error-level findings in `before` that sent it back.
    pub findings_before: Vec<Finding>,
    /// The refined text the paragraph kept, or else the last one proposed; `None` when no
    /// answer came.
    pub after: Option<String>,
    /// Verify's findings in `after`.
    pub findings_after: Vec<Finding>,
    pub outcome: RefineOutcome,
    /// The model's notes on `after`.
    pub notes: Vec<String>,
    /// Which backend answered, and whether the answer came from the cache.
    pub backend: Option<String>,
    pub cached: bool,
    /// Why no answer came (`failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the refine round did to a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefineOutcome {
    /// The refined text replaced the first; verify finds no error in it.
    Resolved,
    /// The refined text replaced the first with fewer errors; some remain.
    Improved,
    /// The refined text did not resolve the errors (or added one): the first version stays.
    Kept,
    /// No valid answer came back: the first version stays.
    Failed,
}

impl Refinement {
    /// One line for the note under the paragraph.
    pub fn summary(&self) -> String {
        let rules = |findings: &[Finding]| {
            let mut rules: Vec<String> = Vec::new();
            for f in errors(findings) {
                let rule = format!("{}/{}", f.check.id(), f.rule);
                if !rules.contains(&rule) {
                    rules.push(rule);
                }
            }
            rules.join(", ")
        };
        match self.outcome {
            RefineOutcome::Resolved => {
                format!("refined: resolved ✗ {}", rules(&self.findings_before))
            }
            RefineOutcome::Improved => format!(
                "refined: fewer errors (was ✗ {}), still ✗ {}",
                rules(&self.findings_before),
                rules(&self.findings_after)
            ),
            RefineOutcome::Kept => format!(
                "refine tried, kept the first version: the new one has ✗ {}",
                rules(&self.findings_after)
            ),
            RefineOutcome::Failed => format!(
                "refine tried, kept the first version: {}",
                self.error.as_deref().unwrap_or("no answer")
            ),
        }
    }
}

/// The decision rule: a new text (with `after` found in it) replaces the old one (with
/// `before`) when it has fewer error-level findings and no more of any kind — counted per
/// (check, rule) — than the old one had. Warnings do not count either way.
pub fn improves(before: &[Finding], after: &[Finding]) -> bool {
    let count = |findings: &[Finding]| {
        let mut counts: HashMap<(&'static str, &'static str), usize> = HashMap::new();
        for f in errors(findings) {
            *counts.entry((f.check.id(), f.rule)).or_default() += 1;
        }
        counts
    };
    let (old, new) = (count(before), count(after));
    let fewer = new.values().sum::<usize>() < old.values().sum::<usize>();
    fewer
        && new
            .iter()
            .all(|(kind, n)| *n <= old.get(kind).copied().unwrap_or(0))
}

fn errors(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| f.severity == Severity::Error)
}

/// One paragraph sent back: what goes with it, and the errors the answer must resolve.
struct Ask {
    revision: Revision,
    errors: Vec<Finding>,
    keys: Vec<CacheKey>,
}

impl Engine {
    /// Whether this run refines: rounds wanted, and a language model in the main pass to ask
    /// (a translation service takes no instructions).
    pub fn refines(&self) -> bool {
        self.refine > 0 && self.main.members.iter().any(|m| m.chat().is_some())
    }

    /// Up to `self.refine` rounds over the paragraphs verify flags; true when any paragraph
    /// went back (its findings are then out of date). A paragraph takes part in a further
    /// round only when the last one improved it: sending the same text with the same
    /// problems again is the same question.
    pub(super) async fn refine_round(
        &self,
        units: &[Unit<'_>],
        results: &mut [SegmentResult],
        usage: &mut BTreeMap<String, Usage>,
    ) -> bool {
        if !self.refines() {
            return false;
        }
        let mut eligible: Vec<bool> = vec![true; units.len()];
        let mut any = false;
        for _ in 0..self.refine {
            let asks = self.asks(units, results, &eligible);
            if asks.is_empty() || self.is_cancelled() {
                break;
            }
            any = true;
            eligible = vec![false; units.len()];
            let mut pending = Vec::new();
            let mut claims = HashMap::new();
            let mut follows = Vec::new();
            let mut decisions = Vec::new();
            let mut todo: Vec<usize> = asks.keys().copied().collect();
            todo.sort_unstable();
            let keys: HashMap<usize, Vec<CacheKey>> =
                asks.iter().map(|(i, ask)| (*i, ask.keys.clone())).collect();
            // The same question in flight for another paragraph of the run is asked once.
            for (i, claimed) in self.claim(&todo, &keys) {
                let Some(ask) = asks.get(&i) else { continue };
                match claimed {
                    Claimed::Found(entry) => {
                        eligible[i] = self.judge(
                            &units[i],
                            &mut results[i],
                            ask,
                            Ok(entry),
                            true,
                            &mut decisions,
                        );
                    }
                    Claimed::Lead(claim) => {
                        pending.push(i);
                        claims.extend(claim.map(|c| (i, c)));
                    }
                    Claimed::Follow(rx) => follows.push((i, rx)),
                }
            }
            pending.sort_unstable();
            let waits = join_all(
                follows
                    .into_iter()
                    .map(|(i, rx)| async move { (i, self.follow(rx).await) }),
            );
            let ((done, used), waited) = futures_util::future::join(
                self.send_refine(units, results, &asks, &keys, &pending, claims),
                waits,
            )
            .await;
            add_usage(usage, used);
            for (i, outcome) in done {
                if let Some(ask) = asks.get(&i) {
                    eligible[i] = self.judge(
                        &units[i],
                        &mut results[i],
                        ask,
                        outcome,
                        false,
                        &mut decisions,
                    );
                }
            }
            for (i, outcome) in waited {
                let outcome = outcome.unwrap_or_else(|| {
                    Err(SegmentFailure::new(
                        FailureKind::NotSent,
                        "not sent: the same request of another file ended without a reply",
                    ))
                });
                if let Some(ask) = asks.get(&i) {
                    eligible[i] = self.judge(
                        &units[i],
                        &mut results[i],
                        ask,
                        outcome,
                        true,
                        &mut decisions,
                    );
                }
            }
            // The round's decisions, for the cache to know each paragraph's final English
            // (`cache export`): one write for the round.
            self.remember(&decisions);
        }
        any
    }

    /// The paragraphs to send back now: finished, eligible, with an error-level finding.
    fn asks(
        &self,
        units: &[Unit<'_>],
        results: &[SegmentResult],
        eligible: &[bool],
    ) -> HashMap<usize, Ask> {
        let mut asks = HashMap::new();
        for (i, (unit, result)) in units.iter().zip(results).enumerate() {
            let Some(output) = result.final_text.as_deref() else {
                continue;
            };
            // A memory's English is what a person approved: verified, never sent back.
            if !eligible[i]
                || result.error.is_some()
                || result.final_backend.as_deref() == Some(super::translate::MEMORY)
            {
                continue;
            }
            let errors: Vec<Finding> =
                errors(&self.check(unit, result.draft.as_deref(), output, &result.notes))
                    .cloned()
                    .collect();
            if errors.is_empty() {
                continue;
            }
            let revision = revision(unit, output, &errors);
            // The key: what the main pass reads, the earlier answer and its problems as sent.
            let wire = serde_json::to_string(&revision).unwrap_or_default();
            let source = format!(
                "{}\u{1f}{wire}",
                self.read_by(PassKind::Refine, unit, result)
            );
            let keys = self
                .main
                .members
                .iter()
                .map(|member| {
                    let hash = member
                        .chat()
                        .and_then(|c| c.refine.as_ref())
                        .map_or("", |r| r.prompt_hash.as_str());
                    self.key_for(PassKind::Refine, hash, member, unit, &source)
                })
                .collect();
            asks.insert(
                i,
                Ask {
                    revision,
                    errors,
                    keys,
                },
            );
        }
        asks
    }

    /// Send the paragraphs `pending` of `asks` (with their `keys`, one per member of the main
    /// pass) back in batches: the outcomes, and what the replies reported.
    async fn send_refine(
        &self,
        units: &[Unit<'_>],
        results: &[SegmentResult],
        asks: &HashMap<usize, Ask>,
        keys: &HashMap<usize, Vec<CacheKey>>,
        pending: &[usize],
        mut claims: HashMap<usize, Claim<'_>>,
    ) -> (Vec<Done>, BTreeMap<String, Usage>) {
        let revisions: HashMap<usize, Revision> = pending
            .iter()
            .filter_map(|i| Some((*i, asks.get(i)?.revision.clone())))
            .collect();
        let run = PassRun::refining(self, &self.main, units, results, &revisions);
        let batches = match run.serving() {
            Some((_, member)) => plan_batches(member, units, pending),
            None => return (Vec::new(), BTreeMap::new()),
        };
        let done = join_all(
            batches
                .into_iter()
                .map(|range| settling(&mut claims, range.clone(), run.batch(keys, range))),
        )
        .await
        .into_iter()
        .flatten()
        .collect();
        (done, run.into_usage())
    }

    /// Record an answer (or its failure) and keep the new text if it improves on the old; the
    /// decision joins `decisions`, for the cache. True when it was kept and errors remain
    /// (worth another round).
    fn judge(
        &self,
        unit: &Unit<'_>,
        result: &mut SegmentResult,
        ask: &Ask,
        outcome: Result<Entry, SegmentFailure>,
        cached: bool,
        decisions: &mut Vec<(CacheKey, Entry)>,
    ) -> bool {
        let before = result.final_text.clone().unwrap_or_default();
        let refinement = result.refine.get_or_insert_with(|| Refinement {
            rounds: 0,
            before: before.clone(),
            findings_before: ask.errors.clone(),
            after: None,
            findings_after: Vec::new(),
            outcome: RefineOutcome::Failed,
            notes: Vec::new(),
            backend: None,
            cached: false,
            error: None,
        });
        let entry = match outcome {
            Ok(entry) => entry,
            Err(failure) => {
                if refinement.after.is_none() {
                    refinement.error = Some(failure.message);
                }
                return false;
            }
        };
        refinement.rounds = refinement.rounds.saturating_add(1);
        let found = self.check(unit, result.draft.as_deref(), &entry.text, &entry.notes);
        let accepted = improves(&ask.errors, &found);
        let kept = if accepted { &entry.text } else { &before };
        decisions.push((
            CacheKey::refined(&unit.seg.text, &before),
            Entry {
                text: kept.clone(),
                literal: None,
                notes: Vec::new(),
                pass: REFINED.to_owned(),
                backend: entry.backend.clone(),
                model: entry.model.clone(),
                source: unit.seg.text.clone(),
                terms: Vec::new(),
            },
        ));
        let improved_before = matches!(
            refinement.outcome,
            RefineOutcome::Resolved | RefineOutcome::Improved
        );
        if !accepted && improved_before {
            // An earlier round's text stays, and with it the record of that round.
            return false;
        }
        let remaining = errors(&found).count();
        refinement.outcome = match (accepted, remaining) {
            (true, 0) => RefineOutcome::Resolved,
            (true, _) => RefineOutcome::Improved,
            (false, _) => RefineOutcome::Kept,
        };
        refinement.after = Some(entry.text.clone());
        refinement.findings_after = found;
        refinement.notes = entry.notes;
        refinement.backend = Some(entry.backend.clone());
        refinement.cached = cached;
        refinement.error = None;
        if accepted {
            result.final_text = Some(entry.text);
            result.final_backend = Some(entry.backend);
        }
        accepted && remaining > 0
    }
}

/// What goes back with a paragraph: its earlier answer and the errors in it, masked like the
/// segment (a span of the German or of the answer that holds protected text is sent as its
/// marker).
fn revision(unit: &Unit<'_>, previous: &str, errors: &[Finding]) -> Revision {
    let masked = &unit.masked;
    Revision {
        previous: masked.draft(previous),
        problems: errors
            .iter()
            .map(|f| Flagged {
                check: f.check.id().to_owned(),
                rule: f.rule.to_owned(),
                message: masked.draft(&f.message),
                span: f
                    .output_span
                    .clone()
                    .and_then(|span| masked.excerpt(previous, span)),
                de: f
                    .source_span
                    .clone()
                    .and_then(|span| masked.excerpt(&unit.seg.text, span)),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::SegmentId;
    use crate::verify::Check;

    fn finding(check: Check, rule: &'static str, severity: Severity) -> Finding {
        Finding {
            segment: Some(SegmentId(0)),
            check,
            rule,
            severity,
            message: format!("{rule} here"),
            source_span: None,
            output_span: None,
        }
    }

    fn error(check: Check, rule: &'static str) -> Finding {
        finding(check, rule, Severity::Error)
    }

    #[test]
    fn fewer_errors_of_no_new_kind_improve() {
        let scale = error(Check::Quantity, "wrong-scale");
        let number = error(Check::Quantity, "missing-number");
        assert!(improves(std::slice::from_ref(&scale), &[]), "resolved");
        assert!(improves(
            &[scale.clone(), number.clone()],
            std::slice::from_ref(&number)
        ));
        assert!(improves(
            &[number.clone(), number.clone()],
            std::slice::from_ref(&number)
        ));
    }

    #[test]
    fn the_same_errors_or_a_new_kind_do_not() {
        let scale = error(Check::Quantity, "wrong-scale");
        let number = error(Check::Quantity, "missing-number");
        let name = error(Check::Name, "missing-name");
        let one = std::slice::from_ref(&scale);
        assert!(!improves(one, one), "unchanged");
        assert!(!improves(one, std::slice::from_ref(&number)), "swapped");
        assert!(
            !improves(
                &[scale.clone(), name.clone()],
                std::slice::from_ref(&number)
            ),
            "fewer, but a kind the old text did not have"
        );
        assert!(
            !improves(
                &[scale.clone(), name.clone(), name.clone()],
                &[scale.clone(), scale.clone()]
            ),
            "fewer, but more of one kind"
        );
        assert!(!improves(&[], &[]), "nothing to resolve");
    }

    #[test]
    fn only_errors_count() {
        let scale = error(Check::Quantity, "wrong-scale");
        let residue = finding(Check::Language, "german-residue", Severity::Warning);
        assert!(improves(
            std::slice::from_ref(&scale),
            std::slice::from_ref(&residue)
        ));
        assert!(!improves(
            &[scale.clone(), residue.clone()],
            std::slice::from_ref(&scale)
        ));
    }

    fn refinement(outcome: RefineOutcome, after: Vec<Finding>) -> Refinement {
        Refinement {
            rounds: 1,
            before: "Nvidia is nearing a $4 billion valuation.".to_owned(),
            findings_before: vec![
                error(Check::Quantity, "wrong-scale"),
                finding(Check::Name, "x", Severity::Warning),
            ],
            after: Some("Nvidia is nearing a $4 trillion valuation.".to_owned()),
            findings_after: after,
            outcome,
            notes: Vec::new(),
            backend: Some("openai".to_owned()),
            cached: false,
            error: None,
        }
    }

    #[test]
    fn summaries_name_the_errors() {
        assert_eq!(
            refinement(RefineOutcome::Resolved, Vec::new()).summary(),
            "refined: resolved ✗ quantity/wrong-scale"
        );
        assert_eq!(
            refinement(
                RefineOutcome::Kept,
                vec![error(Check::Quantity, "wrong-scale")]
            )
            .summary(),
            "refine tried, kept the first version: the new one has ✗ quantity/wrong-scale"
        );
        let improved = refinement(
            RefineOutcome::Improved,
            vec![error(Check::Name, "missing-name")],
        );
        assert_eq!(
            improved.summary(),
            "refined: fewer errors (was ✗ quantity/wrong-scale), still ✗ name/missing-name"
        );
        let mut failed = refinement(RefineOutcome::Failed, Vec::new());
        failed.error = Some("openai: HTTP 500".to_owned());
        assert_eq!(
            failed.summary(),
            "refine tried, kept the first version: openai: HTTP 500"
        );
    }
}
