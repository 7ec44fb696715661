//! The one wrapping routine every layout uses: styled runs in, rows of at most `width` display
//! columns out. Breaks at spaces, hard-breaks only tokens wider than the row (at grapheme
//! boundaries), and counts plain-mode change markers, which are repeated on every row.

use std::mem;

use anstyle::{AnsiColor, Style};
use unicode_segmentation::UnicodeSegmentation;

use super::ColorMode;
use super::visible::display_width;

/// What a piece of text is, independent of how a mode shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Title,
    Header,
    Same,
    Deleted,
    Inserted,
    /// The unchanged rest of a word whose other graphemes are `Deleted`/`Inserted`.
    DeletedSoft,
    InsertedSoft,
    /// The change the review screen is on (never used by the static layouts).
    DeletedFocus,
    InsertedFocus,
    Fold,
    Error,
    Warning,
    /// Text the offline repairs wrote, in the German that was sent: marked subtly.
    Repaired,
}

impl Role {
    /// The role a mode can show: plain text cannot emphasise part of a marked word, so there
    /// the soft roles join their change's markers around the whole word.
    fn shown(self, color: ColorMode) -> Role {
        match (color, self) {
            (ColorMode::Plain, Role::DeletedSoft | Role::DeletedFocus) => Role::Deleted,
            (ColorMode::Plain, Role::InsertedSoft | Role::InsertedFocus) => Role::Inserted,
            _ => self,
        }
    }

    /// wdiff-style markers that stand in for colour in plain mode; readable tags in debug mode.
    pub(super) fn marks(self, color: ColorMode) -> (&'static str, &'static str) {
        match (color, self.shown(color)) {
            (ColorMode::Plain, Role::Deleted) => ("[-", "-]"),
            (ColorMode::Plain, Role::Inserted) => ("{+", "+}"),
            (ColorMode::Debug, role) => role.tags(),
            _ => ("", ""),
        }
    }

    /// Debug mode: every role but plain text as a tag pair.
    fn tags(self) -> (&'static str, &'static str) {
        match self {
            Role::Title => ("<title>", "</title>"),
            Role::Header => ("<hdr>", "</hdr>"),
            Role::Same => ("", ""),
            Role::Deleted => ("<del>", "</del>"),
            Role::Inserted => ("<ins>", "</ins>"),
            Role::DeletedSoft => ("<del~>", "</del~>"),
            Role::InsertedSoft => ("<ins~>", "</ins~>"),
            Role::DeletedFocus => ("<del!>", "</del!>"),
            Role::InsertedFocus => ("<ins!>", "</ins!>"),
            Role::Fold => ("<fold>", "</fold>"),
            Role::Error => ("<err>", "</err>"),
            Role::Warning => ("<warn>", "</warn>"),
            Role::Repaired => ("<rep>", "</rep>"),
        }
    }

    /// 16-colour styles, so they follow the user's terminal theme; with 256 colours or more
    /// changes also get a subtle background tint (delta's dark palette). Changes are underlined
    /// too, so colour is never the only signal.
    pub(super) fn style(self, color: ColorMode) -> Style {
        let tint =
            |index: u8| (color == ColorMode::Tinted).then(|| anstyle::Ansi256Color(index).into());
        match self {
            Role::Deleted => return self.basic_style().bg_color(tint(52)),
            Role::Inserted => return self.basic_style().bg_color(tint(22)),
            _ => {}
        }
        self.basic_style()
    }

    fn basic_style(self) -> Style {
        match self {
            Role::Title => Style::new().bold().underline(),
            Role::Header | Role::Fold => Style::new().dimmed(),
            Role::Error => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
            Role::Warning => Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold(),
            Role::Same => Style::new(),
            // Underlined only: no colour, so it never reads as a change of the diff.
            Role::Repaired => Style::new().underline(),
            Role::Deleted => Style::new()
                .fg_color(Some(AnsiColor::Red.into()))
                .underline(),
            Role::Inserted => Style::new()
                .fg_color(Some(AnsiColor::Green.into()))
                .bold()
                .underline(),
            // The change's colour without the underline: the word is changed, these graphemes
            // are not.
            Role::DeletedSoft => Style::new().fg_color(Some(AnsiColor::Red.into())),
            Role::InsertedSoft => Style::new().fg_color(Some(AnsiColor::Green.into())),
            Role::DeletedFocus => Role::Deleted.basic_style().invert(),
            Role::InsertedFocus => Role::Inserted.basic_style().invert(),
        }
    }

    fn marks_width(self, color: ColorMode) -> usize {
        let (open, close) = self.marks(color);
        open.len() + close.len() // markers are ASCII
    }
}

