//! Contract tests for the whole pass: exact records, idempotence, letters and digits kept,
//! protected ranges untouched, silence on clean German, and the project's samples.

use std::collections::BTreeSet;
use std::ops::Range;

use proptest::prelude::*;

use super::{Repaired, Rule, apply, repair};

const CLEAN_DE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/clean-de.txt"
));
const TECH_NEWS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/tech-news.de.txt"
));
const CLOUD_REPORT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/cloud-report.de.md"
));
const INTERVIEW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/interview.de.txt"
));

fn letters_and_digits(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Where a protected range of the input sits in the output.
fn shifted(range: &Range<usize>, r: &Repaired) -> Range<usize> {
    let map = |pos: usize| {
        let growth: isize = r
            .repairs
            .iter()
            .filter(|x| x.range.end <= pos)
            .map(|x| x.after.len() as isize - x.before.len() as isize)
            .sum();
        pos.checked_add_signed(growth)
            .expect("shift stays in range")
    };
    map(range.start)..map(range.end)
}

/// Repair `text` and assert every promise of the contract; returns the result.
fn checked_repair(text: &str, protected: &[Range<usize>]) -> Repaired {
    let r = repair(text, protected);
    let mut last = 0;
    for x in &r.repairs {
        assert!(x.range.start >= last, "sorted, disjoint: {:?}", r.repairs);
        assert!(x.range.start < x.range.end, "non-empty range: {x:?}");
        assert_eq!(
            text.get(x.range.clone()),
            Some(x.before.as_str()),
            "exact before"
        );
        assert!(
            protected
                .iter()
                .all(|p| x.range.end <= p.start || p.end <= x.range.start),
            "repair {x:?} touches protected {protected:?}"
        );
        last = x.range.end;
    }
    assert_eq!(
        apply(text, &r.repairs),
        r.text,
        "records reproduce the output"
    );
    assert_eq!(
        letters_and_digits(text),
        letters_and_digits(&r.text),
        "letters kept"
    );
    let moved: Vec<Range<usize>> = protected.iter().map(|p| shifted(p, &r)).collect();
    for (p, m) in protected.iter().zip(&moved) {
        assert_eq!(
            text.get(p.clone()),
            r.text.get(m.clone()),
            "protected text kept"
        );
    }
    let again = repair(&r.text, &moved);
    assert!(
        again.repairs.is_empty(),
        "idempotent: {text:?} → {:?} → {:?}",
        r.text,
        again.repairs
    );
    r
}

#[test]
fn clean_german_triggers_nothing() {
    let paragraphs: Vec<&str> = CLEAN_DE
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    assert!(
        paragraphs.len() >= 35,
        "corpus has {} paragraphs",
        paragraphs.len()
    );
    let noisy: Vec<String> = paragraphs
        .iter()
        .filter_map(|p| {
            let r = repair(p, &[]);
            (!r.repairs.is_empty() || !r.flags.is_empty())
                .then(|| format!("{p}\n  repairs: {:?}\n  flags: {:?}", r.repairs, r.flags))
        })
        .collect();
    assert!(
        noisy.is_empty(),
        "rules fired on clean German:\n{}",
        noisy.join("\n")
    );
}

#[test]
fn records_are_readable_in_context() {
    let input = "Sie erklärte:”Wir bleiben.”Danach ging sie.";
    let r = checked_repair(input, &[]);
    let shown: Vec<(String, String)> = r.repairs.iter().map(|x| x.in_context(input, 1)).collect();
    assert_eq!(
        shown,
        [
            (":”W".to_owned(), ": „W".to_owned()),
            (".”D".to_owned(), ".“ D".to_owned()),
        ]
    );
}

#[test]
fn rules_have_ids_and_descriptions() {
    let ids: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(ids.len(), Rule::ALL.len());
    for rule in Rule::ALL {
        let json = serde_json::to_string(&rule).expect("a unit variant serialises");
        assert_eq!(json, format!("\"{}\"", rule.id()));
        assert!(!rule.describe().is_empty());
    }
}

/// Pieces the random strings are built from: single marks plus tokens that wake the rules.
const ALPHABET: [&str; 40] = [
    "a", "e", "n", "s", "A", "N", "ä", "ö", "ü", "Ü", "ß", "1", "7", " ", " ", "  ", "-", ".", ",",
    ":", "\"", "“", "”", "„", "»", "«", "'", "!", "?", "\n", "und ", "wir ", "das", ".NET",
    "CD -ROM", " - ", "..", "können", "Ende. ", "…",
];

fn german_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&ALPHABET[..]), 0..40).prop_map(|v| v.concat())
}

