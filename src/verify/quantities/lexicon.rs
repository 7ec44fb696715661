//! How each language writes numbers: the tokenizer, numeral separators, German and English
//! number words, month names and glued scale suffixes. Plain lookups, no grammar.

use std::ops::Range;

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokKind {
    /// ASCII digits, with the separators between them (`1.234,5`, `27 000`).
    Digits,
    Word,
    Space,
    /// Any other single character.
    Mark,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub(super) kind: TokKind,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) const GERMAN_MONTHS: [(&str, u8); 22] = [
    ("Januar", 1),
    ("Jänner", 1),
    ("Jan", 1),
    ("Februar", 2),
    ("Feb", 2),
    ("März", 3),
    ("April", 4),
    ("Apr", 4),
    ("Mai", 5),
    ("Juni", 6),
    ("Juli", 7),
    ("August", 8),
    ("Aug", 8),
    ("September", 9),
    ("Sept", 9),
    ("Oktober", 10),
    ("Okt", 10),
    ("November", 11),
    ("Nov", 11),
    ("Dezember", 12),
    ("Dez", 12),
    ("Sep", 9),
];

pub(super) const ENGLISH_MONTHS: [(&str, u8); 23] = [
    ("January", 1),
    ("Jan", 1),
    ("February", 2),
    ("Feb", 2),
    ("March", 3),
    ("Mar", 3),
    ("April", 4),
    ("Apr", 4),
    ("May", 5),
    ("June", 6),
    ("Jun", 6),
    ("July", 7),
    ("Jul", 7),
    ("August", 8),
    ("Aug", 8),
    ("September", 9),
    ("Sept", 9),
    ("Sep", 9),
    ("October", 10),
    ("Oct", 10),
    ("November", 11),
    ("Nov", 11),
    ("December", 12),
];

pub(super) const ENGLISH_SMALL: [(&str, f64); 28] = [
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("dozen", 12.0),
];

pub(super) const ENGLISH_ORDINALS: [&str; 12] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth",
];

pub(super) const GERMAN_ARTICLES: [&str; 6] = ["ein", "eine", "einen", "einem", "einer", "eines"];

/// A letter suffix glued to digits: its factor and whether it surely is a scale (`$2bn`,
/// `$200m`) or only maybe (`200m` could be metres).
pub(super) fn glued_scale(lang: Lang, suffix: &str, currency: bool) -> Option<(f64, bool)> {
    if lang == Lang::German {
        return None;
    }
    let f = match suffix {
        "k" | "K" => 1e3,
        "m" | "M" | "mn" => 1e6,
        "b" | "B" | "bn" | "bln" => 1e9,
        "t" | "T" | "tn" | "trn" => 1e12,
        _ => return None,
    };
    Some((f, currency || suffix.len() > 1))
}

/// A numeral's value in the language's convention, plus a second reading when the text may
/// have kept the other language's separators. `None` for version-like strings ("2.1.3").
pub(super) fn read_numeral(raw: &str, lang: Lang) -> Option<(f64, Option<f64>)> {
    let (decimal_mark, group_mark) = match lang {
        Lang::German => (',', '.'),
        Lang::English => ('.', ','),
    };
    let marks: Vec<char> = raw.chars().filter(|c| !c.is_ascii_digit()).collect();
    let groups: Vec<&str> = raw.split(|c: char| !c.is_ascii_digit()).collect();
    let number = |int: &[&str], frac: &str| -> Option<f64> {
        let int = int.concat();
        if frac.is_empty() {
            int.parse().ok()
        } else {
            format!("{int}.{frac}").parse().ok()
        }
    };
    let thousands = |gs: &[&str]| gs[0].len() <= 3 && gs[1..].iter().all(|g| g.len() == 3);
    let Some(&last) = marks.last() else {
        return Some((number(&groups, "")?, None));
    };
    let spacing = |c: char| !matches!(c, '.' | ',');
    if marks.iter().all(|&c| c == last) {
        if spacing(last) || marks.len() > 1 {
            return thousands(&groups)
                .then(|| number(&groups, ""))
                .flatten()
                .map(|v| (v, None));
        }
        let as_decimal = number(&groups[..1], groups[1])?;
        let as_thousands = thousands(&groups).then(|| number(&groups, "")).flatten();
        return Some(if last == group_mark {
            // The language's own grouping mark, or else the other language's decimal point.
            (as_thousands.unwrap_or(as_decimal), None)
        } else if last == decimal_mark && lang == Lang::German {
            // "1,400" may be an unconverted English 1,400.
            (as_decimal, as_thousands)
        } else {
            (as_decimal, None)
        });
    }
    // Mixed marks: the last one is the decimal mark, all earlier ones group thousands.
    let (int, frac) = groups.split_at(groups.len() - 1);
    let earlier = &marks[..marks.len() - 1];
    if earlier.contains(&last) || !thousands(int) || spacing(last) {
        return None;
    }
    Some((number(int, frac[0])?, None))
}

