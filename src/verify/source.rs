//! Warnings about the German alone, which hold before any translation: what the offline repair
//! pass flags (a fused heading, unbalanced quotes) or would fix, a subordinate clause standing
//! as a sentence of its own (a fragment: its main clause got lost), marks of omitted text, and
//! "KI-" next to "AI-" compounds in one paragraph. Each heuristic is narrow on purpose.

use std::collections::BTreeMap;

use super::text::{sentences, tokens};
use super::{Check, Finding, Severity};
use crate::repair::{self, Rule};
use crate::segment::SegmentId;

pub(super) fn check(id: SegmentId, source: &str) -> Vec<Finding> {
    let mut findings = repair_findings(id, source);
    findings.extend(fragments(id, source));
    findings.extend(omissions(id, source));
    findings.extend(variants(id, source));
    findings
}

fn finding(id: SegmentId, rule: &'static str, severity: Severity, message: String) -> Finding {
    Finding::new(id, Check::Source, rule, severity, message)
}

/// Repair flags become warnings; repairs become one info per rule ("repairable offline").
fn repair_findings(id: SegmentId, source: &str) -> Vec<Finding> {
    let repaired = repair::repair(source, &[]);
    let mut findings: Vec<Finding> = repaired
        .flags
        .iter()
        .map(|flag| {
            let rule = match flag.rule {
                Rule::QuoteStyle => "unbalanced-quotes",
                other => other.id(),
            };
            finding(id, rule, Severity::Warning, flag.message.clone()).in_source(flag.range.clone())
        })
        .collect();
    let mut by_rule: BTreeMap<Rule, Vec<&repair::Repair>> = BTreeMap::new();
    for r in &repaired.repairs {
        by_rule.entry(r.rule).or_default().push(r);
    }
    for (rule, repairs) in by_rule {
        let times = match repairs.len() {
            1 => String::new(),
            n => format!(" ({n}×)"),
        };
        let message = format!("repairable offline: {}{times}", rule.describe());
        findings.push(
            finding(id, rule.id(), Severity::Info, message).in_source(repairs[0].range.clone()),
        );
    }
    findings
}

/// Words that open a subordinate clause.
const SUBORDINATORS: [&str; 11] = [
    "was", "wie", "wenn", "weil", "dass", "obwohl", "während", "indem", "nachdem", "sobald", "da",
];

/// Words that can open a clause's subject; after "da" or "wie" they mark the conjunction
/// ("Da die Kosten steigen") rather than the adverb ("Da war nichts zu machen").
const SUBJECT_STARTS: [&str; 20] = [
    "der", "die", "das", "ein", "eine", "einer", "ich", "du", "er", "sie", "es", "wir", "ihr",
    "man", "sich", "dieser", "diese", "dieses", "viele", "alle",
];

/// Finite verbs that commonly end a subordinate clause.
const FINITE_VERBS: [&str; 30] = [
    "hat", "haben", "hatte", "hatten", "ist", "sind", "war", "waren", "wird", "werden", "wurde",
    "wurden", "kann", "können", "konnte", "konnten", "muss", "müssen", "musste", "soll", "sollen",
    "sollte", "will", "wollen", "wollte", "sei", "seien", "habe", "würde", "würden",
];

/// Lower-case words ending like verbs that are not verbs.
const NOT_VERBS: [&str; 12] = [
    "nicht", "jetzt", "erst", "zuletzt", "meist", "selbst", "fast", "längst", "bereit", "leicht",
    "gut", "oben",
];

/// A sentence that opens with a subordinating word, has no comma (so no main clause can follow
/// the subordinate one) and ends on a finite verb: "Was einst eine enge Partnerschaft war,
/// …" is fine, "Was einst eine enge Partnerschaft in offene Rivalität verwandelt hat." is not.
fn fragments(id: SegmentId, source: &str) -> Vec<Finding> {
    sentences(source)
        .into_iter()
        .filter(|span| is_fragment(&source[span.clone()]))
        .map(|span| {
            let message = format!(
                "sentence fragment: a subordinate clause without a main clause: \"{}\"",
                &source[span.clone()]
            );
            finding(id, "fragment", Severity::Warning, message).in_source(span)
        })
        .collect()
}

