//! Double quotation marks: which mark opens and which closes, German glyphs `„…“` throughout
//! the segment, and a space where a mark was glued to a word. Roles come from position first
//! (after a space or colon a mark opens, before a space or punctuation it closes) and from
//! pairing for marks glued on both sides. A segment whose marks cannot be paired is flagged and
//! its glyphs are left alone. Guillemets and single quotes are valid German and never touched.

use std::ops::Range;

use super::edit::EditSet;
use super::scan::{char_at, char_before};
use super::{Flag, Rule};

const OPENING: char = '„';
const CLOSING: char = '“';

fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Opening,
    Closing,
}

/// One double quotation mark and what its neighbours say about it.
#[derive(Debug)]
struct Mark {
    pos: usize,
    glyph: char,
    prev: Option<char>,
    next: Option<char>,
    /// `None` when position alone cannot tell (glued on both sides, or free on both).
    by_position: Option<Role>,
}

impl Mark {
    fn range(&self) -> Range<usize> {
        self.pos..self.pos + self.glyph.len_utf8()
    }

    /// An ASCII mark right after a digit may be an inch or seconds sign (`27"`).
    fn may_be_unit(&self) -> bool {
        self.glyph == '"'
            && self.prev.is_some_and(|c| c.is_ascii_digit())
            && self.next.is_none_or(|c| !c.is_alphanumeric())
    }
}

fn opens_after(prev: Option<char>) -> bool {
    prev.is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '{' | ':' | '–' | '—' | '-'))
}

fn closes_before(next: Option<char>) -> bool {
    next.is_none_or(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '…' | '–' | '—' | '-'
            )
    })
}

fn marks(text: &str, protected: &[Range<usize>]) -> Vec<Mark> {
    text.char_indices()
        .filter(|&(pos, c)| is_double_quote(c) && !protected.iter().any(|r| r.contains(&pos)))
        .map(|(pos, glyph)| {
            let prev = char_before(text, pos);
            let next = char_at(text, pos + glyph.len_utf8());
            let by_position = match (opens_after(prev), closes_before(next)) {
                (true, false) => Some(Role::Opening),
                (false, true) => Some(Role::Closing),
                _ => None,
            };
            Mark {
                pos,
                glyph,
                prev,
                next,
                by_position,
            }
        })
        .collect()
}

/// Roles for every mark not skipped, or the index of the first mark that cannot be paired.
fn pair(marks: &[Mark], skip: impl Fn(&Mark) -> bool) -> Result<Vec<Option<Role>>, usize> {
    let mut roles = vec![None; marks.len()];
    let mut open: Option<usize> = None;
    for (i, mark) in marks.iter().enumerate() {
        if skip(mark) {
            continue;
        }
        let role = match (mark.by_position, open) {
            (Some(Role::Opening), Some(_)) | (Some(Role::Closing), None) => return Err(i),
            (Some(role), _) => role,
            (None, Some(_)) => Role::Closing,
            (None, None) => Role::Opening,
        };
        open = match role {
            Role::Opening => Some(i),
            Role::Closing => None,
        };
        roles[i] = Some(role);
    }
    match open {
        Some(i) => Err(i),
        None => Ok(roles),
    }
}

/// Pair the marks; when that fails, try again reading `27"` as a unit sign.
fn analyse(marks: &[Mark]) -> Result<Vec<Option<Role>>, usize> {
    pair(marks, |_| false).or_else(|first| pair(marks, Mark::may_be_unit).map_err(|_| first))
}

/// The quote pass: German glyphs and spacing when the marks pair up; otherwise only the space
/// that position makes certain (`erklärte:”Wir` → `erklärte: ”Wir`).
pub(super) fn normalise(text: &str, edits: &mut EditSet) {
    let marks = marks(text, edits.protected());
    match analyse(&marks) {
        Ok(roles) => {
            for (mark, role) in marks.iter().zip(roles) {
                let Some(role) = role else { continue };
                let (after, spaced) = match role {
                    Role::Opening => {
                        let spaced = mark.prev.is_some_and(|c| {
                            c.is_alphanumeric()
                                || matches!(c, ':' | ',' | ';' | '.' | '!' | '?' | '…' | ')' | ']')
                        });
                        (
                            format!("{}{OPENING}", if spaced { " " } else { "" }),
                            spaced,
                        )
                    }
                    Role::Closing => {
                        let spaced = mark.next.is_some_and(char::is_alphanumeric);
                        (
                            format!("{CLOSING}{}", if spaced { " " } else { "" }),
                            spaced,
                        )
                    }
                };
                let rule = if spaced {
                    Rule::GluedQuote
                } else {
                    Rule::QuoteStyle
                };
                edits.propose(rule, mark.range(), after);
            }
        }
        Err(_) => {
            for mark in &marks {
                if mark.by_position == Some(Role::Opening) && mark.prev == Some(':') {
                    edits.propose(Rule::GluedQuote, mark.range(), format!(" {}", mark.glyph));
                }
            }
        }
    }
}

