//! The offline repair pass: deterministic fixes for the typography that machine translation
//! breaks in German (glued and mixed quotation marks, hyphen glue, clause dashes written as
//! hyphens, glued dots, doubled spaces and punctuation), applied to one segment at a time.
//! Every fix is recorded as a [`Repair`] against the original input so it can be shown and
//! reviewed; things that need a human or the model (unbalanced quotes, a heading fused onto a
//! paragraph) are reported as [`Flag`]s and never changed. No rule adds, removes or changes a
//! letter or digit, nothing inside a protected range is touched, and a second run finds nothing.

mod document;
mod edit;
mod heading;
mod hyphens;
mod ledger;
mod punctuation;
mod quotes;
mod scan;
#[cfg(test)]
mod tests;

use std::ops::Range;

pub use document::{RepairMark, RepairedDocument, RepairedSegment, repair_document};
use edit::EditSet;
use ledger::Ledger;

/// One kind of fix (or, for [`Rule::FusedHeading`], of flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    GluedQuote,
    QuoteStyle,
    SuspendedHyphen,
    ClauseDash,
    SpacedHyphen,
    GluedDot,
    DoubleSpace,
    DoublePunctuation,
    FusedHeading,
}

impl Rule {
    pub const ALL: [Rule; 9] = [
        Rule::GluedQuote,
        Rule::QuoteStyle,
        Rule::SuspendedHyphen,
        Rule::ClauseDash,
        Rule::SpacedHyphen,
        Rule::GluedDot,
        Rule::DoubleSpace,
        Rule::DoublePunctuation,
        Rule::FusedHeading,
    ];

    /// Stable identifier, as used in reports and configuration.
    pub fn id(self) -> &'static str {
        match self {
            Rule::GluedQuote => "glued-quote",
            Rule::QuoteStyle => "quote-style",
            Rule::SuspendedHyphen => "suspended-hyphen",
            Rule::ClauseDash => "clause-dash",
            Rule::SpacedHyphen => "spaced-hyphen",
            Rule::GluedDot => "glued-dot",
            Rule::DoubleSpace => "double-space",
            Rule::DoublePunctuation => "double-punctuation",
            Rule::FusedHeading => "fused-heading",
        }
    }

    /// One short English line for reports and the review screen.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::GluedQuote => "space a quotation mark away from the word it was glued to",
            Rule::QuoteStyle => "use German quotation marks „…“ throughout the paragraph",
            Rule::SuspendedHyphen => "add the missing space after a suspended hyphen (AWS- und)",
            Rule::ClauseDash => "turn a hyphen between two clauses into a spaced en dash",
            Rule::SpacedHyphen => "remove the stray space before a compound hyphen (CD-ROM)",
            Rule::GluedDot => "separate a name that starts with a dot (.NET) from the word before",
            Rule::DoubleSpace => "collapse repeated spaces between words",
            Rule::DoublePunctuation => "remove doubled punctuation and spaces before , and .",
            Rule::FusedHeading => "a heading seems fused onto the end of the paragraph",
        }
    }
}

/// One recorded fix: `input[range] == before` became `after`.
///
/// Convention: the range covers the marks that change plus any spaces removed next to them;
/// an inserted space is part of `after`, next to the mark it separates (`”` → ` „`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Repair {
    pub rule: Rule,
    pub range: Range<usize>,
    pub before: String,
    pub after: String,
}

impl Repair {
    /// `before` and `after` widened by up to `chars` characters of the input on each side, for
    /// display (`:”W` → `: „W` reads better than `”` → ` „`).
    pub fn in_context(&self, input: &str, chars: usize) -> (String, String) {
        let start = self.range.start.min(input.len());
        let end = self.range.end.clamp(start, input.len());
        let left: String = {
            let head = input.get(..start).unwrap_or_default();
            let mut taken: Vec<char> = head.chars().rev().take(chars).collect();
            taken.reverse();
            taken.into_iter().collect()
        };
        let right: String = input
            .get(end..)
            .unwrap_or_default()
            .chars()
            .take(chars)
            .collect();
        (
            format!("{left}{}{right}", self.before),
            format!("{left}{}{right}", self.after),
        )
    }
}

/// Something the repair pass noticed but must not fix on its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub rule: Rule,
    pub range: Range<usize>,
    pub message: String,
}

/// The repaired segment with its records.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Repaired {
    pub text: String,
    pub repairs: Vec<Repair>,
    pub flags: Vec<Flag>,
}

/// A rule that proposes edits on the current text.
type Pass = fn(&str, &mut EditSet);

/// Order matters only for how records merge: spacing and punctuation first, so the quote pass
/// sees settled neighbours; a later pass that rewrites an earlier fix absorbs it into one record.
const PASSES: [Pass; 7] = [
    punctuation::double_punctuation,
    punctuation::double_space,
    hyphens::spaced_hyphen,
    hyphens::suspended_hyphen,
    hyphens::clause_dash,
    punctuation::glued_dot,
    quotes::normalise,
];

/// Rounds until no pass proposes anything; real text settles in one, the bound guards
/// against a rule interaction we have not foreseen.
const MAX_ROUNDS: usize = 6;

/// Repair one segment. `protected` = byte ranges of `text` that must not be changed (inline code,
/// URLs, markup prefixes); sorted, non-overlapping.
pub fn repair(text: &str, protected: &[Range<usize>]) -> Repaired {
    let protected: Vec<Range<usize>> = protected
        .iter()
        .map(|r| r.start.min(text.len())..r.end.min(text.len()))
        .filter(|r| r.start < r.end)
        .collect();
    let mut ledger = Ledger::new(text);
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for pass in PASSES {
            let current = ledger.current();
            let guarded: Vec<Range<usize>> =
                protected.iter().map(|r| ledger.to_current(r)).collect();
            let mut edits = EditSet::new(&current, &guarded);
            pass(&current, &mut edits);
            let edits = edits.into_edits();
            if !edits.is_empty() {
                ledger.compose(&current, edits);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut flags = quotes::flags(text, &protected);
    flags.extend(heading::flags(text, &protected));
    flags.sort_by_key(|f| (f.range.start, f.range.end));
    Repaired {
        text: ledger.current(),
        repairs: ledger.into_repairs(),
        flags,
    }
}

/// Apply recorded repairs to the input (used to prove the records are exact).
///
/// Repairs are applied in range order; one that overlaps an earlier one or does not fit the
/// text is skipped rather than trusted.
pub fn apply(text: &str, repairs: &[Repair]) -> String {
    let mut sorted: Vec<&Repair> = repairs.iter().collect();
    sorted.sort_by_key(|r| (r.range.start, r.range.end));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in sorted {
        if r.range.start < last || text.get(r.range.clone()).is_none() {
            continue;
        }
        out.push_str(&text[last..r.range.start]);
        out.push_str(&r.after);
        last = r.range.end;
    }
    out.push_str(&text[last..]);
    out
}
