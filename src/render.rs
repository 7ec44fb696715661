//! Terminal layouts of a `DocumentDiff`: side by side, stacked or inline, at a width and colour
//! mode the caller chose. Owns sanitising untrusted text, wrapping by display width, folding
//! unchanged paragraphs and the roles-to-styles mapping. Writes to any `io::Write` and never
//! looks at the environment.

mod repairs;
pub mod report;
mod runs;
mod visible;
mod wrap;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::config::View;
use crate::count::plural;
use crate::diff::{Alignment, DocumentDiff, Pair, PairKind};
use crate::verify::{Finding, Severity};
pub use repairs::render_repairs;
use runs::{Side, runs};
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
use wrap::{Role, Row, wrap};

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
    /// What to check in each paragraph (verify's findings), by pair index: counted in the
    /// paragraph's header and listed under it. A paragraph with notes is never folded.
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

impl From<&Finding> for Note {
    /// `check/rule: message` at the finding's level.
    fn from(finding: &Finding) -> Note {
        Note {
            level: match finding.severity {
                Severity::Error => NoteLevel::Error,
                Severity::Warning => NoteLevel::Warning,
                Severity::Info => NoteLevel::Info,
            },
            text: format!(
                "{}/{}: {}",
                finding.check.id(),
                finding.rule,
                finding.message
            ),
        }
    }
}

/// Verify's findings as the notes under each of `segments` paragraphs (by segment index, the
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
    if opts.context.is_some() && diff.is_identical() {
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

enum Block<'a> {
    Pair(&'a Pair),
    /// This many unchanged pairs in a row, shown as one line.
    Folded(usize),
}

fn blocks<'a>(pairs: &'a [Pair], context: Option<usize>, notes: &[Vec<Note>]) -> Vec<Block<'a>> {
    // What must be seen: changes and noted paragraphs, and `context` pairs around them.
    let marked: Vec<bool> = pairs
        .iter()
        .map(|p| p.kind != PairKind::Unchanged || notes.get(p.index).is_some_and(|n| !n.is_empty()))
        .collect();
    let shown = |i: usize| -> bool {
        let Some(n) = context else { return true };
        let from = i.saturating_sub(n);
        let to = (i + n).min(pairs.len().saturating_sub(1));
        (from..=to).any(|j| marked[j])
    };
    let mut blocks = Vec::new();
    let mut folded = 0;
    for (i, pair) in pairs.iter().enumerate() {
        if !shown(i) {
            folded += 1;
            continue;
        }
        if folded > 0 {
            blocks.push(Block::Folded(folded));
            folded = 0;
        }
        blocks.push(Block::Pair(pair));
    }
    if folded > 0 {
        blocks.push(Block::Folded(folded));
    }
    blocks
}

fn header(pair: &Pair, notes: &[Note]) -> String {
    let counts: Vec<String> = [NoteLevel::Error, NoteLevel::Warning, NoteLevel::Info]
        .into_iter()
        .filter_map(|level| {
            let count = notes.iter().filter(|n| n.level == level).count();
            (count > 0).then(|| format!("{}{count}", level.marker()))
        })
        .collect();
    if counts.is_empty() {
        pair_header(pair)
    } else {
        format!("{} · {}", pair_header(pair), counts.join(" "))
    }
}

/// `¶ 3 · 2 changes · 80% similar`, with the alignment when it is not 1:1 (`¶ 3 → 3–4 · split`,
/// `¶ 5 · merged from 5–6`; the numbers after the arrow or `from` are the other side's
/// paragraphs) and `rewritten` for a pair shown as a whole replacement.
fn pair_header(pair: &Pair) -> String {
    let mut header = format!("¶ {}", pair.index + 1);
    match pair.alignment {
        Alignment::Split => {
            write!(header, " → {} · split", paragraphs(&pair.new_paragraphs))
                .expect("writing to a String cannot fail");
        }
        Alignment::Merge => {
            write!(
                header,
                " · merged from {}",
                paragraphs(&pair.old_paragraphs)
            )
            .expect("writing to a String cannot fail");
        }
        Alignment::OneToOne | Alignment::Inserted | Alignment::Deleted => {}
    }
    let percent = (pair.similarity.clamp(0.0, 1.0) * 100.0).round();
    match pair.kind {
        PairKind::Unchanged => header.push_str(" · unchanged"),
        PairKind::Deleted => header.push_str(" · deleted"),
        PairKind::Inserted => header.push_str(" · new"),
        PairKind::Changed if pair.rewritten => {
            write!(header, " · rewritten · {percent}% similar")
                .expect("writing to a String cannot fail");
        }
        PairKind::Changed => {
            let changes = pair.change_count();
            let noun = plural(changes, "change", "changes");
            write!(header, " · {changes} {noun} · {percent}% similar")
                .expect("writing to a String cannot fail");
        }
    }
    header
}