fn is_fragment(sentence: &str) -> bool {
    let body = sentence.trim_start_matches(['„', '"', '“', '»', '(', '*', '_', ' ']);
    let ending = body.trim_end_matches(['"', '“', '”', '«', '»', ')', '*', '_']);
    if !ending.ends_with(['.', '!', '…']) || body.contains([',', ';', ':', '–', '—']) {
        return false;
    }
    let words: Vec<&str> = body
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let ([first, second, ..], Some(last)) = (words.as_slice(), words.last()) else {
        return false;
    };
    let first = first.to_lowercase();
    let second_lower = second.to_lowercase();
    if words.len() < 4 || !SUBORDINATORS.contains(&first.as_str()) {
        return false;
    }
    let second_is_subject = second.chars().next().is_some_and(char::is_uppercase)
        || SUBJECT_STARTS.contains(&second_lower.as_str());
    let adverb_use = match first.as_str() {
        "da" | "wie" => !second_is_subject,
        "was" => second_lower == "für",
        // "Während des Treffens …" is the preposition.
        "während" => {
            ["des", "eines", "einer", "dieses", "seines", "ihres"].contains(&second_lower.as_str())
        }
        _ => false,
    };
    let before_last = words.get(words.len().wrapping_sub(2)).copied();
    !adverb_use && ends_on_finite_verb(last, before_last)
}

fn ends_on_finite_verb(last: &str, before: Option<&str>) -> bool {
    if !last.chars().next().is_some_and(char::is_lowercase) || before == Some("zu") {
        return false;
    }
    FINITE_VERBS.contains(&last)
        || (!NOT_VERBS.contains(&last)
            && ["t", "en", "te", "ten"].iter().any(|e| last.ends_with(e)))
}

/// Words that stand in square brackets for text that is missing: template placeholders and
/// the labels scrapers leave where an embed was. A name in brackets (`[Nvidia]`) is an editor's
/// clarification inside a quote, not an omission, so only these words count.
#[rustfmt::skip]
const PLACEHOLDERS: [&str; 28] = [
    "autor", "betrag", "bild", "company", "datum", "date", "firma", "foto", "grafik", "kunde",
    "link", "marke", "name", "nachname", "ort", "person", "placeholder", "platzhalter", "produkt",
    "quelle", "stadt", "summe", "text", "titel", "unternehmen", "video", "vorname", "zitat",
];

/// Marks of omitted text: `[…]`, `[...]`, `(…)`, `(...)`, a placeholder word in square
/// brackets (`[Firma]`, `[Foto]`), and a sentence cut off with `…` in the middle of a paragraph.
fn omissions(id: SegmentId, source: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for mark in ["[…]", "[...]", "(…)", "(...)"] {
        for (at, _) in source.match_indices(mark) {
            let message = format!("text was left out here ({mark})");
            findings.push(
                finding(id, "omission", Severity::Warning, message).in_source(at..at + mark.len()),
            );
        }
    }
    for (open, _) in source.match_indices('[') {
        let Some(len) = source[open + 1..].find(']') else {
            continue;
        };
        let close = open + 1 + len;
        let word = &source[open + 1..close];
        let placeholder = PLACEHOLDERS.contains(&word.to_lowercase().as_str())
            && !source[..open].ends_with(['!', ']'])
            && !source[close + 1..].starts_with(['(', '[', ':']);
        if placeholder {
            let message = format!("placeholder [{word}] instead of text");
            findings.push(
                finding(id, "omission", Severity::Warning, message).in_source(open..close + 1),
            );
        }
    }
    let all = sentences(source);
    for span in all.iter().take(all.len().saturating_sub(1)) {
        let sentence = &source[span.clone()];
        let cut = sentence
            .strip_suffix('…')
            .or_else(|| sentence.strip_suffix("..."))
            .is_some_and(|head| head.ends_with(char::is_alphabetic));
        if cut {
            let message = "a sentence breaks off with an ellipsis mid-paragraph".to_owned();
            findings
                .push(finding(id, "omission", Severity::Warning, message).in_source(span.clone()));
        }
    }
    findings
}

