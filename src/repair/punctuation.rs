//! Rules on punctuation runs and spacing: doubled marks (`,,` `..` `!!` `::`), a space before a
//! comma or full stop, repeated spaces between words, and a dot glued to the word before a
//! name that starts with one (`das.NET`).

use super::Rule;
use super::edit::EditSet;
use super::scan::{char_at, char_before, is_closer, run_before};

/// `,,` `;;` `::` `!!` `??` → one mark, `..` → `.` (never `...` or `…`), and `Wort ,` → `Wort,`.
pub(super) fn double_punctuation(text: &str, edits: &mut EditSet) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, mark) = chars[i];
        if !matches!(mark, ',' | '.' | ';' | ':' | '!' | '?') {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].1 == mark {
            j += 1;
        }
        let run_len = j - i;
        let end = chars.get(j).map_or(text.len(), |&(pos, _)| pos);
        i = j;

        let next = char_at(text, end);
        let (space_start, spaces) = run_before(text, start, |c| c == ' ');
        let word_before = char_before(text, space_start).is_some_and(char::is_alphanumeric);
        let ends_word = next.is_none_or(|n| n.is_whitespace() || is_closer(n));
        let strip = !spaces.is_empty()
            && word_before
            && ends_word
            && match mark {
                ',' => true,
                '.' => run_len <= 2,
                _ => false,
            };
        let before = if strip {
            char_before(text, space_start)
        } else {
            char_before(text, start)
        };
        let collapse = run_len >= 2 && collapsible(mark, run_len, before, next);
        if strip || collapse {
            let from = if strip { space_start } else { start };
            let after = if collapse {
                mark.to_string()
            } else {
                text[start..end].to_owned()
            };
            edits.propose(Rule::DoublePunctuation, from..end, after);
        }
    }
}

/// Whether a run of `len` copies of `mark` between `before` and `next` is a doubling error
/// rather than an ellipsis, a path, a range, `std::io` or a typewriter quote (`,,Wort''`).
fn collapsible(mark: char, len: usize, before: Option<char>, next: Option<char>) -> bool {
    match mark {
        ',' => {
            let typewriter_quote = before.is_none_or(|b| b.is_whitespace() || b == '(')
                && next.is_some_and(char::is_alphabetic);
            !typewriter_quote
        }
        '.' => {
            len == 2
                && before.is_some_and(|b| !b.is_whitespace() && b != '…')
                && next.is_none_or(|n| n.is_whitespace() || is_closer(n))
        }
        ':' => {
            let path = before.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric);
            !path && next != Some('=')
        }
        _ => true,
    }
}

/// Two or more spaces between two non-space characters on one line → one space. Leading
/// indentation and trailing spaces (Markdown hard breaks) are left alone.
pub(super) fn double_space(text: &str, edits: &mut EditSet) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let inside_line = char_before(text, start).is_some_and(|c| !c.is_whitespace())
            && char_at(text, i).is_some_and(|c| !c.is_whitespace());
        if i - start >= 2 && inside_line {
            edits.propose(Rule::DoubleSpace, start..i, " ");
        }
    }
}

/// Names that begin with a dot and that machine translation glues to the preceding article.
const DOT_NAMES: [&str; 1] = [".NET"];

/// `das.NET Framework` → `das .NET Framework`: a lowercase word of two or more letters glued to
/// a dot name. `ASP.NET`, domains and file names keep their dot.
pub(super) fn glued_dot(text: &str, edits: &mut EditSet) {
    for name in DOT_NAMES {
        for (pos, _) in text.match_indices(name) {
            let end = pos + name.len();
            if char_at(text, end).is_some_and(char::is_alphanumeric) {
                continue;
            }
            let (word_start, word) =
                run_before(text, pos, |c| c.is_alphabetic() && c.is_lowercase());
            let free_standing = char_before(text, word_start).is_none_or(|c| {
                !c.is_alphanumeric() && !matches!(c, '.' | '/' | '@' | '-' | '_' | ':')
            });
            if word.chars().count() >= 2 && free_standing {
                edits.propose(Rule::GluedDot, pos..pos + 1, " .");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::repair::{Rule, repair};

    fn fixed(input: &str) -> String {
        repair(input, &[]).text
    }

    fn rules(input: &str) -> Vec<Rule> {
        repair(input, &[]).repairs.iter().map(|r| r.rule).collect()
    }

    #[test]
    fn doubled_marks_collapse() {
        let cases = [
            ("Daten,, Dienste und Geräte", "Daten, Dienste und Geräte"),
            ("Das war es.. Danach nichts.", "Das war es. Danach nichts."),
            ("Wirklich!! Nein??", "Wirklich! Nein?"),
            (
                "Er sagte:: nichts;; gar nichts.",
                "Er sagte: nichts; gar nichts.",
            ),
            ("Wie bitte?!! Nie.", "Wie bitte?! Nie."),
        ];
        for (input, want) in cases {
            assert_eq!(fixed(input), want, "{input}");
        }
    }

    #[test]
    fn space_before_comma_or_dot_goes() {
        assert_eq!(
            fixed("Erst das Wort , dann der Satz ."),
            "Erst das Wort, dann der Satz."
        );
        assert_eq!(fixed("Am Ende  ,, fehlte alles"), "Am Ende, fehlte alles");
        assert_eq!(rules("Wort ,, weiter"), [Rule::DoublePunctuation]);
    }

    #[test]
    fn valid_punctuation_stays() {
        for clean in [
            "Und dann ... nichts mehr.",
            "Und dann … nichts.",
            "Er zögerte … und ging.",
            "Was soll das?!",
            "Siehe ../docs und 1..10 sowie std::io.",
            "Die Endung .txt ist üblich, .NET auch.",
            "Er schrieb ,,Hallo'' an die Tafel.",
            "Der Wert liegt bei 3,14 und 1.400 Stück.",
            "Das Ende....",
        ] {
            assert!(rules(clean).is_empty(), "{clean}");
        }
    }

    #[test]
    fn double_spaces_inside_a_line_only() {
        assert_eq!(fixed("Zwei  Wörter   hier"), "Zwei Wörter hier");
        assert_eq!(rules("  eingerückt"), []);
        assert_eq!(rules("harter Umbruch  \nweiter"), []);
        assert_eq!(rules("Ende.  "), []);
    }

    #[test]
    fn glued_dot_before_dot_net() {
        assert_eq!(
            fixed("Wir nutzen das.NET Framework."),
            "Wir nutzen das .NET Framework."
        );
        assert_eq!(
            fixed("Migration auf.NET-Dienste"),
            "Migration auf .NET-Dienste"
        );
        for clean in [
            "Die Seite läuft mit ASP.NET.",
            "Node.js und z.B. Version 1.2 und www.beispiel.NET bleiben.",
            "Das .NET Framework ist alt.",
            "Ein a.NET bleibt.",
        ] {
            assert!(rules(clean).is_empty(), "{clean}");
        }
    }
}