/// A flag for a segment whose double quotation marks cannot be paired.
pub(super) fn flags(text: &str, protected: &[Range<usize>]) -> Vec<Flag> {
    let marks = marks(text, protected);
    match analyse(&marks) {
        Ok(_) => Vec::new(),
        Err(i) => vec![Flag {
            rule: Rule::QuoteStyle,
            range: marks[i].range(),
            message: format!(
                "unbalanced quotation marks: the {} in „{}“ cannot be paired; quote glyphs left \
                 as they are",
                marks[i].glyph,
                excerpt(text, marks[i].range())
            ),
        }],
    }
}

/// A few words around `range`, so a message can say where without byte offsets.
fn excerpt(text: &str, range: Range<usize>) -> String {
    const AROUND: usize = 12;
    let before: String = text[..range.start]
        .chars()
        .rev()
        .take(AROUND)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[range.end..].chars().take(AROUND).collect();
    let lead = if before.len() < range.start {
        "…"
    } else {
        ""
    };
    let tail = if range.end + after.len() < text.len() {
        "…"
    } else {
        ""
    };
    format!("{lead}{before}{}{after}{tail}", &text[range])
}

#[cfg(test)]
mod tests {
    use crate::repair::{Rule, repair};

    fn fixed(input: &str) -> String {
        repair(input, &[]).text
    }

    #[test]
    fn glued_quotes_are_spaced_and_germanised() {
        let cases = [
            (
                "Sie erklärte:”Wir bleiben hier.”Danach ging sie.",
                "Sie erklärte: „Wir bleiben hier.“ Danach ging sie.",
            ),
            (
                "Er nannte es als”die beste Woche”und lachte.",
                "Er nannte es als „die beste Woche“ und lachte.",
            ),
            ("Der Chef sagte,”Nein”.", "Der Chef sagte, „Nein“."),
        ];
        for (input, want) in cases {
            assert_eq!(fixed(input), want, "{input}");
        }
        let r = repair("erklärte:”Wir", &[]);
        assert!(!r.flags.is_empty(), "a lone mark is flagged");
        assert_eq!(r.text, "erklärte: ”Wir", "position-certain space only");
        assert_eq!(r.repairs[0].rule, Rule::GluedQuote);
    }

    #[test]
    fn mixed_glyphs_become_german() {
        let cases = [
            (
                "Ein \"Test\" und ein “Versuch”.",
                "Ein „Test“ und ein „Versuch“.",
            ),
            ("Das ”Modell” heißt „Atlas”.", "Das „Modell“ heißt „Atlas“."),
            ("\"Ja\", sagte sie, \"gern.\"", "„Ja“, sagte sie, „gern.“"),
            (
                "Das „Enterprise“-Team und die Anti-\"Spam\"-Regel",
                "Das „Enterprise“-Team und die Anti-„Spam“-Regel",
            ),
        ];
        for (input, want) in cases {
            let r = repair(input, &[]);
            assert_eq!(r.text, want, "{input}");
            assert!(
                r.repairs.iter().all(|x| x.rule == Rule::QuoteStyle),
                "{input}"
            );
        }
    }

    #[test]
    fn unbalanced_marks_are_flagged_not_guessed() {
        for input in [
            "Er sagte ”Hallo und ging.",
            "Sie rief „Komm!“ und dann „nichts.",
            "Sie sagte:”Wir gehen.”Weg.”",
        ] {
            let r = repair(input, &[]);
            assert_eq!(r.flags.len(), 1, "{input}");
            assert!(r.flags[0].message.contains("unbalanced"));
            assert!(
                r.repairs.iter().all(|x| x.rule != Rule::QuoteStyle),
                "{input}"
            );
        }
    }

    #[test]
    fn valid_german_quotes_stay() {
        for clean in [
            "„Wie geht's?“, fragte er.",
            "»Nie wieder«, sagte sie, «niemals».",
            "Sie nannte es ‚gut‘ und ging – Jensens' Hund blieb.",
            "Er sagte: „Das ist ‚unser‘ Weg.“",
            "Ein 27\"-Monitor und ein 24\"-Monitor.",
        ] {
            let r = repair(clean, &[]);
            assert!(r.repairs.is_empty() && r.flags.is_empty(), "{clean}: {r:?}");
        }
    }

    #[test]
    fn protected_marks_are_neither_changed_nor_counted() {
        let text = "Nutze `say \"hi\"` und \"mehr\".";
        let code = 6..16;
        let r = repair(text, std::slice::from_ref(&code));
        assert_eq!(r.text, "Nutze `say \"hi\"` und „mehr“.");
        assert!(
            r.repairs
                .iter()
                .all(|x| x.range.end <= code.start || x.range.start >= code.end)
        );
    }
}
