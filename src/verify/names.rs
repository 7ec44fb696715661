//! The name check: tokens of the German that must survive translation (acronyms, CamelCase and
//! brand-like names, codes with digits such as `GB300`, URLs, e-mail addresses and protected
//! spans), with the German acronyms that legitimately change in English ("KI" → "AI"). Only
//! token shapes count: German capitalises every noun, so a capital letter alone never makes a
//! name. Acronyms in parentheses that do not fit their expansion: see `acronyms`.

use std::ops::Range;

use super::text::{contains_term, tokens};
use super::{Check, Finding, Options, Pair, Severity};

/// What kind of token must survive, which decides the rule and severity of a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Two or more capitals and no other lower-case letter than a plural `s`: `EU`, `TPUs`.
    /// May legitimately become an English acronym or be spelled out, hence only a warning.
    Acronym,
    /// Lower case followed by upper case inside the word: `OpenAI`, `iPhone`, `CoreWeave`.
    Brand,
    /// Letters and digits mixed: `GB300`, `NVL72`, `5G`.
    Coded,
}

/// Units glued to a number (`100MB`, `3GHz`): quantities, which the quantity check owns.
const UNITS: [&str; 20] = [
    "kb", "mb", "gb", "tb", "pb", "kbit", "mbit", "gbit", "hz", "khz", "mhz", "ghz", "w", "kw",
    "mw", "gw", "kwh", "mwh", "gwh", "mah",
];

pub(super) fn shape(token: &str) -> Option<Shape> {
    if token.chars().any(|c| c.is_ascii_digit()) {
        if !token.chars().any(char::is_alphabetic) {
            return None; // a number: the quantity check's business
        }
        let tail = token.trim_start_matches(|c: char| c.is_ascii_digit());
        let plain_number = tail.len() < token.len()
            && (tail.chars().all(char::is_lowercase)
                || UNITS.contains(&tail.to_lowercase().as_str()));
        // "1990er", "3fach", "100MB" are numbers with a suffix, not codes.
        return (!plain_number).then_some(Shape::Coded);
    }
    let upper = token.chars().filter(|c| c.is_uppercase()).count();
    // A shouted word ("EINFÜHRUNG" in an all-caps heading) is no acronym; acronyms of seven
    // letters and more are rare enough to leave alone.
    if upper == token.chars().count() && upper >= 7 {
        return None;
    }
    let lower_positions: Vec<usize> = token
        .char_indices()
        .filter(|(_, c)| c.is_lowercase())
        .map(|(i, _)| i)
        .collect();
    let only_plural_s = lower_positions.is_empty()
        || (lower_positions.len() == 1 && token.ends_with('s') && token.chars().count() >= 3);
    if upper >= 2 && only_plural_s {
        return Some(Shape::Acronym);
    }
    let chars: Vec<char> = token.chars().collect();
    let camel = chars
        .windows(2)
        .any(|w| w[0].is_lowercase() && w[1].is_uppercase());
    // The German gender capital I ("MitarbeiterInnen") looks like CamelCase but is a noun.
    let gender_i = token.ends_with("Innen") || token.ends_with("In");
    (camel && !gender_i && !glued_words(&chars)).then_some(Shape::Brand)
}

/// Two words machine translation glued together, a lower-case one and a capitalised one
/// ("unterUnterstützte", "derAnbieter"): not a name. Brands start with a capital ("OpenAI",
/// "YouTube"), have a short lower-case head ("iPhone", "eBay") or an upper-case tail
/// ("macOS", "watchOS").
fn glued_words(chars: &[char]) -> bool {
    let head = chars.iter().take_while(|c| c.is_lowercase()).count();
    let tail = &chars[head..];
    head >= 3
        && tail.first().is_some_and(|c| c.is_uppercase())
        && tail.len() >= 4
        && tail[1..].iter().all(|c| c.is_lowercase())
}