/// One output row: styled segments (markers not included) and the width they take when shown
/// with markers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) segments: Vec<(Role, String)>,
    pub(super) width: usize,
}

/// Wraps styled runs into rows no wider than `width` (at least 8 keeps every grapheme placeable
/// with its markers). Spaces at wrap points are dropped, `\n` forces a new row.
pub(super) fn wrap<S: AsRef<str>>(runs: &[(Role, S)], width: usize, color: ColorMode) -> Vec<Row> {
    let mut rows = RowBuilder {
        width,
        color,
        rows: Vec::new(),
        row: Row::default(),
        after_wrap: false,
        spaces: Vec::new(),
    };
    let mut word: Vec<(Role, &str)> = Vec::new();
    for (role, text) in runs {
        let role = &role.shown(color);
        for piece in pieces(text.as_ref()) {
            match piece {
                Piece::Ink(ink) => word.push((*role, ink)),
                Piece::Space(space) => {
                    rows.word(mem::take(&mut word));
                    rows.spaces.push((*role, space));
                }
                Piece::Break => rows.word(mem::take(&mut word)),
                Piece::Newline => {
                    rows.word(mem::take(&mut word));
                    rows.spaces.clear();
                    rows.end_row(false);
                }
            }
        }
    }
    rows.word(word);
    if !rows.row.segments.is_empty() {
        rows.rows.push(rows.row);
    }
    rows.rows
}

enum Piece<'a> {
    Ink(&'a str),
    Space(&'a str),
    /// A zero-width space: a break opportunity that prints nothing.
    Break,
    Newline,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Ink,
    Space,
    Break,
    Newline,
}

fn class(c: char) -> Class {
    match c {
        '\n' => Class::Newline,
        '\u{200B}' => Class::Break,
        // No-break spaces glue their neighbours.
        '\u{A0}' | '\u{2007}' | '\u{202F}' => Class::Ink,
        c if c.is_whitespace() => Class::Space,
        _ => Class::Ink,
    }
}

/// Splits text into runs of ink, runs of breakable space, break opportunities and newlines.
fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = class(rest.chars().next()?);
        let end = match first {
            Class::Newline | Class::Break => rest.chars().next().map_or(0, char::len_utf8),
            Class::Ink | Class::Space => rest
                .char_indices()
                .find(|&(_, c)| class(c) != first)
                .map_or(rest.len(), |(at, _)| at),
        };
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(match first {
            Class::Ink => Piece::Ink(piece),
            Class::Space => Piece::Space(piece),
            Class::Break => Piece::Break,
            Class::Newline => Piece::Newline,
        })
    })
}

struct RowBuilder<'a> {
    width: usize,
    color: ColorMode,
    rows: Vec<Row>,
    row: Row,
    /// The current row began at a wrap point, so leading spaces are dropped.
    after_wrap: bool,
    /// Spaces seen since the last word; placed only if a word follows on the same row.
    spaces: Vec<(Role, &'a str)>,
}

impl<'a> RowBuilder<'a> {
    fn last_role(&self) -> Option<Role> {
        self.row.segments.last().map(|&(role, _)| role)
    }

    /// Columns that `pieces` would add to a row whose last segment has role `last`.
    fn cost(&self, mut last: Option<Role>, pieces: &[(Role, &str)]) -> usize {
        let mut cost = 0;
        for &(role, text) in pieces {
            if last != Some(role) {
                cost += role.marks_width(self.color);
                last = Some(role);
            }
            cost += display_width(text);
        }
        cost
    }

    fn fits(&self, pieces: &[(Role, &str)]) -> bool {
        self.row.width + self.cost(self.last_role(), pieces) <= self.width
    }

    fn push(&mut self, pieces: &[(Role, &str)]) {
        self.row.width += self.cost(self.last_role(), pieces);
        for &(role, text) in pieces {
            match self.row.segments.last_mut() {
                Some((last, shown)) if *last == role => shown.push_str(text),
                _ => self.row.segments.push((role, text.to_owned())),
            }
        }
    }

    fn end_row(&mut self, wrapped: bool) {
        self.rows.push(mem::take(&mut self.row));
        self.after_wrap = wrapped;
    }

