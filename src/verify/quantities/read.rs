//! Reading quantities out of German or English text: numerals with their sign, currency,
//! scale word or suffix, percent and day of the month; number words; and the shared scale of
//! a range ("2 bis 3 Milliarden"). Skips what is not a quantity here: identifiers, footnote
//! markers, clock times, links and code spans.

use std::ops::Range;

use super::lexicon::{
    ENGLISH_MONTHS, ENGLISH_ORDINALS, ENGLISH_SMALL, GERMAN_ARTICLES, GERMAN_MONTHS, Tok, TokKind,
    german_number_word, glued_scale, read_numeral, shields, tokenize,
};
use super::{Kind, Lang, Quantity};

/// A text cut into tokens that cover it without gaps, so consecutive tokens touch.
pub(super) struct Scan<'t> {
    text: &'t str,
    lang: Lang,
    pub(super) toks: Vec<Tok>,
    /// URLs, e-mail addresses and code spans, whose digits are not quantities.
    shields: Vec<Range<usize>>,
}

impl<'t> Scan<'t> {
    pub(super) fn new(text: &'t str, lang: Lang) -> Self {
        Scan {
            text,
            lang,
            toks: tokenize(text),
            shields: shields(text),
        }
    }

    pub(super) fn kind(&self, i: usize) -> Option<TokKind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn s(&self, i: usize) -> &'t str {
        self.toks.get(i).map_or("", |t| &self.text[t.start..t.end])
    }

    pub(super) fn word(&self, i: usize) -> Option<&'t str> {
        (self.kind(i) == Some(TokKind::Word)).then(|| self.s(i))
    }

    pub(super) fn is_mark(&self, i: usize, any_of: &str) -> bool {
        self.kind(i) == Some(TokKind::Mark) && self.s(i).chars().all(|c| any_of.contains(c))
    }

    pub(super) fn shielded(&self, i: usize) -> bool {
        let at = self.toks[i].start;
        self.shields.iter().any(|r| r.contains(&at))
    }

    /// Index after one optional space token.
    fn past_space(&self, i: usize) -> usize {
        if self.kind(i) == Some(TokKind::Space) {
            i + 1
        } else {
            i
        }
    }

    fn month(&self, i: usize) -> Option<u8> {
        let w = self.word(i)?;
        let table: &[(&str, u8)] = match self.lang {
            Lang::German => &GERMAN_MONTHS,
            Lang::English => &ENGLISH_MONTHS,
        };
        table.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
    }

    /// Whether token `i` opens a sentence (capitalised German number words count only there).
    fn sentence_start(&self, i: usize) -> bool {
        let mut k = i;
        while k > 0 {
            k -= 1;
            match self.toks[k].kind {
                TokKind::Space if self.s(k).contains('\n') => return true,
                TokKind::Space => {}
                TokKind::Mark => return self.is_mark(k, ".!?:„“\"»«'‚‘(–—-"),
                _ => return false,
            }
        }
        true
    }

    /// All quantities, in text order.
    pub(super) fn quantities(&self) -> Vec<Quantity> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.toks.len() {
            if self.shielded(i) {
                i += 1;
                continue;
            }
            let (found, next) = match self.toks[i].kind {
                TokKind::Digits => self.numeral_at(i),
                TokKind::Word => self.number_words_at(i),
                _ => (Vec::new(), i + 1),
            };
            out.extend(found);
            i = next.max(i + 1);
        }
        share_range_scale(self.text, &mut out);
        out
    }

    fn numeral_at(&self, i: usize) -> (Vec<Quantity>, usize) {
        let skip = (Vec::new(), i + 1);
        let raw = self.s(i);
        let prev = |n: usize| i.checked_sub(n);
        // Identifiers glued to letters (GB300, NVL72, H100).
        if prev(1).and_then(|p| self.kind(p)) == Some(TokKind::Word) {
            return skip;
        }
        // Footnote markers: "[3]", or digits glued after a word's full stop ("Umsatz.3 ").
        if prev(1).is_some_and(|p| self.is_mark(p, "[")) && self.is_mark(i + 1, "]") {
            return skip;
        }
        if prev(2).is_some_and(|p| self.kind(p) == Some(TokKind::Word))
            && prev(1).is_some_and(|p| self.is_mark(p, ".,;!?"))
            && raw.len() <= 3
            && raw.bytes().all(|b| b.is_ascii_digit())
            && self.kind(i + 1).is_none_or(|k| k == TokKind::Space)
        {
            return skip;
        }
        // Clock times and scores ("14:30", "3:1") are written differently in each language.
        if self.is_mark(i + 1, ":") && self.kind(i + 2) == Some(TokKind::Digits) {
            return (Vec::new(), i + 3);
        }
        if prev(1).is_some_and(|p| self.is_mark(p, ":"))
            && prev(2).and_then(|p| self.kind(p)) == Some(TokKind::Digits)
        {
            return skip;
        }
        if self.is_clock(self.past_space(i + 1)) || self.opens_clock_range(i) {
            return skip;
        }
        // German decade adjectives ("90er", "2010er-Jahre").
        if self.lang == Lang::German && self.word(i + 1).is_some_and(|w| w.starts_with("er")) {
            return skip;
        }
        if let Some(date) = self.dotted_date(i) {
            return date;
        }
        let Some((mut value, mut alt)) = read_numeral(raw, self.lang) else {
            return skip;
        };
        let grouped = raw.bytes().any(|b| !b.is_ascii_digit());

        let mut first = i;
        if self.negative_sign(i) {
            value = -value;
            alt = alt.map(|a| -a);
            first = i - 1;
        } else if prev(1).is_some_and(|p| self.kind(p) == Some(TokKind::Space))
            && prev(2)
                .and_then(|p| self.word(p))
                .is_some_and(|w| matches!(w, "minus" | "Minus" | "negative"))
        {
            value = -value;
            alt = alt.map(|a| -a);
        }
        let currency = self.currency_before(first);

        let mut j = i + 1;
        let mut kind = Kind::Plain;
        let mut scale = 1.0;
        let mut alt_scale = None;
        if let Some(w) = self.word(j) {
            match (self.lang, w) {
                (Lang::English, "st" | "nd" | "rd" | "th") => kind = Kind::Ordinal,
                _ => match glued_scale(self.lang, w, currency) {
                    Some((f, true)) => scale = f,
                    Some((f, false)) => alt_scale = Some(f),
                    None => {}
                },
            }
            j += 1;
        }

        let day_number = !grouped && (1.0..=31.0).contains(&value) && value.fract() == 0.0;
        if day_number
            && matches!(kind, Kind::Plain | Kind::Ordinal)
            && let Some((month, from, next)) = self.day_month(i, j)
        {
            kind = Kind::Day(month);
            first = first.min(from);
            j = next;
        }

        if scale == 1.0 && matches!(kind, Kind::Plain) {
            let k = if self.kind(j) == Some(TokKind::Space) || self.is_mark(j, "-") {
                j + 1
            } else {
                j
            };
            if let Some((f, next)) = self.scale_word(k) {
                scale = f;
                j = next;
            } else if let Some(next) = self.percent(j) {
                kind = Kind::Percent;
                j = next;
            }
        }

        let q = Quantity {
            value: value * scale,
            alt: alt.map(|a| a * scale).or(alt_scale.map(|f| value * f)),
            kind,
            span: self.toks[first].start..self.toks[j - 1].end,
            digits: true,
            scaled: scale != 1.0,
            scale,
            range: None,
            grouped,
        };
        (vec![q], j)
    }

    fn negative_sign(&self, i: usize) -> bool {
        if i == 0 || !self.is_mark(i - 1, "-−") {
            return false;
        }
        match i.checked_sub(2).and_then(|p| self.kind(p)) {
            None => true,
            // "10 - 20" is a range, not minus twenty.
            Some(TokKind::Space) => i < 3 || self.kind(i - 3) != Some(TokKind::Digits),
            Some(TokKind::Mark) => self.is_mark(i - 2, "(["),
            _ => false,
        }
    }

    fn currency_before(&self, first: usize) -> bool {
        let is_currency = |k: usize| {
            self.is_mark(k, "$€£¥")
                || self
                    .word(k)
                    .is_some_and(|w| matches!(w, "USD" | "EUR" | "GBP" | "CHF"))
        };
        match first.checked_sub(1) {
            Some(k) if is_currency(k) => true,
            Some(k) if self.kind(k) == Some(TokKind::Space) => {
                k.checked_sub(1).is_some_and(is_currency)
            }
            _ => false,
        }
    }

    /// "Uhr", "a.m.", "pm" after a number: a clock time.
    fn is_clock(&self, k: usize) -> bool {
        match (self.lang, self.word(k)) {
            (Lang::German, Some(w)) => w == "Uhr",
            (Lang::English, Some(w)) => {
                matches!(w, "am" | "pm" | "AM" | "PM")
                    || matches!(w, "a" | "p")
                        && self.is_mark(k + 1, ".")
                        && self.word(k + 2) == Some("m")
            }
            _ => false,
        }
    }

    /// "8 bis 18 Uhr", "9 to 5 pm": the first number is a clock time too.
    fn opens_clock_range(&self, i: usize) -> bool {
        let k = self.past_space(i + 1);
        let connector = self
            .word(k)
            .is_some_and(|w| matches!(w, "bis" | "und" | "to" | "and"))
            || self.is_mark(k, "-–");
        let m = self.past_space(k + 1);
        connector && self.kind(m) == Some(TokKind::Digits) && self.is_clock(self.past_space(m + 1))
    }

    /// A day of the month around the number at `i` (its suffix ends before `j`): German
    /// "1. Januar", English "January 1", "1 January", "1st of January". Returns the month and
    /// the first and past-the-end tokens of the date, month name included.
    fn day_month(&self, i: usize, j: usize) -> Option<(u8, usize, usize)> {
        match self.lang {
            Lang::German => {
                if !self.is_mark(j, ".") {
                    return None;
                }
                let k = self.past_space(j + 1);
                self.month(k).map(|m| (m, i, k + 1))
            }
            Lang::English => {
                let before = i
                    .checked_sub(2)
                    .filter(|&p| self.kind(p + 1) == Some(TokKind::Space))
                    .and_then(|p| self.month(p).map(|m| (m, p, j)));
                if before.is_some() {
                    return before;
                }
                let mut k = self.past_space(j);
                if k > j && self.word(k) == Some("of") {
                    k = self.past_space(k + 1);
                }
                (k > j)
                    .then(|| self.month(k))
                    .flatten()
                    .map(|m| (m, i, k + 1))
            }
        }
    }

    /// Numeric dates: "01.03.2025", and German "3.5." (day and month).
    fn dotted_date(&self, i: usize) -> Option<(Vec<Quantity>, usize)> {
        let raw = self.s(i);
        let parts: Vec<&str> = raw.split('.').collect();
        let start = self.toks[i].start;
        let (day, month) = match parts.as_slice() {
            [d, m, ..] if d.len() <= 2 && m.len() <= 2 => {
                (d.parse::<u8>().ok()?, m.parse::<u8>().ok()?)
            }
            _ => return None,
        };
        if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
            return None;
        }
        let day_q = |end: usize| Quantity {
            value: f64::from(day),
            alt: None,
            kind: Kind::Day(month),
            span: start..end,
            digits: true,
            scaled: false,
            scale: 1.0,
            range: None,
            grouped: false,
        };
        match parts.as_slice() {
            [_, _, y] if y.len() == 4 => {
                let year_start = start + raw.len() - 4;
                let year = Quantity {
                    value: y.parse::<f64>().ok()?,
                    span: year_start..start + raw.len(),
                    kind: Kind::Plain,
                    ..day_q(0)
                };
                Some((vec![day_q(start + parts[0].len()), year], i + 1))
            }
            [_, _] if self.lang == Lang::German && self.is_mark(i + 1, ".") => {
                Some((vec![day_q(self.toks[i + 1].end)], i + 2))
            }
            _ => None,
        }
    }

    /// A scale word at `k`: its factor and the index after it (and after an abbreviation's dot).
    fn scale_word(&self, k: usize) -> Option<(f64, usize)> {
        let w = self.word(k)?;
        let dotted = self.is_mark(k + 1, ".");
        let (f, abbreviation) = match self.lang {
            Lang::German => match w {
                "Tausend" | "tausend" => (1e3, false),
                "Tsd" => (1e3, true),
                "Million" | "Millionen" => (1e6, false),
                "Mio" => (1e6, true),
                "Milliarde" | "Milliarden" => (1e9, false),
                "Mrd" => (1e9, true),
                "Billion" | "Billionen" => (1e12, false),
                // Without its dot, "Bio" is "organic".
                "Bio" if dotted => (1e12, true),
                "Billiarde" | "Billiarden" => (1e15, false),
                "Trillion" | "Trillionen" => (1e18, false),
                _ => return None,
            },
            Lang::English => match w.to_lowercase().as_str() {
                "thousand" => (1e3, false),
                "million" | "millions" | "mn" => (1e6, false),
                "billion" | "billions" | "bn" => (1e9, false),
                "trillion" | "trillions" | "tn" | "trn" => (1e12, false),
                "quadrillion" => (1e15, false),
                "quintillion" => (1e18, false),
                _ => return None,
            },
        };
        Some((f, if abbreviation && dotted { k + 2 } else { k + 1 }))
    }

    /// "%", "Prozent(punkte)", "percent", "per cent", "percentage points" at `j`: the index after.
    fn percent(&self, j: usize) -> Option<usize> {
        let k = self.past_space(j);
        if self.is_mark(k, "%") {
            return Some(k + 1);
        }
        let w = self.word(k)?;
        let two_words = |first: &str, second: &[&str]| {
            w.eq_ignore_ascii_case(first)
                && self.kind(k + 1) == Some(TokKind::Space)
                && self.word(k + 2).is_some_and(|n| second.contains(&n))
        };
        match self.lang {
            Lang::German => w.starts_with("Prozent").then_some(k + 1),
            Lang::English if matches!(w, "percent" | "pct") => Some(k + 1),
            Lang::English if two_words("per", &["cent"]) => Some(k + 3),
            Lang::English if two_words("percentage", &["point", "points"]) => Some(k + 3),
            Lang::English => None,
        }
    }

    /// Number words: German "zwei", "dreißig", "eine Milliarde"; English "two", "a billion",
    /// "twenty-five", "first", "half".
    fn number_words_at(&self, i: usize) -> (Vec<Quantity>, usize) {
        let parsed = match self.lang {
            Lang::German => self.german_words(i),
            Lang::English => self.english_words(i),
        };
        let Some((value, alt, mut kind, scale, mut j)) = parsed else {
            return (Vec::new(), i + 1);
        };
        if scale == 1.0
            && kind == Kind::Plain
            && let Some(next) = self.percent(j)
        {
            kind = Kind::Percent;
            j = next;
        }
        let q = Quantity {
            value,
            alt,
            kind,
            span: self.toks[i].start..self.toks[j - 1].end,
            digits: false,
            scaled: scale != 1.0,
            scale,
            range: None,
            grouped: false,
        };
        (vec![q], j)
    }

    #[allow(clippy::type_complexity)]
    fn german_words(&self, i: usize) -> Option<(f64, Option<f64>, Kind, f64, usize)> {
        let w = self.word(i)?;
        let lower = w.to_lowercase();
        let article = GERMAN_ARTICLES.contains(&lower.as_str());
        let base = if article {
            1.0
        } else {
            f64::from(german_number_word(&lower)?)
        };
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        // Capitalised, "Elf", "Acht" and "Sieben" are nouns — except at a sentence start.
        if capital
            && !article
            && !self.sentence_start(i)
            && !lower.contains("hundert")
            && !lower.contains("tausend")
        {
            return None;
        }
        let k = self.past_space(i + 1);
        if k > i + 1
            && let Some((f, next)) = self.scale_word(k)
        {
            return Some((base * f, None, Kind::Plain, f, next));
        }
        // An article is the number one only before a scale word or "Prozent" ("ein Prozent").
        if article && self.word(k) != Some("Prozent") {
            return None;
        }
        Some((base, None, Kind::Plain, 1.0, i + 1))
    }

    #[allow(clippy::type_complexity)]
    fn english_words(&self, i: usize) -> Option<(f64, Option<f64>, Kind, f64, usize)> {
        let first = self.word(i)?.to_lowercase();
        if first == "half" {
            return Some((0.5, Some(50.0), Kind::Plain, 1.0, i + 1));
        }
        if let Some(n) = ENGLISH_ORDINALS.iter().position(|o| *o == first) {
            return Some((n as f64 + 1.0, None, Kind::Ordinal, 1.0, i + 1));
        }
        let small = |w: &str| {
            ENGLISH_SMALL
                .iter()
                .find(|(name, _)| *name == w)
                .map(|x| x.1)
        };
        let (mut total, mut current, mut scale) = (0.0_f64, 0.0_f64, 1.0_f64);
        let mut any = false;
        let mut after_hundred = false;
        let mut end = i;
        let mut k = i;
        while let Some(w) = self.word(k).map(str::to_lowercase) {
            let next = self.joined_word(k);
            let next_small = next.is_some_and(|n| small(&self.s(n).to_lowercase()).is_some());
            let was_after_hundred = std::mem::replace(&mut after_hundred, false);
            if let Some(v) = small(&w) {
                // "twenty-five", "hundred and five"; not "two three".
                let fits = current == 0.0
                    || current % 100.0 == 0.0
                    || current % 10.0 == 0.0 && current % 100.0 >= 20.0 && v < 10.0;
                if w == "dozen" {
                    current = current.max(1.0) * v;
                } else if fits {
                    current += v;
                } else {
                    break;
                }
            } else if w == "hundred" && any {
                current = current.max(1.0) * 100.0;
                after_hundred = true;
            } else if let (true, Some((f, _))) = (any, self.scale_word(k)) {
                total += current.max(1.0) * f;
                current = 0.0;
                scale = scale.max(f);
                after_hundred = true;
            } else if !any
                && w == "a"
                && next.is_some_and(|n| {
                    matches!(self.s(n).to_lowercase().as_str(), "hundred" | "dozen")
                        || self.scale_word(n).is_some()
                })
            {
                current = 1.0;
            } else if w == "and" && was_after_hundred && next_small {
                // "one hundred and five"
            } else {
                break;
            }
            any = true;
            end = k + 1;
            match next {
                Some(n) => k = n,
                None => break,
            }
        }
        any.then_some((total + current, None, Kind::Plain, scale, end))
    }

    /// The word after token `k` across one space or hyphen, if any.
    fn joined_word(&self, k: usize) -> Option<usize> {
        let n = k + 1;
        let joined = self.kind(n) == Some(TokKind::Space) || self.is_mark(n, "-");
        (joined && self.kind(n + 1) == Some(TokKind::Word)).then_some(n + 1)
    }
}

