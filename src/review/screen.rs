//! Drawing the review: a title row, a status row, the current paragraph pair (side by side,
//! stacked or as a redline, wrapped by the same routine as the terminal diff), the result
//! preview, and a key legend; overlays for help, the bulk menu and quitting. Pure: it draws a
//! [`Review`] into a ratatui frame and reads nothing else.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::doc::{Counts, Item, Urgency};
use super::record::Verdict;
use super::state::{Extent, Mode, Overlay, Review};
use crate::count::plural;
use crate::render::pieces::{self, Role, Row, Side};
use crate::render::{Layout, Note, NoteLevel, THREE_PANE_WIDTH, display_width, sanitize};

const GUTTER: &str = " │ ";

/// Colour, or attributes only (`NO_COLOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn style(self, role: Role) -> Style {
        let base = Style::new();
        let color = |c: Color| if self.color { base.fg(c) } else { base };
        match role {
            Role::Same => base,
            Role::Title => base.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            Role::Header | Role::Fold => base.add_modifier(Modifier::DIM),
            Role::Error => color(Color::Red).add_modifier(Modifier::BOLD),
            Role::Warning => color(Color::Yellow).add_modifier(Modifier::BOLD),
            Role::Deleted if self.color => color(Color::Red).add_modifier(Modifier::UNDERLINED),
            Role::Deleted => base.add_modifier(Modifier::CROSSED_OUT),
            Role::Inserted => {
                color(Color::Green).add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            }
            Role::Repaired => base.add_modifier(Modifier::UNDERLINED),
            Role::DeletedSoft => color(Color::Red),
            Role::InsertedSoft => color(Color::Green),
            Role::DeletedFocus => self.style(Role::Deleted).add_modifier(Modifier::REVERSED),
            Role::InsertedFocus => self.style(Role::Inserted).add_modifier(Modifier::REVERSED),
        }
    }

    fn bar(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

/// Rows of the screen: title, status, body, preview, legend.
struct Areas {
    title: Rect,
    status: Rect,
    body: Rect,
    preview: Rect,
    legend: Rect,
}

fn areas(review: &Review, area: Rect) -> Areas {
    let row = |y: u16, height: u16| Rect::new(area.x, area.y + y, area.width, height);
    let height = area.height;
    let fixed = 3.min(height);
    let preview = if review.preview && !review.summary && review.item().is_some() {
        let wanted = preview_rows(review, area.width).len() as u16 + 1;
        wanted
            .min((height.saturating_sub(fixed)) / 3)
            .max(2.min(height.saturating_sub(fixed)))
    } else {
        0
    };
    let body = height.saturating_sub(fixed + preview);
    Areas {
        title: row(0, 1.min(height)),
        status: row(1.min(height), u16::from(height > 1)),
        body: row(2.min(height), body),
        preview: row(2 + body, preview),
        legend: row(height.saturating_sub(1), u16::from(height > 2)),
    }
}

/// The body's rows shown at once and in all, at the review's terminal size: the
/// [`Measure`](super::state::Measure) a review scrolls by.
pub fn extent(review: &Review) -> Extent {
    let (columns, rows) = review.size;
    Extent {
        visible: areas(review, Rect::new(0, 0, columns, rows)).body.height as usize,
        total: body(review, columns, Theme { color: false }).len(),
    }
}

pub fn draw(frame: &mut Frame, review: &Review, theme: Theme) {
    let area = frame.area();
    let areas = areas(review, area);
    frame.render_widget(
        Paragraph::new(title(review, area.width)).style(theme.bar()),
        areas.title,
    );
    frame.render_widget(
        Paragraph::new(fit(&status(review), area.width as usize)).style(theme.bar()),
        areas.status,
    );
    if review.summary {
        let summary = Paragraph::new(summary(review, theme)).wrap(Wrap { trim: false });
        frame.render_widget(summary, areas.body);
    } else {
        let shown: Vec<Line> = body(review, area.width, theme)
            .into_iter()
            .skip(review.scroll)
            .take(areas.body.height as usize)
            .collect();
        frame.render_widget(Paragraph::new(shown), areas.body);
    }
    if areas.preview.height > 0 {
        let mut lines = vec![Line::styled(
            fit(
                &format!("── result {}", "─".repeat(area.width as usize)),
                area.width as usize,
            ),
            theme.style(Role::Header),
        )];
        let rows = preview_rows(review, area.width);
        let room = areas.preview.height as usize - 1;
        let cut = rows.len() > room;
        lines.extend(rows.into_iter().take(room).map(Line::raw));
        if cut && let Some(last) = lines.last_mut() {
            *last = Line::raw(fit(&format!("{last} …"), area.width as usize));
        }
        frame.render_widget(Paragraph::new(lines), areas.preview);
    }
    frame.render_widget(Paragraph::new(legend(review, area.width)), areas.legend);
    if let Some(overlay) = &review.overlay {
        draw_overlay(frame, review, overlay);
    }
}

/// ` klartext review · b.en.md · file 2/5 · 3/12 decided`.
fn title(review: &Review, width: u16) -> String {
    let name = match review.current() {
        Some((_, d, _)) => review.file_label(d),
        None => format!("{} files", review.docs.len()),
    };
    let left = format!(" klartext review · {name}");
    let right = "? help ";
    let room = (width as usize).saturating_sub(display_width(right));
    let left = fit(&left, room);
    let pad = room.saturating_sub(display_width(&left));
    format!("{left}{}{right}", " ".repeat(pad))
}

/// `¶ 3/12 · change 2/5 · ✓7 ✗2 ✎1 · 14 pending · per paragraph`.
fn status(review: &Review) -> String {
    let Counts {
        accepted,
        rejected,
        edited,
        mixed,
        pending,
        ..
    } = review.counts();
    let mut parts = Vec::new();
    if let Some((_, d, i)) = review.current() {
        let total = review.docs[d].items.len();
        parts.push(format!("¶ {}/{total}", i + 1));
    }
    if let Some((k, n)) = review.position_in_doc() {
        parts.push(format!("review {k}/{n}"));
    }
    if let Some(item) = review.item() {
        let count = item.pair.change_count();
        parts.push(format!("change {}/{count}", (review.change + 1).min(count)));
    }
    let mut tally = format!("✓{accepted} ✗{rejected} ✎{edited}");
    if mixed > 0 {
        tally.push_str(&format!(" ±{mixed}"));
    }
    parts.push(tally);
    parts.push(format!("{pending} pending"));
    parts.push(
        match review.mode {
            Mode::Paragraph => "per paragraph",
            Mode::Change => "per change",
        }
        .to_owned(),
    );
    format!(" {}", parts.join(" · "))
}

/// The legend of the review screen itself.
const REVIEW_KEYS: &[(&str, &str)] = &[
    ("a", "accept"),
    ("r", "reject"),
    ("s", "skip"),
    ("e", "edit"),
    ("m", "mode"),
    ("b", "bulk"),
    ("z", "undo"),
    ("w", "write"),
    ("q", "quit"),
    ("f", "files"),
];

fn legend(review: &Review, width: u16) -> Line<'static> {
    if let Some(Overlay::Search(query)) = &review.overlay {
        return Line::raw(fit(&format!("/{}▏", sanitize(query)), width as usize));
    }
    if let Some(message) = &review.message {
        return Line::raw(fit(&format!(" {}", sanitize(message)), width as usize));
    }
    let several = review.docs.len() > 1;
    let keys: &[(&str, &str)] = if review.summary && several {
        &[
            ("w", "write"),
            ("q", "quit"),
            ("f", "files"),
            ("any key", "back"),
        ]
    } else if review.summary {
        &[("w", "write"), ("q", "quit"), ("any key", "back")]
    } else if several {
        REVIEW_KEYS
    } else {
        // `f files` is last: one document has no file list.
        &REVIEW_KEYS[..REVIEW_KEYS.len() - 1]
    };
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in keys {
        let cost = display_width(key) + display_width(what) + 3;
        if used + cost > width as usize {
            break;
        }
        used += cost;
        spans.push(Span::styled(
            format!(" {key}"),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {what} ")));
    }
    Line::from(spans)
}

/// The current pair, its header, findings and notes, laid out for `width` columns.
fn body(review: &Review, width: u16, theme: Theme) -> Vec<Line<'static>> {
    let Some((_, d, i)) = review.current() else {
        return vec![Line::raw(" Nothing to review.")];
    };
    let doc = &review.docs[d];
    let item = &doc.items[i];
    let paragraph = &doc.record.paragraphs[i];
    let w = width as usize;
    let notes = notes(paragraph);
    let mut lines = Vec::new();
    let header = format!("{} · {}", pieces::header(&item.pair, &notes), verdict(item));
    lines.push(Line::styled(fit(&header, w), theme.style(Role::Header)));
    lines.push(Line::raw(""));
    let focus = (review.mode == Mode::Change).then_some(review.change);
    let (old_title, new_title) = &doc.record.titles;
    // The German as the model saw it, what the repairs wrote underlined.
    let german = crate::render::repaired_runs(paragraph.sent(), &paragraph.repairs);
    let styled = |rows: Vec<Row>| -> Vec<Line<'static>> {
        rows.into_iter().map(|row| line(row, theme)).collect()
    };
    let layout = review.layout_at(width);
    // Below three panes' width the German goes above the panes instead of beside them.
    let three = review.german && layout == Layout::SideBySide && w >= THREE_PANE_WIDTH;
    if review.german && !three {
        lines.extend(styled(pieces::rows(&[(Role::Title, "German")], w)));
        lines.extend(styled(pieces::rows(&german, w)));
        lines.push(Line::raw(""));
    }
    match layout {
        Layout::SideBySide => {
            let panes = if three { 3 } else { 2 };
            let pane = (w.saturating_sub(display_width(GUTTER) * (panes - 1)) / panes).max(8);
            let mut titles: Vec<Vec<Row>> = Vec::new();
            if three {
                titles.push(pieces::rows(&[(Role::Title, "German")], pane));
            }
            titles.push(pieces::rows(&[(Role::Title, sanitize(old_title))], pane));
            titles.push(pieces::rows(&[(Role::Title, sanitize(new_title))], pane));
            // Sentence by sentence, so that each row holds the same sentence in every pane.
            let source = three.then_some((paragraph.sent(), paragraph.repairs.as_slice()));
            let texts = pieces::pair_columns(&item.pair, source, pane, focus);
            lines.extend(side_by_side(&titles, pane, theme));
            lines.extend(side_by_side(&texts, pane, theme));
        }
        Layout::Stacked => {
            lines.extend(styled(pieces::rows(
                &[(Role::Title, sanitize(old_title))],
                w,
            )));
            lines.extend(styled(pieces::pair_rows(&item.pair, Side::Old, w, focus)));
            lines.push(Line::raw(""));
            lines.extend(styled(pieces::rows(
                &[(Role::Title, sanitize(new_title))],
                w,
            )));
            lines.extend(styled(pieces::pair_rows(&item.pair, Side::New, w, focus)));
        }
        Layout::Inline => {
            let title = format!("{old_title} → {new_title}");
            lines.extend(styled(pieces::rows(&[(Role::Title, sanitize(&title))], w)));
            lines.extend(styled(pieces::pair_rows(
                &item.pair,
                Side::Redline,
                w,
                focus,
            )));
        }
    }
    if !notes.is_empty() {
        lines.push(Line::raw(""));
    }
    for note in &notes {
        let role = match note.level {
            NoteLevel::Error => Role::Error,
            NoteLevel::Warning => Role::Warning,
            NoteLevel::Info => Role::Fold,
        };
        let marker = format!("{} ", note.level.marker());
        let text = sanitize(&note.text);
        lines.extend(styled(pieces::rows(
            &[(role, marker.as_str()), (Role::Same, &text)],
            w,
        )));
    }
    lines
}