/// One-based paragraph numbers: `4` or `4–5`.
fn paragraphs(range: &std::ops::Range<usize>) -> String {
    if range.len() > 1 {
        format!("{}–{}", range.start + 1, range.end)
    } else {
        (range.start + 1).to_string()
    }
}

fn fold_note(count: usize) -> String {
    let noun = plural(count, "paragraph", "paragraphs");
    format!("… {count} unchanged {noun} …")
}

fn identical_note(count: usize) -> String {
    match count {
        0 => "No differences: both documents are empty.".to_owned(),
        1 => "No differences: the one paragraph is identical.".to_owned(),
        _ => format!("No differences: all {count} paragraphs are identical."),
    }
}

/// The geometry of one rendering and the code that writes rows with it.
struct Sheet<'o> {
    opts: &'o RenderOptions,
    /// Columns in use: one spare column at the right edge avoids terminals' auto-wrap glitches.
    width: usize,
    pane: usize,
    /// The source pane, when there is one and it fits.
    source: Option<&'o (String, Vec<String>)>,
}

impl<'o> Sheet<'o> {
    fn new(opts: &'o RenderOptions) -> Self {
        let width = opts.width.max(MIN_WIDTH) - 1;
        let source = opts
            .source
            .as_ref()
            .filter(|_| opts.layout == Layout::SideBySide && opts.width >= THREE_PANE_WIDTH);
        let panes = if source.is_some() { 3 } else { 2 };
        let pane = ((width - (panes - 1) * SEPARATOR_WIDTH) / panes).min(MAX_PANE);
        Self {
            opts,
            width,
            pane,
            source,
        }
    }

    fn pane_count(&self) -> usize {
        if self.source.is_some() { 3 } else { 2 }
    }

    /// Width of rows that span the whole layout (headers, fold notes).
    fn span(&self) -> usize {
        match self.opts.layout {
            Layout::SideBySide => {
                let n = self.pane_count();
                n * self.pane + (n - 1) * SEPARATOR_WIDTH
            }
            Layout::Stacked | Layout::Inline => self.width,
        }
    }

    /// The source pane's rows for a pair (empty without a source pane).
    fn source_rows(&self, index: usize) -> Vec<Row> {
        let Some((_, texts)) = self.source else {
            return Vec::new();
        };
        let text = texts.get(index).map(String::as_str).unwrap_or_default();
        self.wrap(&[(Role::Same, sanitize(text))], self.pane)
    }

    fn wrap<S: AsRef<str>>(&self, runs: &[(Role, S)], width: usize) -> Vec<Row> {
        wrap(runs, width, self.opts.color)
    }

    fn titles(&self, out: &mut impl Write) -> io::Result<()> {
        let (old, new) = (&self.opts.titles.0, &self.opts.titles.1);
        if old.is_empty() && new.is_empty() {
            return Ok(());
        }
        let (old, new) = (sanitize(old), sanitize(new));
        match self.opts.layout {
            Layout::SideBySide => {
                let mut columns = Vec::new();
                if let Some((title, _)) = self.source {
                    columns.push(self.wrap(&[(Role::Title, sanitize(title))], self.pane));
                }
                columns.push(self.wrap(&[(Role::Title, old)], self.pane));
                columns.push(self.wrap(&[(Role::Title, new)], self.pane));
                self.panes(out, &columns)
            }
            Layout::Stacked => {
                self.prefixed(out, "- ", &self.wrap(&[(Role::Title, old)], self.width - 2))?;
                self.prefixed(out, "+ ", &self.wrap(&[(Role::Title, new)], self.width - 2))
            }
            Layout::Inline => {
                // A legend: the titles shown the way their changes will be.
                let legend = [
                    (Role::Deleted, old),
                    (Role::Same, Cow::Borrowed(" ")),
                    (Role::Inserted, new),
                ];
                self.prefixed(out, "", &self.wrap(&legend, self.width))
            }
        }
    }