/// German acronyms and their usual English renderings (lower case). A rendering may also be
/// the spelled-out English, so "KI" is kept by "artificial intelligence"; English acronyms
/// spelled out as capitalised words ("World Health Organization") need no entry.
#[rustfmt::skip]
const ALIASES: &[(&str, &[&str])] = &[
    ("AGB", &["terms and conditions", "terms of service", "terms of use"]),
    ("BA", &["federal employment agency", "employment agency"]),
    ("BAMF", &["federal office for migration", "migration office"]),
    ("BDI", &["federation of german industries", "german industry federation"]),
    ("BGB", &["civil code"]),
    ("BGH", &["federal court of justice", "federal supreme court"]),
    ("BIP", &["gdp", "gross domestic product", "economic output"]),
    ("BKA", &["federal criminal police"]),
    ("BND", &["federal intelligence service"]),
    ("BRD", &["frg", "germany", "federal republic"]),
    ("BSI", &["federal office for information security"]),
    ("BVerfG", &["constitutional court"]),
    ("CHF", &["franc", "francs"]),
    ("DB", &["deutsche bahn"]),
    ("DDR", &["gdr", "east germany", "east german", "german democratic republic"]),
    ("DFB", &["german football association", "football association"]),
    ("DGB", &["trade union confederation"]),
    ("DSGVO", &["gdpr", "general data protection regulation"]),
    ("EEG", &["renewable energy"]),
    ("EM", &["european championship", "euro"]),
    ("EU", &["european union", "europe"]),
    ("EUR", &["€", "euro", "euros"]),
    ("EZB", &["ecb", "european central bank"]),
    ("EuGH", &["ecj", "european court of justice", "court of justice"]),
    ("GBP", &["£", "pound", "pounds"]),
    ("GG", &["basic law", "constitution"]),
    ("GKV", &["statutory health insurance"]),
    ("H1", &["first half"]),
    ("H2", &["second half"]),
    ("IHK", &["chamber of commerce"]),
    ("IWF", &["imf", "international monetary fund"]),
    ("KI", &["ai", "artificial intelligence"]),
    ("KMU", &["sme", "smes", "small and medium"]),
    ("LKA", &["state criminal police"]),
    ("LKW", &["truck", "trucks", "lorry", "lorries", "hgv"]),
    ("MdB", &["member of parliament", "mp", "bundestag"]),
    ("MwSt", &["vat", "value-added tax", "value added tax", "sales tax"]),
    ("NRW", &["north rhine-westphalia"]),
    ("OLG", &["higher regional court"]),
    ("PKW", &["car", "cars", "passenger car"]),
    ("Q1", &["first quarter"]),
    ("Q2", &["second quarter"]),
    ("Q3", &["third quarter"]),
    ("Q4", &["fourth quarter"]),
    ("StGB", &["criminal code"]),
    ("UN", &["u.n.", "united nations"]),
    ("UNO", &["un", "u.n.", "united nations"]),
    ("US", &["u.s.", "united states", "america", "american", "dollar", "$"]),
    ("USA", &["us", "u.s.", "united states", "america"]),
    ("USD", &["$", "dollar", "dollars"]),
    ("WLAN", &["wi-fi", "wifi", "wireless"]),
    ("WM", &["world cup", "world championship"]),
    ("ÖPNV", &["public transport", "public transit", "local transport"]),
];

/// Legal forms of companies: English copy routinely drops them ("Siemens" for "Siemens AG").
const LEGAL_FORMS: [&str; 9] = ["AG", "GmbH", "KG", "KGaA", "mbH", "OHG", "SE", "UG", "eG"];

pub(super) fn aliases(token: &str) -> &'static [&'static str] {
    ALIASES
        .iter()
        .find(|(de, _)| *de == token)
        .map_or(&[], |(_, en)| *en)
}

/// An acronym without its plural `s`.
pub(super) fn acronym_base(token: &str) -> &str {
    token.strip_suffix('s').unwrap_or(token)
}