/// Columns of rows next to each other, padded to `pane` columns, joined by the gutter.
fn side_by_side(columns: &[Vec<Row>], pane: usize, theme: Theme) -> Vec<Line<'static>> {
    let height = columns.iter().map(Vec::len).max().unwrap_or(0);
    (0..height)
        .map(|r| {
            let mut spans = Vec::new();
            for (c, column) in columns.iter().enumerate() {
                if c > 0 {
                    spans.push(Span::styled(GUTTER, theme.style(Role::Header)));
                }
                let row = column.get(r).cloned().unwrap_or_default();
                let used: usize = row.iter().map(|(_, t)| display_width(t)).sum();
                spans.extend(
                    row.into_iter()
                        .map(|(role, text)| Span::styled(text, theme.style(role))),
                );
                if c + 1 < columns.len() {
                    spans.push(Span::raw(" ".repeat(pane.saturating_sub(used))));
                }
            }
            Line::from(spans)
        })
        .collect()
}

fn line(row: Row, theme: Theme) -> Line<'static> {
    Line::from(
        row.into_iter()
            .map(|(role, text)| Span::styled(text, theme.style(role)))
            .collect::<Vec<_>>(),
    )
}

/// Verify's findings and the model's notes (`model doubt: …` at warning level).
fn notes(paragraph: &super::record::Paragraph) -> Vec<Note> {
    paragraph
        .findings_shown()
        .into_iter()
        .map(|f| {
            if f.is_model() {
                Note::model(f.severity, &f.message)
            } else {
                Note {
                    level: f.severity.into(),
                    text: f.message,
                }
            }
        })
        .collect()
}