    fn body(&self, out: &mut impl Write, pair: &Pair) -> io::Result<()> {
        match self.opts.layout {
            Layout::SideBySide => {
                let mut columns = Vec::new();
                if self.source.is_some() {
                    columns.push(self.source_rows(pair.index));
                }
                columns.push(self.wrap(&runs(pair, Side::Old), self.pane));
                columns.push(self.wrap(&runs(pair, Side::New), self.pane));
                self.panes(out, &columns)
            }
            Layout::Stacked => {
                let width = self.width - 2;
                if pair.kind == PairKind::Unchanged {
                    return self.prefixed(out, "  ", &self.wrap(&runs(pair, Side::Old), width));
                }
                if pair.kind != PairKind::Inserted {
                    self.prefixed(out, "- ", &self.wrap(&runs(pair, Side::Old), width))?;
                }
                if pair.kind != PairKind::Deleted {
                    self.prefixed(out, "+ ", &self.wrap(&runs(pair, Side::New), width))?;
                }
                Ok(())
            }
            Layout::Inline => {
                self.prefixed(out, "", &self.wrap(&runs(pair, Side::Redline), self.width))
            }
        }
    }

    /// The notes under a paragraph, one per line, marked by level.
    fn notes(&self, out: &mut impl Write, notes: &[Note]) -> io::Result<()> {
        for note in notes {
            let role = match note.level {
                NoteLevel::Error => Role::Error,
                NoteLevel::Warning => Role::Warning,
                NoteLevel::Info => Role::Fold,
            };
            let runs = [
                (role, Cow::Owned(format!("{} ", note.level.marker()))),
                (Role::Same, sanitize(&note.text)),
            ];
            self.prefixed(out, "", &self.wrap(&runs, self.span()))?;
        }
        Ok(())
    }

    /// One full-width text in a single role (headers, notes), wrapped like everything else.
    fn full(&self, out: &mut impl Write, role: Role, text: &str) -> io::Result<()> {
        self.prefixed(out, "", &self.wrap(&[(role, text)], self.span()))
    }

    fn prefixed(&self, out: &mut impl Write, prefix: &str, rows: &[Row]) -> io::Result<()> {
        for row in rows {
            writeln!(out, "{prefix}{}", self.paint(row))?;
        }
        Ok(())
    }

    /// All panes start on the same row; shorter ones are padded with blank rows.
    fn panes(&self, out: &mut impl Write, columns: &[Vec<Row>]) -> io::Result<()> {
        let blank = Row::default();
        let height = columns.iter().map(Vec::len).max().unwrap_or(0);
        for at in 0..height {
            let mut line = String::new();
            for (n, column) in columns.iter().enumerate() {
                let row = column.get(at).unwrap_or(&blank);
                if n > 0 {
                    line.push_str(SEPARATOR);
                }
                line.push_str(&self.paint(row));
                if n + 1 < columns.len() {
                    line.push_str(&" ".repeat(self.pane.saturating_sub(row.width)));
                }
            }
            writeln!(out, "{}", line.trim_end_matches(' '))?;
        }
        Ok(())
    }

