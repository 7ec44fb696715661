//! The unified-diff report, for tools that speak patches: each side's paragraphs one per line
//! (line breaks inside a paragraph shown as `↵`), compared line by line by `similar` with
//! `--- old` / `+++ new` headers from the titles.

use std::io::{self, Write};

use similar::{Algorithm, TextDiff};

use super::ReportInput;
use crate::diff::Pair;
use crate::render::sanitize;

pub(super) fn write(input: &ReportInput, context: usize, out: &mut impl Write) -> io::Result<()> {
    let pairs = &input.diff.pairs;
    let old = lines(pairs, |pair| (&pair.old, pair.old_paragraphs.len()));
    let new = lines(pairs, |pair| (&pair.new, pair.new_paragraphs.len()));
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_lines(&old, &new);
    diff.unified_diff()
        .context_radius(context)
        .missing_newline_hint(false)
        .header(&title(input.titles.0), &title(input.titles.1))
        .to_writer(out)
}

/// One side as text with one paragraph per line. A pair that holds several paragraphs of this
/// side (a split or merge) joined them with a blank line, so it is cut there again.
fn lines<'p>(pairs: &'p [Pair], side: impl Fn(&'p Pair) -> (&'p String, usize)) -> String {
    let mut text = String::new();
    for pair in pairs {
        let (paragraphs, count) = side(pair);
        if count == 0 {
            continue;
        }
        let parts: Vec<&str> = if count > 1 {
            paragraphs.split("\n\n").collect()
        } else {
            vec![paragraphs]
        };
        for part in parts {
            text.push_str(&sanitize(part).replace('\n', "↵"));
            text.push('\n');
        }
    }
    text
}

fn title(text: &str) -> String {
    sanitize(text).replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use crate::diff::{DiffOptions, diff_document};

    fn render(input: &ReportInput, context: usize) -> String {
        let mut out = Vec::new();
        write(input, context, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the diff is UTF-8")
    }

    #[test]
    fn identical_documents_give_nothing() {
        let diff = diff_document(
            &["Eins.", "Zwei."],
            &["Eins.", "Zwei."],
            &DiffOptions::default(),
        );
        assert_eq!(render(&ReportInput::new(&diff, ("a", "b"), "test"), 3), "");
    }

    #[test]
    fn context_limits_the_unchanged_lines() {
        let old = ["Eins.", "Zwei.", "Drei.", "Vier.", "Fünf."];
        let new = ["Eins.", "Zwei.", "Drei!", "Vier.", "Fünf."];
        let diff = diff_document(&old, &new, &DiffOptions::default());
        let input = ReportInput::new(&diff, ("alt.txt", "neu.txt"), "test");
        assert_eq!(
            render(&input, 1),
            "--- alt.txt\n+++ neu.txt\n@@ -2,3 +2,3 @@\n Zwei.\n-Drei.\n+Drei!\n Vier.\n"
        );
    }

    #[test]
    fn snapshot_unified() {
        let fixture = Fixture::new();
        let patch = render(&fixture.input(), 1);
        assert!(!patch.chars().any(|c| c.is_control() && c != '\n'));
        assert!(patch.contains("+It became two.\n"), "{patch}");
        insta::assert_snapshot!(patch);
    }
}