    /// Places one unbreakable word (possibly spanning several roles) with the spaces before it.
    fn word(&mut self, word: Vec<(Role, &'a str)>) {
        if word.is_empty() {
            return;
        }
        let spaces = mem::take(&mut self.spaces);
        if !(self.row.segments.is_empty() && self.after_wrap) {
            let with_spaces: Vec<(Role, &str)> = spaces.into_iter().chain(word.clone()).collect();
            if self.fits(&with_spaces) {
                self.push(&with_spaces);
                return;
            }
        }
        if !self.row.segments.is_empty() {
            self.end_row(true);
        }
        if self.fits(&word) {
            self.push(&word);
        } else {
            self.hard_break(&word);
        }
    }

    /// Breaks a word wider than a whole row at grapheme boundaries; a wide grapheme that does
    /// not fit at the end of a row moves to the next one.
    fn hard_break(&mut self, word: &[(Role, &str)]) {
        for &(role, text) in word {
            for grapheme in text.graphemes(true) {
                let mut piece = [(role, grapheme)];
                if !self.fits(&piece) && !self.row.segments.is_empty() {
                    self.end_row(true);
                }
                if !self.fits(&piece) {
                    // Only a grapheme wider than a whole row gets here; keep the width promise.
                    piece[0].1 = "\u{FFFD}";
                }
                self.push(&piece);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(runs: &[(Role, &str)], width: usize) -> Vec<String> {
        wrap(runs, width, ColorMode::Plain)
            .iter()
            .map(|row| {
                row.segments
                    .iter()
                    .map(|(role, text)| {
                        let (open, close) = role.marks(ColorMode::Plain);
                        format!("{open}{text}{close}")
                    })
                    .collect()
            })
            .collect()
    }

    fn widths_ok(runs: &[(Role, &str)], width: usize) -> bool {
        wrap(runs, width, ColorMode::Plain).iter().all(|row| {
            let shown: usize = row
                .segments
                .iter()
                .map(|(role, text)| display_width(text) + role.marks_width(ColorMode::Plain))
                .sum();
            shown == row.width && row.width <= width
        })
    }

    #[test]
    fn breaks_at_spaces_and_drops_them() {
        let runs = [(Role::Same, "Die Äpfel sind   reif und süß.")];
        assert_eq!(plain(&runs, 10), ["Die Äpfel", "sind", "reif und", "süß."]);
    }

    #[test]
    fn hard_breaks_only_overlong_words() {
        let runs = [(Role::Same, "Der Donaudampfschifffahrtskapitän kam.")];
        assert_eq!(
            plain(&runs, 12),
            ["Der", "Donaudampfsc", "hifffahrtska", "pitän kam."]
        );
    }

    #[test]
    fn wide_graphemes_move_to_the_next_row() {
        let runs = [(Role::Same, "苹果苹果苹果")];
        assert_eq!(plain(&runs, 9), ["苹果苹果", "苹果"]);
        assert!(widths_ok(&runs, 9));
    }

    #[test]
    fn markers_repeat_per_row_and_count() {
        let runs = [
            (Role::Same, "Er "),
            (Role::Deleted, "ging gestern nach"),
            (Role::Same, " Hause."),
        ];
        assert_eq!(
            plain(&runs, 12),
            ["Er [-ging-]", "[-gestern-]", "[-nach-]", "Hause."]
        );
        assert!(widths_ok(&runs, 12));
    }

    #[test]
    fn words_span_runs_without_breaking() {
        let runs = [
            (Role::Same, "ab Apfel"),
            (Role::Inserted, ","),
            (Role::Same, " cd"),
        ];
        assert_eq!(plain(&runs, 10), ["ab", "Apfel{+,+}", "cd"]);
    }

    #[test]
    fn zero_width_space_breaks_without_printing() {
        let runs = [
            (Role::Same, "Hauptstraße,"),
            (Role::Inserted, "·\u{200B}"),
            (Role::Same, "die laut"),
        ];
        assert_eq!(plain(&runs, 18), ["Hauptstraße,{+·+}", "die laut"]);
        assert_eq!(plain(&runs, 40), ["Hauptstraße,{+·+}die laut"]);
    }

    #[test]
    fn soft_roles_share_their_change_markers_in_plain_mode() {
        let runs = [
            (Role::Same, "Die "),
            (Role::DeletedSoft, "Gr"),
            (Role::Deleted, "oss"),
            (Role::DeletedSoft, "e"),
            (Role::Same, " Stadt"),
        ];
        assert_eq!(plain(&runs, 40), ["Die [-Grosse-] Stadt"]);
        assert!(widths_ok(&runs, 12));
        let ansi = wrap(&runs, 40, ColorMode::Ansi);
        let roles: Vec<Role> = ansi[0].segments.iter().map(|(role, _)| *role).collect();
        assert_eq!(
            roles,
            [
                Role::Same,
                Role::DeletedSoft,
                Role::Deleted,
                Role::DeletedSoft,
                Role::Same
            ]
        );
    }

    #[test]
    fn newlines_force_rows() {
        let runs = [(Role::Same, "eins\n\nzwei drei")];
        assert_eq!(plain(&runs, 20), ["eins", "", "zwei drei"]);
    }
}
