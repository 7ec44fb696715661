//! Terminal layouts of a `DocumentDiff`: side by side, stacked or inline, at a width and colour
//! mode the caller chose. Owns sanitising untrusted text, wrapping by display width, folding
//! unchanged paragraphs and the roles-to-styles mapping. Writes to any `io::Write` and never
//! looks at the environment.

mod bands;
mod repairs;
pub mod report;
mod runs;
mod sheet;
#[cfg(test)]
mod tests;
mod visible;
mod wrap;

use std::io::{self, Write};

use crate::config::View;
use crate::diff::{DocumentDiff, Pair};
use crate::repair::RepairMark;
use crate::verify::{Check, Finding, Severity};
pub use repairs::{render_repairs, repaired_runs};
use sheet::{Block, Sheet, blocks, fold_note, header, identical_note};
pub use visible::{display_width, sanitize};

/// The pieces of the static layouts the review screen draws with its own styles: styled rows
/// wrapped by display width, exactly as the terminal diff wraps them.
pub mod pieces {
    pub use super::runs::Side;
    use super::runs::focused_runs;
    pub use super::wrap::Role;
    use super::wrap::wrap;
    use super::{ColorMode, Note, Pair};

    /// One wrapped row: `(role, text)` segments.
    pub type Row = Vec<(Role, String)>;

    /// One side of `pair` wrapped to `width`, with change number `focus` marked.
    pub fn pair_rows(pair: &Pair, side: Side, width: usize, focus: Option<usize>) -> Vec<Row> {
        rows(&focused_runs(pair, side, focus), width)
    }

    /// A pair's panes side by side, the German `source` first when given, sentence by
    /// sentence: each band of corresponding sentences wrapped to `width` in every pane and
    /// padded with blank rows to the tallest, so that rows correspond; change `focus` marked.
    pub fn pair_columns(
        pair: &Pair,
        source: Option<(&str, &[crate::repair::RepairMark])>,
        width: usize,
        focus: Option<usize>,
    ) -> Vec<Vec<Row>> {
        super::bands::columns(pair, source, width, ColorMode::Ansi, focus)
            .into_iter()
            .map(|column| column.into_iter().map(|row| row.segments).collect())
            .collect()
    }

    /// Styled text (sanitise untrusted text first) wrapped to `width`.
    pub fn rows<S: AsRef<str>>(runs: &[(Role, S)], width: usize) -> Vec<Row> {
        wrap(runs, width, ColorMode::Ansi)
            .into_iter()
            .map(|row| row.segments)
            .collect()
    }

    /// The pair's header line, as the terminal diff prints it (`¶ 3 · 2 changes · 84% similar`).
    pub fn header(pair: &Pair, notes: &[Note]) -> String {
        super::header(pair, notes)
    }
}
use wrap::Role;

/// Narrower output cannot hold a pane plus its change markers.
const MIN_WIDTH: usize = 20;
/// Prose gets hard to read past this measure, so wide terminals leave a margin instead.
const MAX_PANE: usize = 90;
const SEPARATOR: &str = " │ ";
const SEPARATOR_WIDTH: usize = 3;

/// How a diff is laid out on a terminal; the one layout type of the terminal diff and the
/// review screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    SideBySide,
    Stacked,
    Inline,
}

impl Layout {
    /// Below this many columns two panes are too narrow for prose.
    pub const SIDE_BY_SIDE_MIN_WIDTH: usize = 70;

    /// The layout the `view` setting asks for at `width` columns: `auto` is side by side from
    /// [`Self::SIDE_BY_SIDE_MIN_WIDTH`], else stacked; `None` for `view = "none"`.
    pub fn resolve(view: View, width: usize) -> Option<Layout> {
        match view {
            View::None => None,
            View::SideBySide => Some(Layout::SideBySide),
            View::Stacked => Some(Layout::Stacked),
            View::Inline => Some(Layout::Inline),
            View::Auto if width >= Self::SIDE_BY_SIDE_MIN_WIDTH => Some(Layout::SideBySide),
            View::Auto => Some(Layout::Stacked),
        }
    }

    /// The next layout in the review's cycle: side by side → stacked → inline → side by side.
    pub fn next(self) -> Layout {
        match self {
            Layout::SideBySide => Layout::Stacked,
            Layout::Stacked => Layout::Inline,
            Layout::Inline => Layout::SideBySide,
        }
    }
}

