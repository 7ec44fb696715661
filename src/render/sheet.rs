//! The geometry of one rendering and the rows it writes: which pairs show and which fold,
//! each pair's header, its body in the chosen layout (panes side by side, band by band, stacked,
//! or a redline), and its notes.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::bands::columns;
use super::runs::{Side, runs};
use super::wrap::{Role, Row, wrap};
use super::{
    Layout, MAX_PANE, MIN_WIDTH, Note, NoteLevel, RenderOptions, SEPARATOR, SEPARATOR_WIDTH,
    THREE_PANE_WIDTH, sanitize,
};
use crate::count::plural;
use crate::diff::{Alignment, Pair, PairKind};

pub(super) enum Block<'a> {
    Pair(&'a Pair),
    /// This many unchanged pairs in a row, shown as one line.
    Folded(usize),
}

pub(super) fn blocks<'a>(
    pairs: &'a [Pair],
    context: Option<usize>,
    notes: &[Vec<Note>],
) -> Vec<Block<'a>> {
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

pub(super) fn header(pair: &Pair, notes: &[Note]) -> String {
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

/// `¶ 3 · 2 changes · 80% similar`, numbered by the paragraphs' places in each text
/// (`¶ 3 → 4` after an insertion above, `¶ 3 → 3–4 · split`, `¶ 5–6 → 5 · merged`), and
/// `rewritten` for a pair shown as a whole replacement.
pub(super) fn pair_header(pair: &Pair) -> String {
    let mut header = format!("¶ {}", pair.place());
    match pair.alignment {
        Alignment::Split => header.push_str(" · split"),
        Alignment::Merge => header.push_str(" · merged"),
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
            write!(header, " · {changes} {noun}").expect("writing to a String cannot fail");
            // Similarity counts words only: a change of punctuation or case alone would read
            // "100% similar" next to a change.
            if percent < 100.0 {
                write!(header, " · {percent}% similar").expect("writing to a String cannot fail");
            }
        }
    }
    header
}

pub(super) fn fold_note(count: usize) -> String {
    let noun = plural(count, "paragraph", "paragraphs");
    format!("… {count} unchanged {noun} …")
}

pub(super) fn identical_note(count: usize) -> String {
    match count {
        0 => "No differences: both documents are empty.".to_owned(),
        1 => "No differences: the one paragraph is identical.".to_owned(),
        _ => format!("No differences: all {count} paragraphs are identical."),
    }
}

/// The geometry of one rendering and the code that writes rows with it.
pub(super) struct Sheet<'o> {
    opts: &'o RenderOptions,
    /// Columns in use: one spare column at the right edge avoids terminals' auto-wrap glitches.
    pub(super) width: usize,
    pane: usize,
    /// The source pane, when there is one and it fits.
    source: Option<&'o (String, Vec<String>)>,
}

impl<'o> Sheet<'o> {
    pub(super) fn new(opts: &'o RenderOptions) -> Self {
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

    pub(super) fn pane_count(&self) -> usize {
        if self.source.is_some() { 3 } else { 2 }
    }

    /// Width of rows that span the whole layout (headers, fold notes).
    pub(super) fn span(&self) -> usize {
        match self.opts.layout {
            Layout::SideBySide => {
                let n = self.pane_count();
                n * self.pane + (n - 1) * SEPARATOR_WIDTH
            }
            Layout::Stacked | Layout::Inline => self.width,
        }
    }

    pub(super) fn wrap<S: AsRef<str>>(&self, runs: &[(Role, S)], width: usize) -> Vec<Row> {
        wrap(runs, width, self.opts.color)
    }

    pub(super) fn titles(&self, out: &mut impl Write) -> io::Result<()> {
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

    pub(super) fn body(&self, out: &mut impl Write, pair: &Pair) -> io::Result<()> {
        match self.opts.layout {
            Layout::SideBySide => {
                // Sentence by sentence, so that each row holds the same sentence in every pane.
                let source = self.source.map(|(_, texts)| {
                    let text = texts.get(pair.index).map(String::as_str);
                    let marks = self.opts.source_repairs.get(pair.index);
                    (
                        text.unwrap_or_default(),
                        marks.map_or(&[][..], Vec::as_slice),
                    )
                });
                let columns = columns(pair, source, self.pane, self.opts.color, None);
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
    pub(super) fn notes(&self, out: &mut impl Write, notes: &[Note]) -> io::Result<()> {
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
    pub(super) fn full(&self, out: &mut impl Write, role: Role, text: &str) -> io::Result<()> {
        self.prefixed(out, "", &self.wrap(&[(role, text)], self.span()))
    }

    pub(super) fn prefixed(
        &self,
        out: &mut impl Write,
        prefix: &str,
        rows: &[Row],
    ) -> io::Result<()> {
        for row in rows {
            writeln!(out, "{prefix}{}", self.paint(row))?;
        }
        Ok(())
    }

    /// All panes start on the same row; shorter ones are padded with blank rows.
    pub(super) fn panes(&self, out: &mut impl Write, columns: &[Vec<Row>]) -> io::Result<()> {
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

    pub(super) fn paint(&self, row: &Row) -> String {
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