    fn paint(&self, row: &Row) -> String {
        let mut line = String::new();
        for (role, text) in &row.segments {
            match self.opts.color {
                color if !color.escapes() => {
                    let (open, close) = role.marks(color);
                    line.extend([open, text.as_str(), close]);
                }
                color => {
                    // Reset after every span so no style outlives its row.
                    let style = role.style(color);
                    write!(line, "{style}{text}{style:#}")
                        .expect("writing to a String cannot fail");
                }
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::diff::{DiffOptions, diff_by_index, diff_document, diff_words};

    const URL_OLD: &str = "https://example.org/ein/sehr/langer/pfad/zum/fahrplan/der/donaudampfschifffahrt/sommer-2024/abfahrten.html";
    const URL_NEW: &str = "https://example.org/ein/sehr/langer/pfad/zum/fahrplan/der/donaudampfschifffahrt/sommer-2025/abfahrten.html";

    /// Changed, folded, deleted and inserted paragraphs with umlauts, a long compound, a long
    /// URL, wide characters, control characters and a whitespace-only change.
    fn fixture() -> DocumentDiff {
        let compound_old = format!(
            "Der Donaudampfschifffahrtsgesellschaftskapitän veröffentlichte den Fahrplan unter {URL_OLD} gestern."
        );
        let compound_new = format!(
            "Der Donaudampfschifffahrtsgesellschaftskapitän hat den Fahrplan gestern unter {URL_NEW} veröffentlicht."
        );
        let old = [
            "Die Äpfel aus dem Alten Land habe eine besondere Größe, und der Bauer sagte mir das auf dem Markt.",
            "Im Herbst fahren viele Familien mit dem Rad an die Elbe.",
            "Dort gibt es Kuchen, Kaffee und einen Blick auf die Schiffe.",
            "Am Abend wird es früh dunkel.",
            &compound_old,
            "Das Wort für Apfel ist 苹果 auf Chinesisch 🍎 und schmeckt gut.",
            "Achtung:\x1b[31m rot\x07 und \u{202E}verkehrt\u{202C} geschrieben.",
            "Er wohnt in der Hauptstraße,die sehr laut ist, mit  doppeltem Abstand.",
            "Dieser Absatz fällt in der neuen Fassung weg.",
        ];
        let new = [
            "Die Äpfel aus dem Alten Land haben eine besondere Größe, sagte mir der Bauer auf dem Markt.",
            "Im Herbst fahren viele Familien mit dem Rad an die Elbe.",
            "Dort gibt es Kuchen, Kaffee und einen Blick auf die Schiffe.",
            "Am Abend wird es früh dunkel.",
            &compound_new,
            "Das Wort für „Apfel“ heißt 苹果 auf Chinesisch 🍎🍏 und schmeckt süß.",
            "Achtung: rot und verkehrt geschrieben.\u{7}",
            "Er wohnt in der Hauptstraße, die sehr laut ist, mit doppeltem Abstand.",
        ];
        let opts = DiffOptions {
            timeout: Duration::from_secs(10),
            ..DiffOptions::default()
        };
        let mut diff = diff_by_index(&old, &new, &opts);
        // Index pairing cannot produce both kinds, so add one by hand.
        let inserted = "Ein ganz neuer Absatz über die Straße.";
        diff.pairs.push(Pair {
            index: diff.pairs.len(),
            kind: PairKind::Inserted,
            old: String::new(),
            new: inserted.to_owned(),
            chunks: diff_words("", inserted, &opts),
            similarity: 0.0,
            old_paragraphs: 8..8,
            new_paragraphs: 8..9,
            alignment: crate::diff::Alignment::Inserted,
            rewritten: false,
        });
        diff
    }

    fn options(width: usize, layout: Layout, color: ColorMode) -> RenderOptions {
        RenderOptions {
            width,
            layout,
            color,
            titles: ("source".to_owned(), "repaired".to_owned()),
            context: Some(0),
            source: None,
            notes: Vec::new(),
        }
    }

    fn render(diff: &DocumentDiff, opts: &RenderOptions) -> String {
        let mut out = Vec::new();
        render_diff(diff, opts, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("render writes UTF-8")
    }

    fn strip_ansi(line: &str) -> String {
        let mut plain = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                // CSI: ESC [ parameters final-byte
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                plain.push(c);
            }
        }
        plain
    }

    /// Every line fits, no raw control or bidi character survives, and every escape sequence
    /// is one of ours.
    fn assert_fits(output: &str, width: usize) {
        let width = width.max(MIN_WIDTH);
        for line in output.lines() {
            let shown = strip_ansi(line);
            assert!(
                display_width(&shown) <= width,
                "line wider than {width}: {shown:?}"
            );
            assert!(
                !shown
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '\u{202E}' | '\u{200B}')),
                "raw control in {shown:?}"
            );
        }
    }

    const LAYOUTS: [Layout; 3] = [Layout::SideBySide, Layout::Stacked, Layout::Inline];

    #[test]
    fn every_layout_fits_every_width() {
        let diff = fixture();
        for width in [0, 20, 40, 80, 200] {
            for layout in LAYOUTS {
                for color in [ColorMode::Plain, ColorMode::Ansi] {
                    for fold in [true, false] {
                        let opts = RenderOptions {
                            context: fold.then_some(0),
                            ..options(width, layout, color)
                        };
                        assert_fits(&render(&diff, &opts), width);
                    }
                }
            }
        }
    }

    #[test]
    fn side_by_side_panes_are_equal_and_capped() {
        let diff = fixture();
        for (width, pane) in [(80, 38), (200, 90), (20, 8)] {
            let opts = options(width, Layout::SideBySide, ColorMode::Plain);
            let output = render(&diff, &opts);
            let title = output.lines().next().expect("a title row");
            let left = title.split('│').next().expect("split yields one part");
            assert_eq!(display_width(left), pane + 1, "at {width}: {title:?}");
        }
    }

