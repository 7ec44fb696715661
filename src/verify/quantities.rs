//! The quantity check of the offline `verify` pass: every number, amount, percentage, year and
//! date in the German source must reappear, converted, in the output. Both sides are read into
//! values (German `1.400` and `1,4 Milliarden`, English `1,400` and `$1.4bn`), matched one to
//! one, and what is left over becomes a [`QuantityIssue`]: a value that only appears off by a
//! factor of a thousand or a million (`Billionen` written as "billion", `1.400` read as 1.4), a
//! value that is gone, or a conspicuous number the output added. Separately,
//! [`source_warnings`] points at German scale words that machine translation often got wrong
//! before klartext ever saw the text. Numbers in URLs, e-mail addresses, code spans, product
//! identifiers (`GB300`), footnote markers and clock times are not quantities here.

mod lexicon;
mod read;
#[cfg(test)]
mod tests;

use std::ops::Range;

use lexicon::TokKind;
use read::Scan;

/// One finding of the quantity check.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityIssue {
    /// "wrong-scale" | "missing-number" | "changed-number".
    pub rule: &'static str,
    /// True = error severity, false = warning.
    pub error: bool,
    /// One English line naming the German quantity and what was found.
    pub message: String,
    /// Byte range in the German.
    pub source_span: Option<Range<usize>>,
    /// Byte range in the output, when one is involved.
    pub output_span: Option<Range<usize>>,
}

/// Every quantity of `source` (German) must appear in `output` (English, or German when
/// `output_is_german`).
pub fn check(source: &str, output: &str, output_is_german: bool) -> Vec<QuantityIssue> {
    let (out_lang, side) = if output_is_german {
        (Lang::German, "the German output")
    } else {
        (Lang::English, "the English")
    };
    let german = quantities(source, Lang::German);
    let other = quantities(output, out_lang);
    let (done, mut used) = pair_equal_values(&german, &other);

    let mut issues = Vec::new();
    for q in german
        .iter()
        .zip(&done)
        .filter(|(_, d)| !**d)
        .map(|(q, _)| q)
    {
        let scaled = (0..other.len()).find(|&e| !used[e] && off_by_scale(q, &other[e]));
        if let Some(e) = scaled {
            used[e] = true;
            issues.push(QuantityIssue {
                rule: "wrong-scale",
                error: true,
                message: format!(
                    "{} is {}, {side} says {}",
                    quoted(source, q),
                    spoken(q.value, q.kind),
                    said(output, &other[e])
                ),
                source_span: Some(q.span.clone()),
                output_span: Some(other[e].span.clone()),
            });
            continue;
        }
        // A value said again ("Länge 0 … Länge 0 (null)") that the English says once and then
        // refers to ("zero-length") is not lost.
        if other.iter().any(|o| o.value == q.value && o.kind == q.kind) {
            continue;
        }
        let name = if q.grouped || q.scaled || !q.digits || q.kind == Kind::Percent {
            format!("{} ({})", quoted(source, q), spoken(q.value, q.kind))
        } else {
            quoted(source, q)
        };
        issues.push(QuantityIssue {
            rule: "missing-number",
            // A bare number word ("zwei") is often rendered as "both", "a pair", "twice".
            error: q.digits || q.scaled,
            message: format!("{name} does not appear in {side}"),
            source_span: Some(q.span.clone()),
            output_span: None,
        });
    }

    let leftovers = other
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(q, _)| q);
    for q in leftovers.filter(|q| added(source, output, &german, q)) {
        issues.push(QuantityIssue {
            rule: "changed-number",
            error: false,
            message: format!(
                "{side} has „{}“, which is not in the German",
                shown(output, &q.span)
            ),
            source_span: None,
            output_span: Some(q.span.clone()),
        });
    }
    issues
}

/// One-to-one pairs of equal values: which German quantities found a partner, and which
/// output quantities were taken. Strictest comparison first, so a loose reading cannot take an
/// output quantity that a later German one matches exactly.
fn pair_equal_values(german: &[Quantity], other: &[Quantity]) -> (Vec<bool>, Vec<bool>) {
    let mut done = vec![false; german.len()];
    let mut used = vec![false; other.len()];
    for tier in 0..4 {
        for (g, q) in german.iter().enumerate() {
            if done[g] {
                continue;
            }
            if let Some(e) = (0..other.len()).find(|&e| !used[e] && same_value(q, &other[e], tier))
            {
                used[e] = true;
                done[g] = true;
            }
        }
    }
    (done, used)
}

/// Whether an unpaired output quantity is a number the output made up. Conservative: only
/// digits, only 10 and up, no ordinals or days, nothing whose digits or value the German has
/// anywhere (a year mentioned twice, a number inside an identifier).
fn added(source: &str, output: &str, german: &[Quantity], q: &Quantity) -> bool {
    if !q.digits || q.value.abs() < 10.0 || !matches!(q.kind, Kind::Plain | Kind::Percent) {
        return false;
    }
    let digits: String = output
        .get(q.span.clone())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    !digit_runs(source).contains(&digits.as_str()) && !german.iter().any(|g| same_value(g, q, 3))
}

