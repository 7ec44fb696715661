//! The consistency check, across the segments of one document: the same German name rendered
//! two ways in the English ("Kopilot" as "Copilot" in one paragraph, "Co-Pilot" in another).
//! Names come from two places: the ones the restore pass said it rendered (the model's
//! `terms`), and capitalised German words some English paragraph keeps verbatim ("Openai").
//! Every other paragraph whose German has the name is then read for how it rendered it: the
//! model's own word for that paragraph, a rendering seen elsewhere, or a variant of one — the
//! same letters once case, hyphens and spaces are set aside ("Co-Pilot", "OpenAI"), the German
//! form itself, or for a long single word one letter off ("Canada" for a kept "Kanada"). A
//! paragraph that says neither (a pronoun, a rewording) is never judged, so ordinary words
//! cannot raise a finding. The rendering most paragraphs use (the earliest on a tie) is the
//! reference; every paragraph that differs gets a warning. The user's glossary terms are left
//! to the glossary check, which already names each paragraph that misses one.

use std::ops::Range;

use super::text::tokens;
use super::{Check, Finding, Severity};
use crate::glossary::{self, Glossary, Term};
use crate::segment::SegmentId;

/// One finished segment of the document.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    pub id: SegmentId,
    /// The German (spans refer to it).
    pub source: &'a str,
    /// The English.
    pub output: &'a str,
    /// The names the model said it rendered in this segment.
    pub terms: &'a [Term],
}

/// A kept German word must be at least this long to count as a name.
const NAME_CHARS: usize = 4;
/// A one-letter-off variant is only looked for in single words at least this long.
const FUZZY_CHARS: usize = 6;

/// One German name and the renderings seen for it, in order of discovery.
struct Name {
    de: String,
    seen: Vec<String>,
}

/// How one segment rendered a name.
struct Use {
    segment: usize,
    rendering: String,
    source_span: Option<Range<usize>>,
    output_span: Range<usize>,
}

pub fn check(segments: &[Rendered], glossary: Option<&Glossary>) -> Vec<Finding> {
    let in_glossary = |de: &str| {
        glossary.is_some_and(|g| g.terms().iter().any(|t| t.de.eq_ignore_ascii_case(de)))
    };
    let mut names: Vec<Name> = Vec::new();
    let mut note = |de: &str, rendering: &str| {
        if in_glossary(de) {
            return;
        }
        let at = match names.iter().position(|n| n.de == de) {
            Some(at) => at,
            None => {
                names.push(Name {
                    de: de.to_owned(),
                    seen: Vec::new(),
                });
                names.len() - 1
            }
        };
        if !names[at].seen.iter().any(|s| s == rendering) {
            names[at].seen.push(rendering.to_owned());
        }
    };
    for segment in segments {
        for term in segment.terms {
            note(&term.de, &term.en);
        }
        let kept: Vec<&str> = tokens(segment.output).into_iter().map(|(_, w)| w).collect();
        for (_, word) in tokens(segment.source) {
            if is_name_like(word) && kept.contains(&word) {
                note(word, word);
            }
        }
    }

    let mut findings = Vec::new();
    for name in &names {
        let uses: Vec<Use> = segments
            .iter()
            .enumerate()
            .filter_map(|(k, segment)| rendering(k, segment, name))
            .collect();
        findings.extend(variants(name, &uses, segments));
    }
    findings
}

/// How segment `k` rendered `name`, if its German has the name and its English shows a
/// rendering.
fn rendering(k: usize, segment: &Rendered, name: &Name) -> Option<Use> {
    let at = glossary::find(segment.source, &name.de)?;
    let source_span = segment
        .source
        .get(at..at + name.de.len())
        .map(|_| at..at + name.de.len());
    let own = segment
        .terms
        .iter()
        .filter(|t| t.de == name.de)
        .map(|t| t.en.as_str());
    let seen = name.seen.iter().map(String::as_str);
    let found = own
        .chain(seen.clone())
        .chain([name.de.as_str()])
        .find_map(|form| Some((form.to_owned(), find_form(segment.output, form)?)))
        .or_else(|| {
            seen.chain([name.de.as_str()])
                .find_map(|form| variant_of(segment.output, form))
        });
    let (rendering, output_span) = found?;
    Some(Use {
        segment: k,
        rendering,
        source_span,
        output_span,
    })
}