pub(super) fn check(pair: &Pair, opts: &Options) -> Vec<Finding> {
    let mut findings = protected_spans(pair, opts.protected);
    findings.extend(links(pair, opts.protected));
    let glossary_words: Vec<String> = opts
        .glossary
        .map(|g| {
            g.hits(pair.source)
                .iter()
                .flat_map(|term| tokens(&term.de).into_iter().map(|(_, w)| w.to_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    let links = link_spans(pair.source);
    let mut seen: Vec<&str> = Vec::new();
    for (span, token) in tokens(pair.source) {
        let Some(shape) = shape(token).filter(|_| !LEGAL_FORMS.contains(&token)) else {
            continue;
        };
        let inside = |r: &Range<usize>| r.start <= span.start && span.end <= r.end;
        let covered = opts.protected.iter().any(inside)
            || links.iter().any(inside)
            // The glossary check owns glossary terms.
            || glossary_words.contains(&token.to_lowercase());
        if covered || seen.contains(&token) {
            continue;
        }
        seen.push(token);
        if survives(token, shape, pair.output) {
            continue;
        }
        // Repairing mangled names is what the restore pass is for: the German is the
        // reference, and a repaired form of the token is a note, never a loss.
        if let Some(repair) = repaired(token, shape, pair, opts.notes) {
            let message = format!("{} repaired: {token} → {repair}", what(token, shape));
            findings.push(
                Finding::new(
                    pair.id,
                    Check::Name,
                    "name-repaired",
                    Severity::Info,
                    message,
                )
                .in_source(span),
            );
            continue;
        }
        // A CamelCase name written as words ("Extension Callout", but also "You Tube"): a
        // variant to look at, not a loss.
        let apart = camel_words(token);
        if shape == Shape::Brand && contains_term(pair.output, &apart) {
            let message = format!("name \"{token}\" is written apart as \"{apart}\"");
            findings.push(
                Finding::new(
                    pair.id,
                    Check::Name,
                    "missing-name",
                    Severity::Warning,
                    message,
                )
                .in_source(span),
            );
            continue;
        }
        let in_draft = if pair.draft.is_some_and(|d| survives(token, shape, d)) {
            " (the draft has it)"
        } else {
            ""
        };
        let (rule, severity) = match shape {
            Shape::Acronym => ("missing-acronym", Severity::Warning),
            Shape::Brand => ("missing-name", Severity::Error),
            Shape::Coded => ("missing-token", Severity::Error),
        };
        let what = what(token, shape);
        let message = format!("{what} \"{token}\" is missing from the output{in_draft}");
        findings.push(Finding::new(pair.id, Check::Name, rule, severity, message).in_source(span));
    }
    findings
}

/// How a token is named in messages.
fn what(token: &str, shape: Shape) -> &'static str {
    match shape {
        Shape::Acronym => "acronym",
        Shape::Brand => "name",
        Shape::Coded if label(token).is_some() => "label",
        Shape::Coded => "code",
    }
}

/// German labels and the letters English uses for them: F(rage) 1 = Q1, A(ntwort) 1 = A1,
/// S(eite) 3 = p3, K(apitel) 2 = C2 / Ch2, Abb(ildung) 4 = Fig4, B(eispiel) 5 = E5.
const LABELS: &[(&str, &[&str])] = &[
    ("F", &["Q"]),
    ("A", &["A", "Q"]),
    ("S", &["P"]),
    ("K", &["C", "Ch"]),
    ("Abb", &["Fig", "Figure"]),
    ("Tab", &["Table", "T"]),
    ("B", &["E", "Ex"]),
];

/// `F1` → (`F`, `1`): letters then digits, a label's shape.
fn label(token: &str) -> Option<(&str, &str)> {
    let digits_at = token.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = token.split_at(digits_at);
    let shaped = !letters.is_empty()
        && letters.chars().count() <= 3
        && letters.chars().next().is_some_and(char::is_uppercase)
        && digits.chars().all(|c| c.is_ascii_digit());
    shaped.then_some((letters, digits))
}

/// What `token`, absent from the output, became when the model repaired it, if anything says
/// it was repaired rather than lost: the same letters in another case (`DOD` → `DoD`), a name
/// a letter or two away that the German does not have (`OpenAs` → `OpenAI`), an acronym in
/// parentheses replaced by the one the German's own expansion calls for (`Center for Internet
/// Security (CENTERS)` → `(CIS)`), a German label in its English letters (`F1` → `Q1`), or a note of the model's
/// that names the token.
fn repaired(token: &str, kind: Shape, pair: &Pair, notes: &[String]) -> Option<String> {
    let lower = token.to_lowercase();
    let output_tokens: Vec<&str> = tokens(pair.output).into_iter().map(|(_, w)| w).collect();
    let in_source = |word: &str| contains_term(pair.source, word);
    if let Some(same) = output_tokens.iter().find(|w| w.to_lowercase() == lower) {
        return Some((*same).to_owned());
    }
    if let (Shape::Coded, Some((letters, digits))) = (kind, label(token)) {
        let english = LABELS.iter().find(|(de, _)| *de == letters)?.1;
        return english
            .iter()
            .map(|en| format!("{en}{digits}"))
            .find(|form| output_tokens.iter().any(|w| w.eq_ignore_ascii_case(form)));
    }
    if kind != Shape::Coded && token.chars().count() >= 4 {
        let limit = if token.chars().count() >= 6 { 2 } else { 1 };
        let near = output_tokens.iter().find(|w| {
            let first = |s: &str| s.chars().next().map(|c| c.to_ascii_lowercase());
            first(w) == first(token)
                && (shape(w).is_some() || w.chars().next().is_some_and(char::is_uppercase))
                && !in_source(w)
                && strsim::levenshtein(&w.to_lowercase(), &lower) <= limit
        });
        if let Some(near) = near {
            return Some((*near).to_owned());
        }
    }
    if kind == Shape::Acronym && pair.source.contains(&format!("({token})")) {
        let replacement = output_tokens.iter().find(|w| {
            shape(w) == Some(Shape::Acronym)
                && !in_source(w)
                && pair.output.contains(&format!("({w})"))
                // The German's own expansion calls for it: "Center for Internet Security".
                && spelled_out(w, pair.source)
        });
        if let Some(replacement) = replacement {
            return Some((*replacement).to_owned());
        }
    }
    notes
        .iter()
        .find(|note| contains_term(note, token))
        .map(|note| format!("(the model's note: {note})"))
}

/// Whether `token` (or what it legitimately becomes in English) occurs in `text`.
fn survives(token: &str, shape: Shape, text: &str) -> bool {
    let mut forms = vec![token];
    match shape {
        Shape::Acronym => forms.push(acronym_base(token)),
        // German genitive: "OpenAIs Chef" is "OpenAI's boss".
        Shape::Brand => forms.extend(token.strip_suffix('s')),
        Shape::Coded => {}
    }
    forms.iter().any(|form| {
        contains_term(text, form)
            // Glued into code-like text ("String1\0String2\0"): the exact letters will do.
            || (shape != Shape::Acronym
                && *form == token
                && form.chars().count() >= 5
                && text.contains(form))
            || aliases(form).iter().any(|alias| contains_term(text, alias))
            || (shape == Shape::Acronym && spelled_out(form, text))
    })
}

/// `ExtensionCallout` → `Extension Callout`: a space at each lower-to-upper step.
fn camel_words(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if prev.is_some_and(char::is_lowercase) && c.is_uppercase() {
            out.push(' ');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Short words an expansion may contain without an initial ("Bank for International
/// Settlements", "Department of Defense").
pub(super) const CONNECTORS: [&str; 8] = ["of", "and", "for", "the", "on", "in", "de", "&"];

/// Whether `text` spells out `acronym` as capitalised words ("World Health Organization").
fn spelled_out(acronym: &str, text: &str) -> bool {
    let want: Vec<char> = acronym.chars().flat_map(char::to_lowercase).collect();
    let words: Vec<&str> = tokens(text).into_iter().map(|(_, w)| w).collect();
    (0..words.len()).any(|start| {
        let mut initials = Vec::new();
        for word in &words[start..] {
            if initials.len() == want.len() {
                break;
            }
            if !initials.is_empty() && CONNECTORS.contains(word) {
                continue;
            }
            match word.chars().next() {
                Some(c) if c.is_uppercase() => initials.extend(c.to_lowercase()),
                _ => break,
            }
        }
        initials == want
    })
}

/// Every protected span must come back verbatim.
fn protected_spans(pair: &Pair, protected: &[Range<usize>]) -> Vec<Finding> {
    protected
        .iter()
        .filter_map(|range| {
            let span = pair.source.get(range.clone())?.trim();
            (!span.is_empty() && !pair.output.contains(span)).then(|| {
                let message = format!("protected text \"{span}\" is missing from the output");
                Finding::new(
                    pair.id,
                    Check::Name,
                    "missing-token",
                    Severity::Error,
                    message,
                )
                .in_source(range.clone())
            })
        })
        .collect()
}

/// URLs and e-mail addresses outside protected spans must come back verbatim.
fn links(pair: &Pair, protected: &[Range<usize>]) -> Vec<Finding> {
    link_spans(pair.source)
        .into_iter()
        .filter(|span| {
            !protected
                .iter()
                .any(|p| p.start <= span.start && span.end <= p.end)
        })
        .filter(|span| !pair.output.contains(&pair.source[span.clone()]))
        .map(|span| {
            let link = &pair.source[span.clone()];
            let message = format!("link \"{link}\" is missing from the output or was changed");
            Finding::new(
                pair.id,
                Check::Name,
                "missing-token",
                Severity::Error,
                message,
            )
            .in_source(span)
        })
        .collect()
}

/// URLs (`http://`, `https://`, `www.`) and e-mail addresses, without trailing sentence
/// punctuation.
fn link_spans(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if !c.is_whitespace() {
            start.get_or_insert(i);
            continue;
        }
        let Some(s) = start.take() else { continue };
        let word = &text[s..i];
        let lead = word.len()
            - word
                .trim_start_matches(['(', '[', '<', '"', '„', '“', '»', '\''])
                .len();
        let core = word[lead..].trim_end_matches([
            '.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '“', '”', '«', '\'',
        ]);
        let lower = core.to_ascii_lowercase();
        let url = ["http://", "https://", "www."]
            .iter()
            .any(|p| lower.starts_with(p) && lower.len() > p.len() + 2);
        let email = core.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !host.contains('@')
        });
        if url || email {
            found.push(s + lead..s + lead + core.len());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(de: &str, en: &str) -> Vec<&'static str> {
        let pair = Pair::english(de, en);
        check(&pair, &Options::default())
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    /// Repaired names are notes (issue 13's real examples), lost names are still errors.
    #[test]
    fn repaired_names_are_notes_and_lost_names_errors() {
        let none: &[String] = &[];
        let rules = |de: &str, en: &str, notes: &[String]| -> Vec<(String, Severity, String)> {
            let opts = Options {
                notes,
                ..Options::default()
            };
            check(&Pair::english(de, en), &opts)
                .into_iter()
                .map(|f| (f.rule.to_owned(), f.severity, f.message))
                .collect()
        };
        for (de, en, repair) in [
            (
                "Laut OpenAs Chef steigen die Kosten.",
                "According to OpenAI's CEO, costs rise.",
                "OpenAs → OpenAI",
            ),
            (
                "Das Center for Internet Security (CENS) warnt.",
                "The Center for Internet Security (CIS) warns.",
                "CENS → CIS",
            ),
            (
                "F1: Wie melde ich mich an?",
                "Q1: How do I sign in?",
                "F1 → Q1",
            ),
        ] {
            let found = rules(de, en, none);
            assert_eq!(found.len(), 1, "{de}: {found:?}");
            assert_eq!(found[0].0, "name-repaired", "{de}: {found:?}");
            assert_eq!(found[0].1, Severity::Info, "{de}: {found:?}");
            assert!(found[0].2.contains(repair), "{de}: {found:?}");
        }
        // Case alone is no loss at all.
        assert!(rules("Das DOD prüft.", "The DoD is reviewing it.", none).is_empty());
        // A repair the model names in its notes.
        let notes = vec!["'Kopilotin' = Copilot (product name)".to_owned()];
        let found = rules("Die KopilotIn hilft.", "Copilot helps.", &notes);
        assert!(found.iter().all(|f| f.1 == Severity::Info), "{found:?}");
        // Lost, not repaired: another name, another code, an unrelated acronym.
        let lost = rules(
            "OpenAI und GB300 im Test.",
            "Anthropic and the chip in a test.",
            none,
        );
        let lost: Vec<&str> = lost.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(lost, ["missing-name", "missing-token"]);
        let lost = rules(
            "Die Agentur (ENISA) warnt vor KI.",
            "The agency warns about AI, says the Federal Bureau of Investigation (FBI).",
            none,
        );
        assert_eq!(lost[0].0, "missing-acronym", "{lost:?}");
        // A label without its English letter is still missing.
        let lost = rules("F1: Wie melde ich mich an?", "How do I sign in?", none);
        assert_eq!(lost[0].0, "missing-token", "{lost:?}");
    }

    #[test]
    fn shapes() {
        assert_eq!(shape("TPUs"), Some(Shape::Acronym));
        assert_eq!(shape("NVIDIA"), Some(Shape::Acronym));
        assert_eq!(shape("OpenAI"), Some(Shape::Brand));
        assert_eq!(shape("iPhone"), Some(Shape::Brand));
        assert_eq!(shape("GB300"), Some(Shape::Coded));
        assert_eq!(shape("5G"), Some(Shape::Coded));
        for brand in [
            "YouTube",
            "eBay",
            "macOS",
            "watchOS",
            "CoreWeave",
            "JavaScript",
        ] {
            assert_eq!(shape(brand), Some(Shape::Brand), "{brand}");
        }
        for plain in [
            "EINFÜHRUNG",
            "unterUnterstützte",
            "derAnbieter",
            "Regierung",
            "1990er",
            "100MB",
            "2024",
            "Mitarbeiterinnen",
            "LehrerInnen",
        ] {
            assert_eq!(shape(plain), None, "{plain}");
        }
    }

    #[test]
    fn missing_names_codes_and_acronyms() {
        assert_eq!(
            rules(
                "CoreWeave liefert GB300-Systeme.",
                "The company delivers GB200 systems."
            ),
            ["missing-name", "missing-token"]
        );
        assert_eq!(
            rules("Die NATO tagt.", "The alliance meets."),
            ["missing-acronym"]
        );
    }

    #[test]
    fn legitimate_renderings_are_not_misses() {
        for (de, en) in [
            ("Die KI-Chips der EU.", "The EU's AI chips."),
            ("Das BIP der USA wächst.", "U.S. GDP is growing."),
            ("Die WHO warnt.", "The World Health Organization warns."),
            ("OpenAIs Chef und Openai.", "OpenAI's chief."),
            ("Die MwSt steigt.", "Value-added tax goes up."),
            ("Kosten von 5 Mio. US-Dollar.", "Costs of $5 million."),
        ] {
            assert_eq!(rules(de, en), Vec::<&str>::new(), "{de}");
        }
    }

    #[test]
    fn links_and_protected_spans_must_be_verbatim() {
        let de =
            "Mehr unter https://example.org/neu. Fragen an presse@example.com oder `cargo run`.";
        let en = "More at https://example.org/new. Questions to presse@example.com or `cargo run`.";
        let start = de.find("`cargo").expect("in the text");
        let code = start..start + "`cargo run`".len();
        let protected = std::slice::from_ref(&code);
        let pair = Pair::english(de, en);
        let opts = Options {
            protected,
            ..Options::default()
        };
        let found = check(&pair, &opts);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "missing-token");
        assert!(found[0].message.contains("https://example.org/neu"));
        let changed = Pair {
            output: "More at https://example.org/neu. Questions to presse@example.com or cargo.",
            ..pair
        };
        let found = check(&changed, &opts);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`cargo run`"));
    }
}