/// German-only warnings for `klartext check` without a translation: scale words that machine
/// translation typically gets wrong, with spans. Severity warning.
pub fn source_warnings(source: &str) -> Vec<QuantityIssue> {
    let scan = Scan::new(source, Lang::German);
    let found = scan.quantities();
    let mut issues = Vec::new();
    for i in 0..scan.toks.len() {
        let Some(word) = scan.word(i) else { continue };
        if scan.shielded(i) {
            continue;
        }
        let abbreviated = word == "Bio"
            && scan.is_mark(i + 1, ".")
            && i >= 2
            && scan.kind(i - 2) == Some(TokKind::Digits);
        let Some(note) = false_friend_note(word, abbreviated) else {
            continue;
        };
        let at = scan.toks[i].start;
        let span = found
            .iter()
            .find(|q| q.span.contains(&at))
            .map_or(scan.toks[i].start..scan.toks[i].end, |q| q.span.clone());
        issues.push(QuantityIssue {
            rule: "wrong-scale",
            error: false,
            message: format!("check „{}“: {note}", shown(source, &span)),
            source_span: Some(span),
            output_span: None,
        });
    }
    issues
}

fn false_friend_note(word: &str, abbreviated: bool) -> Option<&'static str> {
    if word.starts_with("Billion") || abbreviated {
        Some(
            "Billion = 10^12 (trillion); machine translation often turns English 'billion' into 'Billion'",
        )
    } else if word.starts_with("Billiard") {
        Some(
            "Billiarde = 10^15 (quadrillion); a scale this large is rare, the original may have said 'trillion' or 'billion'",
        )
    } else if word.starts_with("Trillion") {
        Some(
            "Trillion = 10^18 (quintillion); machine translation often turns English 'trillion' into 'Trillion'",
        )
    } else {
        None
    }
}

/// Whether two quantities carry the same value. Tiers loosen the comparison: 0 = primary
/// readings and the same kind, 1 = primary readings, 2 = any reading, 3 = any reading
/// ignoring the sign (English often moves a minus into "fell" or "down").
fn same_value(a: &Quantity, b: &Quantity, tier: u8) -> bool {
    // Two days written with different months are different dates.
    if let (Kind::Day(m), Kind::Day(n)) = (a.kind, b.kind)
        && m != n
    {
        return false;
    }
    match tier {
        0 => a.kind == b.kind && close(a.value, b.value),
        1 => close(a.value, b.value),
        _ => a.readings().any(|x| {
            b.readings()
                .any(|y| close(x, y) || tier >= 3 && close(x.abs(), y.abs()))
        }),
    }
}

/// Off by exactly 10^3 or 10^6, and a scale word or separator is involved — the two ways
/// machine translation shifts a value.
fn off_by_scale(a: &Quantity, b: &Quantity) -> bool {
    if !(a.scaled || b.scaled || a.grouped || b.grouped) || a.value == 0.0 {
        return false;
    }
    [1e3, 1e6, 1e-3, 1e-6]
        .iter()
        .any(|f| b.readings().any(|y| close(a.value * f, y)))
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Digit runs anywhere in the text, identifiers and links included ("GB300" gives "300").
fn digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect()
}

/// The text of a span for a one-line message.
fn shown(text: &str, span: &Range<usize>) -> String {
    text.get(span.clone())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A German quantity for a message: „2“ in „2 bis 3 Milliarden“.
fn quoted(text: &str, q: &Quantity) -> String {
    let value = shown(text, &q.span);
    match &q.range {
        Some(range) => format!("„{value}“ in „{}“", shown(text, range)),
        None => format!("„{value}“"),
    }
}

/// An output quantity for a message: 4 billion; 2 in „2 and 3 million“.
fn said(text: &str, q: &Quantity) -> String {
    let value = shown(text, &q.span);
    match &q.range {
        Some(range) => format!("{value} in „{}“", shown(text, range)),
        None => value,
    }
}

/// A value as an English reader would write it: "4 trillion", "1,400", "3.4 percent".
fn spoken(value: f64, kind: Kind) -> String {
    let scales = [
        (1e18, "quintillion"),
        (1e15, "quadrillion"),
        (1e12, "trillion"),
        (1e9, "billion"),
        (1e6, "million"),
    ];
    let named = scales
        .iter()
        .find(|(s, _)| value.abs() >= *s)
        .map(|(s, name)| (value / s, name))
        .filter(|(x, _)| close((x * 1000.0).round(), x * 1000.0))
        .map(|(x, name)| format!("{} {name}", decimal(x)));
    let text = named.unwrap_or_else(|| grouped(&decimal(value)));
    if kind == Kind::Percent {
        format!("{text} percent")
    } else {
        text
    }
}

fn decimal(x: f64) -> String {
    let fixed = format!("{x:.6}");
    fixed
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// English thousands commas on the integer part.
fn grouped(number: &str) -> String {
    let (sign, rest) = number.strip_prefix('-').map_or(("", number), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (k, c) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    German,
    English,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Percent,
    Ordinal,
    /// A day of the month, with the month (1–12) it was written with.
    Day(u8),
}

/// One quantity found in a text.
#[derive(Debug, Clone, PartialEq)]
struct Quantity {
    value: f64,
    /// A second plausible reading: German `1,400` may be an unconverted English 1,400;
    /// English `200m` may be metres or millions; "half" may be 50 percent.
    alt: Option<f64>,
    kind: Kind,
    span: Range<usize>,
    /// Written with digits rather than number words.
    digits: bool,
    /// Carries a scale word or suffix (Milliarden, million, bn).
    scaled: bool,
    /// The factor of that scale word (1 without one).
    scale: f64,
    /// The whole range, when this number opens one and took its scale from the range's end
    /// ("2" in "2 bis 3 Milliarden").
    range: Option<Range<usize>>,
    /// The numeral has a separator (`1.400`, `3,14`).
    grouped: bool,
}

impl Quantity {
    fn readings(&self) -> impl Iterator<Item = f64> + '_ {
        std::iter::once(self.value).chain(self.alt)
    }
}

fn quantities(text: &str, lang: Lang) -> Vec<Quantity> {
    Scan::new(text, lang).quantities()
}