fn verdict(item: &Item) -> String {
    match &item.verdict {
        _ if item.is_pending() && matches!(item.verdict, Verdict::Changes { .. }) => {
            let decided = (0..item.pair.change_count())
                .filter(|&k| item.choice(k) != super::record::Choice::Pending)
                .count();
            format!("{decided} of {} changes decided", item.pair.change_count())
        }
        Verdict::Pending => "pending".to_owned(),
        Verdict::Accept => "✓ accepted".to_owned(),
        Verdict::Reject => "✗ rejected (draft kept)".to_owned(),
        Verdict::Edit { .. } => "✎ edited".to_owned(),
        Verdict::Changes { changes } => {
            let accepted = changes
                .iter()
                .filter(|c| **c == super::record::Choice::Accept)
                .count();
            format!("± {accepted} of {} changes accepted", changes.len())
        }
    }
}

/// The paragraph as it will be written.
fn preview_rows(review: &Review, width: u16) -> Vec<String> {
    let Some(item) = review.item() else {
        return Vec::new();
    };
    let text = sanitize(&item.result()).into_owned();
    pieces::rows(&[(Role::Same, text.as_str())], width as usize)
        .into_iter()
        .map(|row| row.into_iter().map(|(_, t)| t).collect())
        .collect()
}

fn summary(review: &Review, theme: Theme) -> Vec<Line<'static>> {
    let counts = review.counts();
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            if counts.pending == 0 {
                " Every paragraph is decided.".to_owned()
            } else {
                format!(
                    " {} still pending (they keep the correction).",
                    plural_paragraphs(counts.pending)
                )
            },
            theme.style(Role::Title),
        ),
        Line::raw(""),
        Line::raw(format!(
            " ✓ {} accepted   ✗ {} rejected   ✎ {} edited   ± {} mixed   of {}",
            counts.accepted,
            counts.rejected,
            counts.edited,
            counts.mixed,
            plural_paragraphs(counts.total)
        )),
        Line::raw(""),
    ];
    let unwritten = review.unwritten();
    if unwritten.is_empty() {
        lines.push(Line::raw(" The outputs already hold these decisions."));
    } else {
        lines.push(Line::raw(format!(
            " Not written yet: {}",
            unwritten
                .iter()
                .map(|&d| review.docs[d].name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(
        " w write the outputs · q quit (decisions are kept) · any other key: back",
    ));
    lines
}

fn plural_paragraphs(n: usize) -> String {
    format!("{n} {}", plural(n, "paragraph", "paragraphs"))
}

const HELP: &[(&str, &str)] = &[
    (
        "a  Enter",
        "accept the correction (paragraph or change), go on",
    ),
    ("r", "reject it: keep the draft"),
    ("s  Space", "skip: leave it pending"),
    (
        "A  R  S",
        "accept / reject / skip the rest of this paragraph",
    ),
    (
        "b",
        "bulk: punctuation, whitespace or case changes; all pending",
    ),
    ("m", "decide per paragraph or per change"),
    ("e", "edit the result in $EDITOR"),
    ("z  Ctrl-r", "undo / redo"),
    ("]  [", "next / previous change"),
    ("}  {", "next / previous paragraph"),
    ("Tab  S-Tab", "next / previous pending paragraph"),
    ("j k ↓ ↑", "scroll; PgDn PgUp Ctrl-d Ctrl-u g G"),
    (
        "/  n  N",
        "search German, draft and result; next / previous",
    ),
    ("t", "layout: side by side, stacked, inline"),
    ("i", "show the German"),
    ("p", "show the result preview"),
    ("f", "the files: progress, and Enter to open one"),
    ("w", "write the outputs now"),
    ("q", "quit (asks if something is pending or unwritten)"),
    ("Q  Ctrl-c", "quit at once without writing"),
];

fn draw_overlay(frame: &mut Frame, review: &Review, overlay: &Overlay) {
    let (title, lines): (&str, Vec<Line>) = match overlay {
        Overlay::Search(_) => return,
        Overlay::Files { selected } => {
            let room = (frame.area().height as usize).saturating_sub(4).max(1);
            (
                " files · ↑↓ choose · Enter opens · Esc closes ",
                file_list(review, *selected, room, frame.area().width as usize),
            )
        }
        Overlay::Help => (
            " keys · any key closes ",
            HELP.iter()
                .map(|(keys, what)| {
                    Line::from(vec![
                        Span::styled(
                            format!(" {keys:<11}"),
                            Style::new().add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(format!(" {what}")),
                    ])
                })
                .chain([
                    Line::raw(""),
                    Line::raw(
                        " Decisions are saved as you go; pending paragraphs keep the correction.",
                    ),
                ])
                .collect(),
        ),
        Overlay::Bulk => (
            " bulk · Esc cancels ",
            [
                "1  accept every pending punctuation change (quotes, dashes, commas)",
                "2  accept every pending whitespace change",
                "3  accept every pending change of letter case",
                "4  accept everything still pending",
                "5  reject everything still pending (keep the drafts)",
            ]
            .iter()
            .map(|l| Line::raw(format!(" {l}")))
            .collect(),
        ),
        Overlay::Quit => {
            let counts = review.counts();
            let unwritten = review.unwritten().len();
            let mut lines = Vec::new();
            if counts.pending > 0 {
                lines.push(Line::raw(format!(
                    " {} pending.",
                    plural_paragraphs(counts.pending)
                )));
            }
            if unwritten > 0 {
                lines.push(Line::raw(format!(
                    " {unwritten} {} not written yet.",
                    plural(unwritten, "output", "outputs")
                )));
            }
            lines.push(Line::raw(""));
            lines.push(Line::raw(" w  write and quit"));
            lines.push(Line::raw(" q  quit without writing (decisions are kept)"));
            lines.push(Line::raw(" Esc  stay"));
            (" quit? ", lines)
        }
    };
    let area = frame.area();
    let width = lines
        .iter()
        .map(|l| l.width() as u16 + 2)
        .chain([title.len() as u16 + 4])
        .max()
        .unwrap_or(20)
        .min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        rect,
    );
}

/// The files in review order, `room` rows around the `selected` one: a mark (✗ errors, ⚠
/// warnings or doubts, ± changes, ✓ every paragraph decided, · nothing to review), the name,
/// how many of its paragraphs are decided, and the paragraphs with findings.
fn file_list(review: &Review, selected: usize, room: usize, width: usize) -> Vec<Line<'static>> {
    let files = review.files();
    let current = review.current().map(|(_, d, _)| d);
    let start = (selected + 1).saturating_sub(room);
    // Names line up; a very long one is cut to leave room for the rest.
    let name_width = files
        .iter()
        .map(|&d| display_width(&sanitize(&review.docs[d].name)))
        .max()
        .unwrap_or(0)
        .min(width.saturating_sub(36).max(12));
    files
        .iter()
        .enumerate()
        .skip(start)
        .take(room)
        .map(|(at, &d)| {
            let doc = &review.docs[d];
            let counts = doc.counts();
            let attention = doc.attention();
            let mark = match attention.urgency() {
                Urgency::Nothing => "·",
                _ if counts.pending == 0 => "✓",
                Urgency::Errors => "✗",
                Urgency::Warnings => "⚠",
                Urgency::Changes => "±",
            };
            let name = fit(&sanitize(&doc.name), name_width);
            let pad = " ".repeat(name_width.saturating_sub(display_width(&name)));
            let progress = if counts.total == 0 {
                "nothing to review".to_owned()
            } else {
                format!("{}/{} decided", counts.total - counts.pending, counts.total)
            };
            let mut found = Vec::new();
            if attention.errors > 0 {
                found.push(format!("✗ {} ¶", attention.errors));
            }
            if attention.warnings > 0 {
                found.push(format!("⚠ {} ¶", attention.warnings));
            }
            let found = if found.is_empty() {
                String::new()
            } else {
                format!("  {}", found.join("  "))
            };
            let cursor = if at == selected { "▸" } else { " " };
            let here = if Some(d) == current { " ◂" } else { "" };
            let text = format!(" {cursor} {mark} {name}{pad}  {progress:<17}{found}{here}");
            let style = if at == selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(fit(&text, width.saturating_sub(2)), style)
        })
        .collect()
}

/// `text` cut to `width` display columns.
fn fit(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = display_width(c.encode_utf8(&mut [0; 4]));
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}