    #[test]
    fn notes_are_counted_listed_and_never_folded() {
        let diff = diff_by_index(
            &[
                "Der Umsatz lag bei 4 Billionen.",
                "Unverändert.",
                "Auch gleich.",
            ],
            &["Revenue was 4 billion.", "Unverändert.", "Auch gleich."],
            &DiffOptions::default(),
        );
        let note = |level, text: &str| Note {
            level,
            text: text.to_owned(),
        };
        let opts = RenderOptions {
            notes: vec![
                vec![
                    note(
                        NoteLevel::Error,
                        "quantity: „4 Billionen“ is 4 trillion, the English says 4 billion",
                    ),
                    note(NoteLevel::Warning, "form: length ratio 0.4"),
                ],
                vec![note(
                    NoteLevel::Info,
                    "source: repairable offline: glued quote",
                )],
            ],
            ..options(80, Layout::SideBySide, ColorMode::Plain)
        };
        let output = render(&diff, &opts);
        assert_fits(&output, 80);
        assert!(
            output.contains("¶ 1 · rewritten · 20% similar · ✗1 ⚠1"),
            "{output}"
        );
        assert!(
            output.contains("¶ 2 · unchanged · ℹ1"),
            "noted pairs stay: {output}"
        );
        assert!(output.contains("… 1 unchanged paragraph …"), "{output}");
        insta::assert_snapshot!(output);
    }

    #[test]
    fn three_panes_with_the_source_when_wide() {
        let diff = diff_by_index(
            &["The firm is on the rear foot."],
            &["The company is on the back foot."],
            &DiffOptions::default(),
        );
        let source = Some((
            "German".to_owned(),
            vec!["Die Firma ist am hinteren Fuß.".to_owned()],
        ));
        let wide = RenderOptions {
            source: source.clone(),
            ..options(200, Layout::SideBySide, ColorMode::Plain)
        };
        let output = render(&diff, &wide);
        assert_fits(&output, 200);
        let body = output
            .lines()
            .find(|l| l.contains("hinteren"))
            .expect("German row");
        assert_eq!(body.matches('│').count(), 2, "{output}");
        assert!(
            output
                .lines()
                .next()
                .is_some_and(|t| t.starts_with("German"))
        );
        insta::assert_snapshot!(output);
        let narrow = RenderOptions {
            source,
            ..options(120, Layout::SideBySide, ColorMode::Plain)
        };
        assert!(
            !render(&diff, &narrow).contains("hinteren"),
            "two panes below 180 columns"
        );
    }

    #[test]
    fn aligned_headers_name_splits_merges_and_rewrites() {
        let first = "Die Fähre fährt jede Stunde vom Anleger am Markt ab.";
        let second = "Bei Sturm fällt sie aus, dann fährt ein Bus über die Brücke.";
        let third = "Fahrkarten gibt es am Automaten und beim Personal an Bord.";
        let fourth = "Kinder unter sechs Jahren fahren kostenlos mit.";
        let old = [
            format!("{first} {second}"),
            third.to_owned(),
            fourth.to_owned(),
            "Der Kiosk am Anleger verkauft auch Kaffee und Brötchen.".to_owned(),
        ];
        let new = [
            first.to_owned(),
            second.to_owned(),
            format!("{third} {fourth}"),
            "Am Anleger gibt es einen Kiosk, der morgens Brötchen hat.".to_owned(),
        ];
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let diff = diff_document(&old, &new, &DiffOptions::default());
        let headers: Vec<String> = diff.pairs.iter().map(pair_header).collect();
        assert_eq!(
            headers,
            [
                "¶ 1 → 1–2 · split · 1 change · 100% similar",
                "¶ 2 · merged from 2–3 · 1 change · 100% similar",
                "¶ 3 · rewritten · 32% similar",
            ]
        );
        let output = render(&diff, &options(80, Layout::SideBySide, ColorMode::Plain));
        assert_fits(&output, 80);
        insta::assert_snapshot!(output);
    }

    #[test]
    fn folding_and_identical_documents() {
        let same = ["Eins.", "Zwei.", "Drei."];
        let diff = diff_document(&same, &same, &DiffOptions::default());
        let opts = options(80, Layout::SideBySide, ColorMode::Plain);
        assert_eq!(
            render(&diff, &opts),
            "No differences: all 3 paragraphs are identical.\n"
        );
        let one = diff_document(
            &["Eins.", "Zwei."],
            &["Eins.", "Zwei!"],
            &DiffOptions::default(),
        );
        assert!(render(&one, &opts).contains("… 1 unchanged paragraph …"));
        let unfolded = RenderOptions {
            context: None,
            ..opts
        };
        assert!(render(&one, &unfolded).contains("¶ 1 · unchanged"));
    }