impl From<Layout> for View {
    fn from(layout: Layout) -> View {
        match layout {
            Layout::SideBySide => View::SideBySide,
            Layout::Stacked => View::Stacked,
            Layout::Inline => View::Inline,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 16 ANSI colours, which follow the terminal's theme.
    Ansi,
    /// 256 colours or more: changes also get a subtle background tint.
    Tinted,
    /// No escapes: changes are marked wdiff-style, `[-old-]` and `{+new+}`.
    Plain,
    /// Roles as readable tags (`<del>…</del>`), for snapshots and bug reports.
    Debug,
}

impl ColorMode {
    fn escapes(self) -> bool {
        matches!(self, Self::Ansi | Self::Tinted)
    }
}
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Total columns available; values below 20 are treated as 20.
    pub width: usize,
    /// Already resolved by the caller ([`Layout::resolve`]).
    pub layout: Layout,
    pub color: ColorMode,
    /// Headings of the old and new side, e.g. ("source", "repaired").
    pub titles: (String, String),
    /// Fold runs of unchanged paragraphs into one row, keeping this many next to each change
    /// (`Some(0)`: fold them all); `None` shows every paragraph.
    pub context: Option<usize>,
    /// A third pane on the left: the text both sides come from (the German), with its title,
    /// one entry per pair index. Shown side by side from [`THREE_PANE_WIDTH`] columns.
    pub source: Option<(String, Vec<String>)>,
    /// Where the offline repairs wrote in each `source` text (by pair index; may be shorter),
    /// marked subtly there: the source pane shows the German as it was sent.
    pub source_repairs: Vec<Vec<RepairMark>>,
    /// What to check in each paragraph (verify's findings, the model's notes and doubts), by
    /// pair index: counted in the paragraph's header and listed under it. A paragraph with
    /// notes is never folded.
    pub notes: Vec<Vec<Note>>,
}

/// One line of advice under a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub level: NoteLevel,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoteLevel {
    Info,
    Warning,
    Error,
}

impl NoteLevel {
    /// Shown with the colour too, so the level never rests on colour alone.
    pub fn marker(self) -> &'static str {
        match self {
            Self::Error => "✗",
            Self::Warning => "⚠",
            Self::Info => "ℹ",
        }
    }
}

impl From<Severity> for NoteLevel {
    fn from(severity: Severity) -> NoteLevel {
        match severity {
            Severity::Error => NoteLevel::Error,
            Severity::Warning => NoteLevel::Warning,
            Severity::Info => NoteLevel::Info,
        }
    }
}

impl Note {
    /// One of the language model's notes: `model doubt: …` when it voices doubt (a warning),
    /// `model: …` when it explains a repair.
    pub fn model(severity: Severity, note: &str) -> Note {
        let level = NoteLevel::from(severity);
        let label = if level > NoteLevel::Info {
            "model doubt"
        } else {
            "model"
        };
        Note {
            level,
            text: format!("{label}: {note}"),
        }
    }
}

impl From<&Finding> for Note {
    /// `check/rule: message` at the finding's level; the model's notes as [`Note::model`].
    fn from(finding: &Finding) -> Note {
        if finding.check == Check::Model {
            return Note::model(finding.severity, &finding.message);
        }
        Note {
            level: finding.severity.into(),
            text: format!(
                "{}/{}: {}",
                finding.check.id(),
                finding.rule,
                finding.message
            ),
        }
    }
}

/// Verify's findings (the model's notes among them) as the notes under each of `segments` paragraphs (by segment index, the
/// pair index of a document diffed by index); findings about the whole document are left out.
pub fn notes_by_segment<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    segments: usize,
) -> Vec<Vec<Note>> {
    let mut notes = vec![Vec::new(); segments];
    for finding in findings {
        if let Some(slot) = finding.segment.and_then(|id| notes.get_mut(id.index())) {
            slot.push(Note::from(finding));
        }
    }
    notes
}

/// Three panes of prose need about this many columns.
pub const THREE_PANE_WIDTH: usize = 180;

/// Writes the diff in the chosen layout. Every line is at most `width` columns wide (escapes
/// aside), and every styled span is reset before the line ends.
pub fn render_diff(
    diff: &DocumentDiff,
    opts: &RenderOptions,
    out: &mut impl Write,
) -> io::Result<()> {
    let sheet = Sheet::new(opts);
    // Identical texts fold into one line, unless a paragraph has notes: those always show.
    if opts.context.is_some() && diff.is_identical() && opts.notes.iter().all(Vec::is_empty) {
        return sheet.full(out, Role::Fold, &identical_note(diff.pairs.len()));
    }
    sheet.titles(out)?;
    for block in blocks(&diff.pairs, opts.context, &opts.notes) {
        writeln!(out)?;
        match block {
            Block::Folded(count) => sheet.full(out, Role::Fold, &fold_note(count))?,
            Block::Pair(pair) => {
                let notes = opts.notes.get(pair.index).map_or(&[][..], Vec::as_slice);
                sheet.full(out, Role::Header, &header(pair, notes))?;
                sheet.body(out, pair)?;
                sheet.notes(out, notes)?;
            }
        }
    }
    Ok(())
}