/// A warning for every use that differs from the one most uses agree on.
fn variants(name: &Name, uses: &[Use], segments: &[Rendered]) -> Vec<Finding> {
    let key = |r: &str| same_key(r);
    let mut counts: Vec<(String, usize, usize)> = Vec::new(); // (key, count, first use)
    for (i, used) in uses.iter().enumerate() {
        let k = key(&used.rendering);
        match counts.iter_mut().find(|(c, _, _)| *c == k) {
            Some(entry) => entry.1 += 1,
            None => counts.push((k, 1, i)),
        }
    }
    if counts.len() < 2 {
        return Vec::new();
    }
    // Most uses first; on a tie the earliest.
    let Some((reference, _, first)) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .cloned()
    else {
        return Vec::new();
    };
    let shown = &uses[first];
    let elsewhere = segments[shown.segment].id.paragraph();
    uses.iter()
        .filter(|u| key(&u.rendering) != reference)
        .map(|u| {
            let message = format!(
                "\"{}\" is \"{}\" here but \"{}\" elsewhere (¶ {elsewhere}): one name, two renderings",
                name.de, u.rendering, shown.rendering
            );
            let finding = Finding::new(
                segments[u.segment].id,
                Check::Consistency,
                "term-variants",
                Severity::Warning,
                message,
            )
            .in_output(u.output_span.clone());
            match &u.source_span {
                Some(span) => finding.in_source(span.clone()),
                None => finding,
            }
        })
        .collect()
}