/// A German number word below a million ("zwei", "einundzwanzig", "zweihundertfünfzig").
pub(super) fn german_number_word(w: &str) -> Option<u32> {
    match w.split_once("tausend") {
        Some((head, tail)) => {
            let thousands = if head.is_empty() {
                1
            } else {
                below_1000(head)?
            };
            let rest = if tail.is_empty() {
                0
            } else {
                below_1000(tail)?
            };
            Some(thousands * 1000 + rest)
        }
        None => below_1000(w),
    }
}

fn below_1000(w: &str) -> Option<u32> {
    match w.split_once("hundert") {
        Some((head, tail)) => {
            let hundreds = if head.is_empty() { 1 } else { unit(head)? };
            let rest = if tail.is_empty() { 0 } else { below_100(tail)? };
            Some(hundreds * 100 + rest)
        }
        None => below_100(w),
    }
}

fn below_100(w: &str) -> Option<u32> {
    const TEENS: [&str; 10] = [
        "zehn",
        "elf",
        "zwölf",
        "dreizehn",
        "vierzehn",
        "fünfzehn",
        "sechzehn",
        "siebzehn",
        "achtzehn",
        "neunzehn",
    ];
    if w == "eins" {
        return Some(1);
    }
    if let Some(n) = unit(w).or_else(|| tens(w)) {
        return Some(n);
    }
    if let Some(n) = TEENS.iter().position(|t| *t == w) {
        return Some(10 + n as u32);
    }
    let (u, t) = w.split_once("und")?;
    Some(unit(u)? + tens(t)?)
}

fn unit(w: &str) -> Option<u32> {
    const UNITS: [&str; 9] = [
        "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
    ];
    UNITS.iter().position(|u| *u == w).map(|n| n as u32 + 1)
}

fn tens(w: &str) -> Option<u32> {
    const TENS: [&str; 8] = [
        "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig",
    ];
    if w == "dreissig" {
        return Some(30);
    }
    TENS.iter()
        .position(|t| *t == w)
        .map(|n| (n as u32 + 2) * 10)
}

pub(super) fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let digit = |k: usize| at(k).is_some_and(|c| c.is_ascii_digit());
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let mut j = i + 1;
        let kind = if c.is_ascii_digit() {
            loop {
                while digit(j) {
                    j += 1;
                }
                let sep = at(j);
                let joins = match sep {
                    Some('.' | ',' | '\'' | '’') => digit(j + 1),
                    // Thin and no-break spaces group thousands: "27 000".
                    Some('\u{a0}' | '\u{202f}' | '\u{2009}') => {
                        digit(j + 1) && digit(j + 2) && digit(j + 3) && !digit(j + 4)
                    }
                    _ => false,
                };
                if !joins {
                    break;
                }
                j += 1;
            }
            TokKind::Digits
        } else if c.is_alphabetic() {
            while at(j).is_some_and(char::is_alphabetic) {
                j += 1;
            }
            TokKind::Word
        } else if c.is_whitespace() {
            while at(j).is_some_and(char::is_whitespace) {
                j += 1;
            }
            TokKind::Space
        } else {
            TokKind::Mark
        };
        let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
        toks.push(Tok {
            kind,
            start: chars[i].0,
            end,
        });
        i = j;
    }
    toks
}

/// URLs, e-mail addresses and inline code spans.
pub(super) fn shields(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (p, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if !c.is_whitespace() {
            start.get_or_insert(p);
            continue;
        }
        let Some(s) = start.take() else { continue };
        let chunk = &text[s..p];
        let bare = chunk.trim_start_matches(|c: char| !c.is_alphanumeric());
        let mail = chunk.split_once('@').is_some_and(|(name, host)| {
            name.ends_with(char::is_alphanumeric) && host.contains('.')
        });
        if chunk.contains("://") || bare.starts_with("www.") || mail {
            out.push(s..p);
        }
    }
    let ticks: Vec<usize> = text.match_indices('`').map(|(p, _)| p).collect();
    out.extend(ticks.chunks_exact(2).map(|pair| pair[0]..pair[1] + 1));
    out
}