/// "KI" and "AI" compounds in one paragraph ("KI-Chips" beside "AI-Chips").
fn variants(id: SegmentId, source: &str) -> Option<Finding> {
    let compound = |range: &std::ops::Range<usize>| source[range.end..].starts_with('-');
    let all = tokens(source);
    let ki = all.iter().find(|(_, w)| *w == "KI")?;
    let ai = all.iter().find(|(r, w)| *w == "AI" && compound(r))?;
    let start = ki.0.start.min(ai.0.start);
    let end = ki.0.end.max(ai.0.end);
    Some(
        finding(
            id,
            "inconsistent-variants",
            Severity::Info,
            "both \"KI\" and \"AI\" compounds in one paragraph (\"KI-…\" beside \"AI-…\")"
                .to_owned(),
        )
        .in_source(start..end),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(de: &str) -> Vec<&'static str> {
        check(SegmentId(0), de)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn fragments_are_subordinate_clauses_alone() {
        assert_eq!(
            rules("Was einst eine enge Partnerschaft in offene Rivalität verwandelt hat."),
            ["fragment"]
        );
        assert_eq!(rules("Da die Kosten weiter steigen."), ["fragment"]);
        assert_eq!(rules("Weil der Vertrag ausläuft."), ["fragment"]);
        for fine in [
            "Was einst eine Beziehung war, ist heute Rivalität.",
            "Was bedeutet das für die Kunden?",
            "Da war nichts mehr zu machen.",
            "Wie erwartet stieg der Kurs deutlich.",
            "Während des Treffens sprach der Chef über Geld.",
            "Während der Konferenz stiegen die Kurse deutlich.",
            "Wenn Sie Fragen haben",
            "Was für ein Jahr.",
        ] {
            assert!(rules(fine).is_empty(), "{fine}: {:?}", rules(fine));
        }
    }

    #[test]
    fn omission_marks() {
        assert_eq!(rules("Er sagte, man werde […] prüfen."), ["omission"]);
        assert_eq!(rules("Der Vertrag mit [Firma] läuft aus."), ["omission"]);
        assert_eq!(
            rules("Der Bericht zeigt, dass die… Die Zahlen sind neu."),
            ["omission"]
        );
        for fine in [
            "Siehe [die Anleitung](https://example.org).",
            "Er schrieb „Fehler [sic]“ in den Bericht.",
            "„Ich glaube, [Nvidia] wird weiter wachsen“, sagte er.",
            "Er zögerte … Dann sprach er weiter.",
            "Und dann kam nichts mehr …",
        ] {
            assert!(rules(fine).is_empty(), "{fine}: {:?}", rules(fine));
        }
    }

    #[test]
    fn ki_beside_ai_is_noted() {
        let found = check(SegmentId(0), "Die KI-Chips und die AI-Chips sind gleich.");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "inconsistent-variants");
        assert_eq!(found[0].severity, Severity::Info);
        assert!(rules("Die KI-Chips von OpenAI sind neu.").is_empty());
    }

    #[test]
    fn repair_flags_and_repairs() {
        let found = check(
            SegmentId(0),
            "Er sagte:”Wir kommen.” Dann ging er:”Bis bald.”",
        );
        let glued: Vec<&Finding> = found.iter().filter(|f| f.rule == "glued-quote").collect();
        assert_eq!(glued.len(), 1, "one per rule: {found:?}");
        assert_eq!(glued[0].severity, Severity::Info);
        assert!(glued[0].message.starts_with("repairable offline:"));
        assert_eq!(
            rules("Die Rechnung lässt keinen Raum für Fehler. Cloud-Kosten-Falle"),
            ["fused-heading"]
        );
        assert!(rules("Sie sagte: „Wir bleiben.").contains(&"unbalanced-quotes"));
    }
}