    #[test]
    fn ansi_rows_always_end_reset() {
        let output = render(
            &fixture(),
            &options(40, Layout::SideBySide, ColorMode::Ansi),
        );
        for line in output.lines().filter(|line| line.contains('\x1b')) {
            let last_escape = line.rfind('\x1b').expect("line has an escape");
            assert!(line[last_escape..].starts_with("\x1b[0m"), "{line:?}");
        }
    }

    /// Every layout at 40, 80, 120 and 200 columns, without colour (markers) and with colour
    /// shown as readable tags.
    #[test]
    fn every_layout_width_and_colour_mode() {
        let diff = fixture();
        for (layout, name) in LAYOUTS.iter().zip(["side_by_side", "stacked", "inline"]) {
            for width in [40, 80, 120, 200] {
                for (color, mode) in [(ColorMode::Plain, "plain"), (ColorMode::Debug, "debug")] {
                    let output = render(&diff, &options(width, *layout, color));
                    assert_fits(&output, width);
                    insta::assert_snapshot!(format!("matrix_{name}_{width}_{mode}"), output);
                }
            }
        }
    }

    #[test]
    fn context_keeps_neighbours_of_changes() {
        let same = |n: usize| format!("Absatz {n} bleibt.");
        let old: Vec<String> = (0..7).map(same).collect();
        let mut new = old.clone();
        new[3] = "Absatz 3 ist neu.".to_owned();
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let diff = diff_by_index(&old, &new, &DiffOptions::default());
        let opts = RenderOptions {
            context: Some(1),
            ..options(80, Layout::SideBySide, ColorMode::Plain)
        };
        let output = render(&diff, &opts);
        assert!(output.contains("… 2 unchanged paragraphs …"), "{output}");
        assert!(output.contains("Absatz 2 bleibt.") && output.contains("Absatz 4 bleibt."));
        assert!(!output.contains("Absatz 1 bleibt."), "{output}");
    }

    #[test]
    fn snapshot_side_by_side_plain_40() {
        let output = render(
            &fixture(),
            &options(40, Layout::SideBySide, ColorMode::Plain),
        );
        insta::assert_snapshot!(output);
    }

    #[test]
    fn snapshot_side_by_side_plain_80() {
        let output = render(
            &fixture(),
            &options(80, Layout::SideBySide, ColorMode::Plain),
        );
        insta::assert_snapshot!(output);
    }

    #[test]
    fn snapshot_side_by_side_plain_200() {
        let output = render(
            &fixture(),
            &options(200, Layout::SideBySide, ColorMode::Plain),
        );
        insta::assert_snapshot!(output);
    }

    #[test]
    fn snapshot_stacked_plain_40() {
        let output = render(&fixture(), &options(40, Layout::Stacked, ColorMode::Plain));
        insta::assert_snapshot!(output);
    }

    #[test]
    fn snapshot_inline_plain_80() {
        let output = render(&fixture(), &options(80, Layout::Inline, ColorMode::Plain));
        insta::assert_snapshot!(output);
    }

    #[test]
    fn snapshot_side_by_side_ansi_80() {
        let output = render(
            &fixture(),
            &options(80, Layout::SideBySide, ColorMode::Ansi),
        );
        insta::assert_snapshot!(output.replace('\x1b', "␛"));
    }

    fn paragraph() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-zäöüß]{1,12}",
                Just(" ".to_owned()),
                Just("Donaudampfschifffahrtsgesellschaftskapitän".to_owned()),
                "[苹果🍎🍏]{1,6}",
                "[\t\n\x1b\x07\u{85}\u{202E}\u{301}.,„“]{1,3}",
            ],
            0..30,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn random_pairs_fit(
            old in prop::collection::vec(paragraph(), 0..4),
            new in prop::collection::vec(paragraph(), 0..4),
            width in 0usize..220,
            layout in prop::sample::select(LAYOUTS.to_vec()),
            ansi in any::<bool>(),
        ) {
            let old: Vec<&str> = old.iter().map(String::as_str).collect();
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            let diff = diff_document(&old, &new, &DiffOptions::default());
            let color = if ansi { ColorMode::Ansi } else { ColorMode::Plain };
            let opts = RenderOptions { context: None, ..options(width, layout, color) };
            assert_fits(&render(&diff, &opts), width);
        }
    }
}
