//! How a pair's chunks become styled runs for one view of it: shared text, removals and
//! insertions, all sanitised, with whitespace-only changes made visible.

use std::borrow::Cow;

use super::sanitize;
use super::wrap::Role;
use crate::diff::{Chunk, Pair};

/// Which text of a pair a layout shows in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// Shared text plus what was removed or replaced.
    Old,
    /// Shared text plus what was inserted or the replacement.
    New,
    /// Both: each change as its old text followed by its new text.
    Redline,
}

pub(super) fn runs(pair: &Pair, view: View) -> Vec<(Role, Cow<'_, str>)> {
    let mut runs = Vec::new();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => runs.push((Role::Same, sanitize(text))),
            Chunk::Change { old, new, .. } => {
                if view != View::New && !old.is_empty() {
                    runs.push((Role::Deleted, shown_change(old)));
                }
                if view != View::Old && !new.is_empty() {
                    runs.push((Role::Inserted, shown_change(new)));
                }
            }
        }
    }
    runs
}

/// A change side made only of whitespace would vanish (and be dropped at wrap points), so it is
/// drawn with visible stand-ins, followed by a zero-width space so that the row may still break
/// where the real whitespace is.
fn shown_change(text: &str) -> Cow<'_, str> {
    if !text.chars().all(char::is_whitespace) {
        return sanitize(text);
    }
    let mut shown: String = text
        .chars()
        .map(|c| match c {
            '\n' => '↵',
            '\t' => '→',
            _ => '·',
        })
        .collect();
    shown.push('\u{200B}');
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{DiffOptions, diff_document};

    #[test]
    fn views_pick_their_side() {
        let diff = diff_document(
            &["Er ass\x07 gern."],
            &["Er aß gern."],
            &DiffOptions::default(),
        );
        let pair = &diff.pairs[0];
        let shown = |view| -> Vec<(Role, String)> {
            runs(pair, view)
                .into_iter()
                .map(|(role, text)| (role, text.into_owned()))
                .collect()
        };
        let run = |role, text: &str| (role, text.to_owned());
        assert_eq!(
            shown(View::Old),
            [
                run(Role::Same, "Er "),
                run(Role::Deleted, "ass␇"),
                run(Role::Same, " gern.")
            ]
        );
        assert_eq!(
            shown(View::Redline),
            [
                run(Role::Same, "Er "),
                run(Role::Deleted, "ass␇"),
                run(Role::Inserted, "aß"),
                run(Role::Same, " gern.")
            ]
        );
    }

    #[test]
    fn whitespace_changes_get_stand_ins() {
        assert_eq!(shown_change("  "), "··\u{200B}");
        assert_eq!(shown_change("\n\t"), "↵→\u{200B}");
        assert_eq!(shown_change(" und "), " und ");
    }
}
