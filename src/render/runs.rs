//! How a pair's chunks become styled runs for one view of it: shared text, removals and
//! insertions, all sanitised, with whitespace-only changes made visible and small edits inside
//! a word narrowed to the graphemes that differ.

use std::borrow::Cow;
use std::ops::Range;

use super::bands::clip;
use super::sanitize;
use super::wrap::Role;
use crate::diff::{Chunk, Emphasis, Pair};

/// Which text of a pair a layout shows in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Shared text plus what was removed or replaced.
    Old,
    /// Shared text plus what was inserted or the replacement.
    New,
    /// Both: each change as its old text followed by its new text.
    Redline,
}

/// A rewritten pair has one change, the whole old text against the whole new one, so it shows
/// as one removal and one insertion with no word emphasis.
pub(super) fn runs(pair: &Pair, side: Side) -> Vec<(Role, Cow<'_, str>)> {
    focused_runs(pair, side, None)
}

/// [`runs`] with the change numbered `focus` (counting changes only) in the focus roles.
pub(super) fn focused_runs(
    pair: &Pair,
    side: Side,
    focus: Option<usize>,
) -> Vec<(Role, Cow<'_, str>)> {
    runs_within(pair, side, focus, None)
}

/// [`focused_runs`] of the bytes `within` of the side's own text (`pair.old` for
/// [`Side::Old`], `pair.new` for [`Side::New`]; ignored for [`Side::Redline`]), so that a
/// band of a pair shows its changes exactly as the whole pair would. `None`: the whole side.
pub(super) fn runs_within(
    pair: &Pair,
    side: Side,
    focus: Option<usize>,
    within: Option<Range<usize>>,
) -> Vec<(Role, Cow<'_, str>)> {
    let mut cursor = Cursor {
        at: 0,
        within: within.filter(|_| side != Side::Redline),
    };
    let mut runs = Vec::new();
    let mut change = 0;
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => {
                if let Some(text) = cursor.take(text) {
                    runs.push((Role::Same, sanitize(text)));
                }
            }
            Chunk::Change {
                old, new, emphasis, ..
            } => {
                let focused = focus == Some(change);
                change += 1;
                let (deleted, inserted) = if focused {
                    (
                        (Role::DeletedFocus, Role::DeletedFocus),
                        (Role::InsertedFocus, Role::InsertedFocus),
                    )
                } else {
                    (
                        (Role::Deleted, Role::DeletedSoft),
                        (Role::Inserted, Role::InsertedSoft),
                    )
                };
                if side != Side::New && !old.is_empty() {
                    match emphasis {
                        Some(Emphasis { old: pieces, .. }) => {
                            emphasised(&mut runs, pieces, deleted, &mut cursor);
                        }
                        None => {
                            if let Some(old) = cursor.take(old) {
                                runs.push((deleted.0, shown_change(old)));
                            }
                        }
                    }
                }
                if side != Side::Old && !new.is_empty() {
                    match emphasis {
                        Some(Emphasis { new: pieces, .. }) => {
                            emphasised(&mut runs, pieces, inserted, &mut cursor);
                        }
                        None => {
                            if let Some(new) = cursor.take(new) {
                                runs.push((inserted.0, shown_change(new)));
                            }
                        }
                    }
                }
            }
        }
    }
    runs
}

/// Walks one side's text piece by piece, keeping what lies `within` a range of it.
struct Cursor {
    /// Where the next piece starts in the side's text; only that side's pieces advance it.
    at: usize,
    within: Option<Range<usize>>,
}

impl Cursor {
    fn take<'t>(&mut self, text: &'t str) -> Option<&'t str> {
        let start = self.at;
        self.at += text.len();
        match &self.within {
            None => Some(text),
            Some(within) => Some(clip(text, start, within)).filter(|t| !t.is_empty()),
        }
    }
}

/// One side of an edited word: the differing graphemes in the change's role, the rest softer.
fn emphasised<'p>(
    runs: &mut Vec<(Role, Cow<'p, str>)>,
    pieces: &'p [(bool, String)],
    (strong, soft): (Role, Role),
    cursor: &mut Cursor,
) {
    for (emphasised, text) in pieces {
        let role = if *emphasised { strong } else { soft };
        if let Some(text) = cursor.take(text) {
            runs.push((role, sanitize(text)));
        }
    }
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
    use crate::diff::{DiffOptions, diff_by_index};

    fn shown(pair: &Pair, side: Side) -> Vec<(Role, String)> {
        runs(pair, side)
            .into_iter()
            .map(|(role, text)| (role, text.into_owned()))
            .collect()
    }

    fn run(role: Role, text: &str) -> (Role, String) {
        (role, text.to_owned())
    }

    #[test]
    fn views_pick_their_side() {
        let diff = diff_by_index(
            &["Er ass\x07 gern."],
            &["Er aß gern."],
            &DiffOptions::default(),
        );
        let pair = &diff.pairs[0];
        assert_eq!(
            shown(pair, Side::Old),
            [
                run(Role::Same, "Er "),
                run(Role::Deleted, "ass␇"),
                run(Role::Same, " gern.")
            ]
        );
        assert_eq!(
            shown(pair, Side::Redline),
            [
                run(Role::Same, "Er "),
                run(Role::Deleted, "ass␇"),
                run(Role::Inserted, "aß"),
                run(Role::Same, " gern.")
            ]
        );
    }

    #[test]
    fn edited_words_emphasise_only_what_differs() {
        let diff = diff_by_index(
            &["Die Grosse Stadt."],
            &["Die Größe Stadt."],
            &DiffOptions::default(),
        );
        assert_eq!(
            shown(&diff.pairs[0], Side::Redline),
            [
                run(Role::Same, "Die "),
                run(Role::DeletedSoft, "Gr"),
                run(Role::Deleted, "oss"),
                run(Role::DeletedSoft, "e"),
                run(Role::InsertedSoft, "Gr"),
                run(Role::Inserted, "öß"),
                run(Role::InsertedSoft, "e"),
                run(Role::Same, " Stadt.")
            ]
        );
    }

    #[test]
    fn rewritten_pairs_are_one_removal_and_one_insertion() {
        let (old, new) = (
            "Der Umsatz lag im letzten Jahr bei vier Milliarden Euro.",
            "Im Vorjahr setzte die Firma rund vier Milliarden um.",
        );
        let diff = diff_by_index(&[old], &[new], &DiffOptions::default());
        assert!(diff.pairs[0].rewritten);
        assert_eq!(
            shown(&diff.pairs[0], Side::Redline),
            [run(Role::Deleted, old), run(Role::Inserted, new)]
        );
    }

    #[test]
    fn a_heading_split_off_starts_a_new_row() {
        let diff = diff_by_index(
            &["That was the text. Outlook"],
            &["That was the text.\nOutlook"],
            &DiffOptions::default(),
        );
        let rows = crate::render::pieces::pair_rows(&diff.pairs[0], Side::New, 40, None);
        assert_eq!(
            rows,
            [
                vec![run(Role::Same, "That was the text.")],
                vec![run(Role::Inserted, "Outlook")]
            ]
        );
        let old = crate::render::pieces::pair_rows(&diff.pairs[0], Side::Old, 40, None);
        assert_eq!(
            old,
            [vec![
                run(Role::Same, "That was the text."),
                run(Role::Deleted, " Outlook")
            ]]
        );
    }

    #[test]
    fn whitespace_changes_get_stand_ins() {
        assert_eq!(shown_change("  "), "··\u{200B}");
        assert_eq!(shown_change("\n\t"), "↵→\u{200B}");
        assert_eq!(shown_change(" und "), " und ");
    }
}