/// Random disjoint protected ranges on char boundaries.
fn with_protected() -> impl Strategy<Value = (String, Vec<Range<usize>>)> {
    (
        german_ish(),
        prop::collection::vec((0usize..60, 0usize..8), 0..4),
    )
        .prop_map(|(text, picks)| {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let mut ranges: Vec<Range<usize>> = picks
                .into_iter()
                .map(|(at, len)| {
                    let start = at % bounds.len();
                    let end = (start + len).min(bounds.len() - 1);
                    bounds[start]..bounds[end]
                })
                .filter(|r| !r.is_empty())
                .collect();
            ranges.sort_by_key(|r| r.start);
            let mut disjoint: Vec<Range<usize>> = Vec::new();
            for r in ranges {
                match disjoint.last_mut() {
                    Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                    _ => disjoint.push(r),
                }
            }
            (text, disjoint)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn contract_holds_on_random_text(text in german_ish()) {
        checked_repair(&text, &[]);
    }

    #[test]
    fn protected_ranges_are_untouched((text, protected) in with_protected()) {
        checked_repair(&text, &protected);
    }
}

/// A sample split into segments the way the segment module would, roughly: blank-line
/// paragraphs (or lines, for one-paragraph-per-line text), fenced code wholly protected, inline
/// code, link targets, URLs and line-start markup protected.
fn segments(text: &str, per_line: bool) -> Vec<(String, Vec<Range<usize>>)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_fence = false;
    let flush = |current: &mut String, out: &mut Vec<(String, Vec<Range<usize>>)>, fenced: bool| {
        if !current.trim().is_empty() {
            let protected = if fenced {
                std::iter::once(0..current.len()).collect()
            } else {
                markup(current)
            };
            out.push((std::mem::take(current), protected));
        }
        current.clear();
    };
    for line in text.lines() {
        if line.starts_with("```") {
            if in_fence {
                current.push_str(line);
                flush(&mut current, &mut out, true);
            } else {
                flush(&mut current, &mut out, false);
                current.push_str(line);
                current.push('\n');
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            current.push_str(line);
            current.push('\n');
        } else if line.trim().is_empty() {
            flush(&mut current, &mut out, false);
        } else {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line);
            if per_line {
                flush(&mut current, &mut out, false);
            }
        }
    }
    flush(&mut current, &mut out, in_fence);
    out
}

fn markup(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let marker = ["# ", "## ", "### ", "- ", "* "]
            .iter()
            .find(|m| line.starts_with(**m));
        if let Some(m) = marker {
            ranges.push(line_start..line_start + m.len());
        }
        line_start += line.len();
    }
    let mut open_tick = None;
    for (i, c) in text.char_indices() {
        if c == '`' {
            match open_tick.take() {
                Some(start) => ranges.push(start..i + 1),
                None => open_tick = Some(i),
            }
        }
    }
    for (i, _) in text.match_indices("](") {
        if let Some(len) = text[i..].find(')') {
            ranges.push(i + 2..i + len);
        }
    }
    for (i, _) in text.match_indices("https://") {
        let len = text[i..]
            .find(char::is_whitespace)
            .unwrap_or(text.len() - i);
        ranges.push(i..i + len);
    }
    ranges.sort_by_key(|r| r.start);
    let mut disjoint: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match disjoint.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => disjoint.push(r),
        }
    }
    disjoint
}

/// A review-style listing of everything the pass did to one sample, for the snapshot.
fn report(text: &str, per_line: bool) -> (String, BTreeSet<Rule>) {
    let mut lines = Vec::new();
    let mut fired = BTreeSet::new();
    for (n, (segment, protected)) in segments(text, per_line).iter().enumerate() {
        let r = checked_repair(segment, protected);
        for x in &r.repairs {
            fired.insert(x.rule);
            let (before, after) = x.in_context(segment, 3);
            lines.push(format!("§{n} {:<18} {before:?} → {after:?}", x.rule.id()));
        }
        for f in &r.flags {
            fired.insert(f.rule);
            lines.push(format!("§{n} {:<18} flag: {}", f.rule.id(), f.message));
        }
    }
    (lines.join("\n"), fired)
}

fn assert_rules(fired: &BTreeSet<Rule>, at_least: usize, must: &[Rule]) {
    assert!(fired.len() >= at_least, "only {fired:?} fired");
    for rule in must {
        assert!(
            fired.contains(rule),
            "{rule:?} did not fire; fired: {fired:?}"
        );
    }
}

#[test]
fn tech_news_sample() {
    let (listing, fired) = report(TECH_NEWS, true);
    assert_rules(
        &fired,
        6,
        &[
            Rule::GluedQuote,
            Rule::QuoteStyle,
            Rule::SuspendedHyphen,
            Rule::ClauseDash,
            Rule::FusedHeading,
        ],
    );
    insta::assert_snapshot!(listing);
}

#[test]
fn cloud_report_sample() {
    let (listing, fired) = report(CLOUD_REPORT, false);
    assert_rules(
        &fired,
        5,
        &[Rule::GluedDot, Rule::SuspendedHyphen, Rule::DoubleSpace],
    );
    let code_kept = segments(CLOUD_REPORT, false)
        .iter()
        .filter(|(s, _)| s.starts_with("```"))
        .all(|(s, p)| repair(s, p).repairs.is_empty());
    assert!(code_kept, "fenced code must stay untouched");
    insta::assert_snapshot!(listing);
}

#[test]
fn interview_sample() {
    let (listing, fired) = report(INTERVIEW, false);
    assert_rules(
        &fired,
        5,
        &[Rule::GluedQuote, Rule::QuoteStyle, Rule::DoublePunctuation],
    );
    insta::assert_snapshot!(listing);
}