/// Two renderings are the same when they differ at most in the case of the first letter (a
/// sentence start).
fn same_key(rendering: &str) -> String {
    let mut chars = rendering.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// A German word that may be a name when the English keeps it as written: capitalised, with
/// lower-case letters after (acronyms are the name check's), and long enough not to be a
/// function word. (A German noun the English writes in lower case is no name: "Chips".)
fn is_name_like(word: &str) -> bool {
    let mut chars = word.chars();
    let starts_upper = chars.next().is_some_and(char::is_uppercase);
    starts_upper
        && word.chars().count() >= NAME_CHARS
        && word.chars().any(char::is_lowercase)
        && !word.chars().any(|c| c.is_ascii_digit())
}

/// Where `form` occurs in `text` as written (the first letter's case and a plural or genitive
/// ending aside): its span.
fn find_form(text: &str, form: &str) -> Option<Range<usize>> {
    let at = glossary::find(text, form)?;
    let end = at + form.len();
    text.get(at..end).map(|_| at..end)
}

/// A written form of `form` in `text` that is not `form` itself: a run of one or more words
/// joined by hyphens or single spaces that spells the same letters ignoring case ("Co-Pilot",
/// "Open AI"), or, for a single long word, a capitalised word of the same length one letter
/// off ("Canada" for "Kanada").
fn variant_of(text: &str, form: &str) -> Option<(String, Range<usize>)> {
    let want = letters(form);
    if want.is_empty() {
        return None;
    }
    let words = tokens(text);
    let single = tokens(form).len() == 1 && form.chars().count() >= FUZZY_CHARS;
    for start in 0..words.len() {
        let mut end = start;
        loop {
            let span = words[start].0.start..words[end].0.end;
            let written = &text[span.clone()];
            let got = letters(written);
            let plural = got.strip_suffix('s') == Some(want.as_str());
            if (got == want || plural) && same_key(written) != same_key(form) {
                let written = if plural && !letters(form).ends_with('s') {
                    written.trim_end_matches('s')
                } else {
                    written
                };
                if same_key(written) != same_key(form) {
                    return Some((written.to_owned(), span));
                }
            }
            if got.len() >= want.len() || end + 1 >= words.len() {
                break;
            }
            let gap = &text[words[end].0.end..words[end + 1].0.start];
            if !matches!(gap, "-" | " " | "‑") {
                break;
            }
            end += 1;
        }
        let (span, word) = &words[start];
        if single && one_letter_off(word, form) {
            return Some(((*word).to_owned(), span.clone()));
        }
    }
    None
}

/// The letters and digits of `text`, lower-cased.
fn letters(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Same length, capitalised, exactly one letter different ("Canada" and "Kanada").
fn one_letter_off(word: &str, form: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (word.chars().collect(), form.chars().collect());
    a.len() == b.len()
        && a.first().is_some_and(|c| c.is_uppercase())
        && a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment<'a>(i: usize, source: &'a str, output: &'a str, terms: &'a [Term]) -> Rendered<'a> {
        Rendered {
            id: SegmentId(i),
            source,
            output,
            terms,
        }
    }

    fn messages(segments: &[Rendered]) -> Vec<(usize, String)> {
        check(segments, None)
            .into_iter()
            .map(|f| (f.segment.map_or(0, SegmentId::paragraph), f.message))
            .collect()
    }

    #[test]
    fn a_name_rendered_two_ways_is_a_warning_on_the_odd_one() {
        let learned = [Term::new("Kopilot", "Copilot")];
        let segments = [
            segment(
                0,
                "Der Kopilot schreibt Code.",
                "Copilot writes code.",
                &learned,
            ),
            segment(
                1,
                "Mit dem Kopilot geht es schneller.",
                "With Co-Pilot it is faster.",
                &[],
            ),
            segment(
                2,
                "Kopilot hilft auch beim Testen.",
                "Copilot also helps with testing.",
                &[],
            ),
        ];
        let found = check(&segments, None);
        assert_eq!(found.len(), 1, "{found:?}");
        let finding = &found[0];
        assert_eq!(finding.segment, Some(SegmentId(1)));
        assert_eq!(
            (finding.check, finding.rule, finding.severity),
            (Check::Consistency, "term-variants", Severity::Warning)
        );
        assert!(
            finding.message.contains("\"Co-Pilot\""),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("\"Copilot\""),
            "{}",
            finding.message
        );
        let output = segments[1].output;
        assert_eq!(
            &output[finding.output_span.clone().expect("located")],
            "Co-Pilot"
        );
        let source = segments[1].source;
        assert_eq!(
            &source[finding.source_span.clone().expect("located")],
            "Kopilot"
        );
    }

    #[test]
    fn two_reported_renderings_disagree() {
        let first = [Term::new("Kopilot", "Copilot")];
        let second = [Term::new("Kopilot", "CoPilot")];
        let segments = [
            segment(0, "Der Kopilot.", "Copilot.", &first),
            segment(1, "Der Kopilot.", "CoPilot.", &second),
        ];
        // A tie: the earlier rendering is the reference.
        assert_eq!(messages(&segments).len(), 1);
        assert_eq!(messages(&segments)[0].0, 2);
    }

    #[test]
    fn a_kept_german_form_counts_as_a_rendering() {
        let learned = [Term::new("Kopilot", "Copilot")];
        let segments = [
            segment(0, "Der Kopilot.", "Copilot.", &learned),
            segment(1, "Der Kopilot ist da.", "Copilot is here.", &[]),
            segment(2, "Kopilot kann mehr.", "Kopilot can do more.", &[]),
        ];
        let found = messages(&segments);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 3);
    }

    #[test]
    fn a_name_kept_verbatim_in_one_paragraph_and_changed_in_another() {
        let segments = [
            segment(0, "Openai wächst.", "Openai is growing.", &[]),
            segment(1, "Openai und Microsoft.", "OpenAI and Microsoft.", &[]),
            segment(2, "Kanada und Openai.", "Kanada and Openai.", &[]),
            segment(3, "Kanada baut.", "Canada is building.", &[]),
        ];
        let found = messages(&segments);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].1.contains("\"OpenAI\"") && found[0].0 == 2,
            "{found:?}"
        );
        // A tie for Kanada: the earlier one is the reference.
        assert!(
            found[1].1.contains("\"Canada\"") && found[1].0 == 4,
            "{found:?}"
        );
    }

    #[test]
    fn same_rendering_case_at_a_sentence_start_plurals_and_pronouns_are_fine() {
        let learned = [Term::new("Kopilot", "Copilot")];
        let segments = [
            segment(0, "Der Kopilot.", "The Copilot.", &learned),
            segment(1, "Kopiloten helfen.", "Copilots help.", &[]),
            segment(2, "Der Kopilot hilft.", "It helps.", &[]),
            segment(3, "Kopilot und Microsoft.", "copilot and Microsoft.", &[]),
        ];
        assert!(messages(&segments).is_empty(), "{:?}", messages(&segments));
    }

    #[test]
    fn ordinary_words_and_glossary_terms_raise_nothing() {
        // German nouns kept nowhere in the English are not names; the glossary check owns
        // glossary terms.
        let segments = [
            segment(0, "Die Regierung plant.", "The government plans.", &[]),
            segment(
                1,
                "Die Regierung zögert.",
                "The administration hesitates.",
                &[],
            ),
            segment(2, "Der Kopilot.", "Copilot.", &[]),
            segment(3, "Der Kopilot.", "Co-Pilot.", &[]),
        ];
        assert!(messages(&segments).is_empty());
        let reported = [Term::new("Kopilot", "Copilot")];
        let with_terms = [
            segment(0, "Der Kopilot.", "Copilot.", &reported),
            segment(1, "Der Kopilot.", "Co-Pilot.", &[]),
        ];
        let glossary = Glossary::from_terms(vec![Term::new("Kopilot", "Copilot")]);
        assert!(check(&with_terms, Some(&glossary)).is_empty());
        assert_eq!(check(&with_terms, None).len(), 1);
    }

    #[test]
    fn variants_join_words_by_hyphens_and_spaces_only() {
        assert_eq!(
            variant_of("With Co-Pilot, faster.", "Copilot").map(|v| v.0),
            Some("Co-Pilot".to_owned())
        );
        assert_eq!(
            variant_of("Open AI said so.", "OpenAI").map(|v| v.0),
            Some("Open AI".to_owned())
        );
        assert_eq!(variant_of("Co. Pilot", "Copilot"), None);
        assert_eq!(variant_of("Copilot", "Copilot"), None);
        assert_eq!(variant_of("copilot", "Copilot"), None);
        assert_eq!(variant_of("the band", "Hand"), None);
    }
}
