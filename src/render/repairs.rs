//! The list under the diff: every offline repair (rule, before → after), by paragraph, in the
//! same wrapping and styles as the diff. (What needs checking shows as notes in the diff.)

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use super::sheet::Sheet;
use super::wrap::Role;
use super::{RenderOptions, sanitize};
use crate::count::plural;
use crate::repair::{RepairMark, RepairedSegment};

/// The German that was sent, as runs: the text the repairs wrote marked
/// [`Role::Repaired`], the rest plain; each piece sanitised. Marks that do not fit `text` are
/// left out.
pub fn repaired_runs<'t>(text: &'t str, marks: &[RepairMark]) -> Vec<(Role, Cow<'t, str>)> {
    let mut runs = Vec::new();
    let mut at = 0;
    for mark in RepairMark::usable(text, marks) {
        if at < mark.range.start {
            runs.push((Role::Same, sanitize(&text[at..mark.range.start])));
        }
        runs.push((Role::Repaired, sanitize(&text[mark.range.clone()])));
        at = mark.range.end;
    }
    if at < text.len() || runs.is_empty() {
        runs.push((Role::Same, sanitize(&text[at..])));
    }
    runs
}

/// [`repaired_runs`] for the part `range` of `text` (one band of a side-by-side), with the
/// marks that lie inside it.
pub fn repaired_runs_within<'t>(
    text: &'t str,
    marks: &[RepairMark],
    range: std::ops::Range<usize>,
) -> Vec<(Role, Cow<'t, str>)> {
    let part = text.get(range.clone()).unwrap_or_default();
    repaired_runs(part, &RepairMark::within(text, marks, &range))
}

/// Writes the repairs of a document; nothing when there are none.
pub fn render_repairs(
    segments: &[RepairedSegment],
    source: &str,
    opts: &RenderOptions,
    out: &mut impl Write,
) -> io::Result<()> {
    let sheet = Sheet::new(opts);
    let repairs: usize = segments.iter().map(|s| s.repairs.len()).sum();
    if repairs > 0 {
        writeln!(out)?;
        let noun = plural(repairs, "repair", "repairs");
        sheet.full(out, Role::Title, &format!("{repairs} {noun}"))?;
        for seg in segments {
            for r in &seg.repairs {
                let (left, right) = context(source, r.range.clone());
                let runs = [
                    (
                        Role::Header,
                        Cow::from(format!("¶ {} · {}: ", seg.index + 1, r.rule.id())),
                    ),
                    (Role::Same, left.clone()),
                    (Role::Deleted, visible(&r.before)),
                    (Role::Same, right.clone()),
                    (Role::Same, Cow::from("  →  ")),
                    (Role::Same, left),
                    (Role::Inserted, visible(&r.after)),
                    (Role::Same, right),
                ];
                sheet.prefixed(out, "", &sheet.wrap(&runs, sheet.width))?;
            }
        }
    }
    Ok(())
}

/// A few characters of the source on each side of a repair, within its line (`…` where the
/// text goes on), so that a one-character fix can be found in the text.
fn context(source: &str, range: Range<usize>) -> (Cow<'_, str>, Cow<'_, str>) {
    const MAX_CHARS: usize = 10;
    let head = source.get(..range.start).unwrap_or_default();
    let tail = source.get(range.end..).unwrap_or_default();

    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c != '\n')
        .take(MAX_CHARS)
        .last()
        .map_or(head.len(), |(i, _)| i);
    let left = &head[start..];

    let end = tail
        .char_indices()
        .take_while(|&(_, c)| c != '\n')
        .take(MAX_CHARS)
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let right = &tail[..end];
    let cut = |rest: &str| !rest.is_empty() && !rest.starts_with('\n');
    let left = if cut(&head[..start]) {
        format!("…{}", sanitize(left)).into()
    } else {
        sanitize(left)
    };
    let right = if cut(&tail[end..]) {
        format!("{}…", sanitize(right)).into()
    } else {
        sanitize(right)
    };
    (left, right)
}

/// Spaces matter in a repair (most insert one), so show them.
fn visible(text: &str) -> Cow<'_, str> {
    let text = sanitize(text);
    if text.contains(' ') {
        text.replace(' ', "·").into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{DiffOptions, diff_by_index};
    use crate::render::{ColorMode, Layout, render_diff};
    use crate::repair::repair_document;
    use crate::segment::Format;

    #[test]
    fn the_repaired_german_is_marked_where_the_repairs_wrote() {
        let doc = repair_document("Sie sagte:”Ja.”Dann ging sie.", Format::Plain);
        let text = &doc.segments[0].text;
        let marks = &doc.marks()[0];
        let runs: Vec<(Role, String)> = repaired_runs(text, marks)
            .into_iter()
            .map(|(role, text)| (role, text.into_owned()))
            .collect();
        assert_eq!(
            runs,
            [
                (Role::Same, "Sie sagte:".to_owned()),
                (Role::Repaired, " „".to_owned()),
                (Role::Same, "Ja.".to_owned()),
                (Role::Repaired, "“ ".to_owned()),
                (Role::Same, "Dann ging sie.".to_owned()),
            ]
        );
        // Marks that do not fit (a stale record) are left out, never cut into the text.
        let stale = vec![RepairMark {
            range: 2..200,
            ..marks[0].clone()
        }];
        assert_eq!(
            repaired_runs("Hallo", &stale),
            [(Role::Same, "Hallo".into())]
        );
        assert_eq!(repaired_runs("", &[]), [(Role::Same, "".into())]);
    }

    #[test]
    fn the_source_pane_shows_the_german_as_sent() {
        let doc = repair_document("Sie sagte:”Ja.”Dann ging sie.", Format::Plain);
        let diff = diff_by_index(
            &["She said \"Yes.\" Then she left."],
            &["She said “Yes.” Then she left."],
            &DiffOptions::default(),
        );
        let opts = RenderOptions {
            width: 200,
            layout: Layout::SideBySide,
            color: ColorMode::Debug,
            titles: ("draft".to_owned(), "final".to_owned()),
            context: Some(0),
            source: Some(("German".to_owned(), vec![doc.segments[0].text.clone()])),
            source_repairs: doc.marks(),
            notes: Vec::new(),
        };
        let mut out = Vec::new();
        render_diff(&diff, &opts, &mut out).expect("renders");
        let out = String::from_utf8(out).expect("UTF-8");
        // Sentence by sentence: the second sentence starts its own row in every pane.
        assert!(
            out.contains("Sie sagte:<rep> „</rep>Ja.<rep>“</rep>"),
            "{out}"
        );
        assert!(out.contains("\nDann ging sie. "), "{out}");
    }
}
