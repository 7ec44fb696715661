//! The list under the diff: every offline repair (rule, before → after), by paragraph, in the
//! same wrapping and styles as the diff. (What needs checking shows as notes in the diff.)

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use super::sheet::Sheet;
use super::wrap::Role;
use super::{RenderOptions, sanitize};
use crate::count::plural;
use crate::repair::RepairedSegment;

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