/// "2 bis 3 Milliarden", "between 10 and 20 percent": the first number of a range takes the
/// scale and percent of the second.
fn share_range_scale(text: &str, found: &mut [Quantity]) {
    for k in (1..found.len()).rev() {
        let (head, tail) = found.split_at_mut(k);
        let (a, b) = (&mut head[k - 1], &tail[0]);
        let Some(between) = text.get(a.span.end..b.span.start) else {
            continue;
        };
        let between = between.trim_matches(|c: char| c.is_whitespace() || "$€£".contains(c));
        let dash = matches!(between, "-" | "–" | "—");
        let word = matches!(
            between,
            "bis" | "auf" | "und" | "oder" | "to" | "and" | "or"
        );
        // A year before a scaled number is a date, not the start of a range.
        let year = a.digits && !a.grouped && (1900.0..=2100.0).contains(&a.value);
        if !(dash || word) || year || a.scaled || a.kind != Kind::Plain {
            continue;
        }
        if b.kind == Kind::Percent {
            a.kind = Kind::Percent;
        }
        // "2025 – 3 Milliarden" is a clause dash; a range written with a dash ascends.
        let ascends = a.value.abs() < (b.value / b.scale).abs();
        if b.scaled && (word || ascends) {
            a.value *= b.scale;
            a.alt = a.alt.map(|x| x * b.scale);
            a.scale = b.scale;
            a.scaled = true;
            a.range = Some(a.span.start..b.span.end);
        }
    }
}
