//! The HTML report: one self-contained page (inline CSS, no script, no external assets) with the
//! summary on top and one grid section per pair, one grid row per band of corresponding
//! sentences, so the columns start each sentence on the same line and wrap instead of scrolling.
//! Every text is sanitised, then escaped.

use std::io::{self, Write};
use std::ops::Range;

use super::{
    Located, ReportInput, Summary, anchor, category_name, level_name, locate, notes_counts, percent,
};
use crate::diff::{Alignment, Chunk, Pair, PairKind};
use crate::render::bands::{Band, bands, clip};
use crate::render::{Note, NoteLevel, sanitize};
use crate::repair::RepairMark;

pub(super) const STYLE: &str = include_str!("page.css");

pub(super) fn write(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    let summary = Summary::of(input);
    let title = match input.document {
        Some(document) => format!("{document} · {} → {}", input.titles.0, input.titles.1),
        None => format!("{} → {}", input.titles.0, input.titles.1),
    };
    open_page(&mut *out, input.generator, &title, STYLE)?;
    header(input, &summary, out)?;
    writeln!(out, "<main>")?;
    pairs(input, out)?;
    writeln!(out, "</main>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

/// The column heads and every pair, runs of unchanged ones folded.
pub(super) fn pairs(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    column_heads(input, out)?;
    for group in groups(input) {
        match group {
            Group::Shown(pair) => section(input, pair, out)?,
            Group::Unchanged(pairs) => {
                let noun = crate::count::plural(pairs.len(), "paragraph", "paragraphs");
                writeln!(out, "<details class=\"unchanged\">")?;
                writeln!(
                    out,
                    "<summary>{} unchanged {noun} (¶ {})</summary>",
                    pairs.len(),
                    Pair::place_of_run(&pairs)
                )?;
                for pair in pairs {
                    section(input, pair, out)?;
                }
                writeln!(out, "</details>")?;
            }
        }
    }
    Ok(())
}

fn header(input: &ReportInput, summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<header>")?;
    let sides = format!("{} → {}", escape(input.titles.0), escape(input.titles.1));
    match input.document {
        Some(document) => {
            writeln!(out, "<h1>{}</h1>", escape(document))?;
            writeln!(out, "<p class=\"sides\">{sides}</p>")?;
        }
        None => writeln!(out, "<h1>{sides}</h1>")?,
    }
    writeln!(
        out,
        "<p class=\"generator\">Report by {}</p>",
        escape(input.generator)
    )?;
    summary_list(summary, out)?;
    legend(out)?;
    contents(input, out)?;
    writeln!(out, "</header>")
}

/// The document's counts as a definition list.
pub(super) fn summary_list(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<dl class=\"summary\">")?;
    let rows = [
        ("Paragraphs", summary.paragraphs_line()),
        ("Changes", summary.changes_line()),
        ("Findings", summary.findings_line()),
        ("Word similarity", percent(summary.similarity)),
    ];
    for (term, value) in rows {
        writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(&value))?;
    }
    writeln!(out, "</dl>")
}

/// How the marks read.
pub(super) fn legend(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "<p class=\"legend\">Legend: <del class=\"c-words\">removed</del> \
         <ins class=\"c-words\">inserted</ins> \
         <ins class=\"c-words\">ch<span class=\"em\">a</span>nged letters</ins> \
         <ins class=\"c-punctuation\">punctuation, case or spacing</ins> \
         <span class=\"ws\">·</span> a space, <span class=\"ws\">↵</span> a line break</p>"
    )
}

/// Links to the paragraphs that changed or carry notes (✗ where there is an error).
pub(super) fn contents(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    let listed: Vec<String> = input
        .diff
        .pairs
        .iter()
        .filter(|pair| pair.kind != PairKind::Unchanged || !input.notes_of(pair).is_empty())
        .map(|pair| {
            let errors = input
                .notes_of(pair)
                .iter()
                .any(|note| note.level == NoteLevel::Error);
            let mark = if errors { " ✗" } else { "" };
            format!(
                "<a href=\"#{}\">¶ {}{mark}</a>",
                id(input, pair),
                pair.place()
            )
        })
        .collect();
    if !listed.is_empty() {
        writeln!(
            out,
            "<nav class=\"toc\">Changed or noted: {}</nav>",
            listed.join(" ")
        )?;
    }
    Ok(())
}

/// A pair's id on the page: its anchor after the input's prefix.
fn id(input: &ReportInput, pair: &Pair) -> String {
    format!("{}{}", input.id_prefix, anchor(pair))
}

/// The titles above the columns; on a narrow screen each cell shows its own title instead.
fn column_heads(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    write!(out, "<div class=\"{} colheads\">", grid_class(input))?;
    if let Some((title, _)) = input.source {
        write!(out, "<div class=\"colhead\">{}</div>", escape(title))?;
    }
    writeln!(
        out,
        "<div class=\"colhead\">{}</div><div class=\"colhead\">{}</div></div>",
        escape(input.titles.0),
        escape(input.titles.1)
    )
}

fn grid_class(input: &ReportInput) -> &'static str {
    if input.source.is_some() {
        "cols three"
    } else {
        "cols"
    }
}

enum Group<'d> {
    Shown(&'d Pair),
    /// A run of unchanged pairs without findings, collapsed.
    Unchanged(Vec<&'d Pair>),
}

fn groups<'d>(input: &ReportInput<'d>) -> Vec<Group<'d>> {
    let mut groups = Vec::new();
    for pair in &input.diff.pairs {
        if pair.kind == PairKind::Unchanged && input.notes_of(pair).is_empty() {
            if let Some(Group::Unchanged(run)) = groups.last_mut() {
                run.push(pair);
            } else {
                groups.push(Group::Unchanged(vec![pair]));
            }
        } else {
            groups.push(Group::Shown(pair));
        }
    }
    groups
}

fn section(input: &ReportInput, pair: &Pair, out: &mut impl Write) -> io::Result<()> {
    let kind = kind_name(pair.kind);
    let alignment = alignment_name(pair.alignment);
    let pair_id = id(input, pair);
    writeln!(
        out,
        "<section id=\"{pair_id}\" class=\"pair {kind}\" data-alignment=\"{alignment}\">"
    )?;
    let notes = input.notes_of(pair);
    writeln!(out, "<h2>{}</h2>", pair_head(&pair_id, pair, notes))?;
    // Columns in document order, one cell per band each; the grid fills them column by column,
    // `--rows` rows high, so each band is one grid row and a narrow screen stacks whole columns.
    let source = input
        .source
        .map(|(title, _)| title)
        .zip(input.source_of(pair));
    let bands = bands(pair, source.map(|(_, text)| text));
    write!(
        out,
        "<div class=\"{} bands\" style=\"--rows:{}\">",
        grid_class(input),
        bands.len()
    )?;
    let langs = input.langs;
    if let Some((title, text)) = source {
        let repairs = input.source_repairs_of(pair);
        let cells = bands
            .iter()
            .map(|band| repaired_within(text, repairs, band.source.clone()));
        side(out, "source", title, langs.source, cells)?;
    }
    let (old, new): (Vec<String>, Vec<String>) =
        bands.iter().map(|band| sides(&pair_id, pair, band)).unzip();
    side(out, "old", input.titles.0, langs.old, old)?;
    side(out, "new", input.titles.1, langs.new, new)?;
    writeln!(out, "</div>")?;
    if !notes.is_empty() {
        writeln!(out, "<ul class=\"notes\">")?;
        for Note { level, text } in notes {
            writeln!(
                out,
                "<li class=\"note\"><span class=\"level-{}\">{} {}</span> {}</li>",
                level_name(*level),
                level.marker(),
                level_name(*level),
                escape(text)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

/// "¶ 3 → 3–4 · changed · 4 changes · 57% similar · split · rewritten · ✗ 1 error" as chips.
fn pair_head(id: &str, pair: &Pair, notes: &[Note]) -> String {
    let mut chips = vec![
        format!("<a href=\"#{id}\">¶ {}</a>", pair.place()),
        format!("<span>{}</span>", kind_name(pair.kind)),
    ];
    if pair.kind == PairKind::Changed {
        let changes = pair.change_count();
        let noun = crate::count::plural(changes, "change", "changes");
        chips.push(format!("<span>{changes} {noun}</span>"));
        if (pair.similarity * 100.0).round() < 100.0 {
            chips.push(format!(
                "<span>{} similar</span>",
                percent(f64::from(pair.similarity))
            ));
        }
    }
    if matches!(pair.alignment, Alignment::Split | Alignment::Merge) {
        chips.push(format!("<span>{}</span>", alignment_name(pair.alignment)));
    }
    if pair.rewritten {
        chips.push("<span class=\"badge\">rewritten</span>".to_owned());
    }
    for (level, count) in notes_counts(notes) {
        let level = level_name(level);
        chips.push(format!("<span class=\"level-{level}\">{count}</span>"));
    }
    chips.join(" ")
}

/// One column of a pair: a cell per band, titled for a narrow screen, where it stands alone.
fn side(
    out: &mut impl Write,
    class: &str,
    title: &str,
    lang: Option<&str>,
    cells: impl IntoIterator<Item = String>,
) -> io::Result<()> {
    let cells: Vec<String> = cells.into_iter().collect();
    let absent = if cells.iter().all(String::is_empty) {
        " absent"
    } else {
        ""
    };
    let lang = match lang.filter(|tag| is_language_tag(tag)) {
        Some(tag) => format!(" lang=\"{tag}\""),
        None => String::new(),
    };
    write!(
        out,
        "<div class=\"side {class}{absent}\" data-side=\"{}\"{lang}>",
        escape(title)
    )?;
    for cell in cells {
        // No whitespace around the text: the cell is `pre-wrap`, so it would show.
        write!(out, "<div class=\"cell\">{cell}</div>")?;
    }
    write!(out, "</div>")
}

fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The old and new cells' markup for one band: shared text plus `<del>` on the old side and
/// `<ins>` on the new. A rewritten pair is one whole replacement, since word-level marks would
/// be noise. A change that runs on into the next band is marked in both; its anchor goes on its
/// first piece. `id` is the pair's, which its changes' ids extend.
fn sides(id: &str, pair: &Pair, band: &Band) -> (String, String) {
    if pair.rewritten {
        let whole = |tag: &str, text: &str| {
            if text.is_empty() {
                String::new()
            } else {
                format!("<{tag} class=\"whole\">{}</{tag}>", escape(text))
            }
        };
        return (
            whole("del", pair.old.get(band.old.clone()).unwrap_or_default()),
            whole("ins", pair.new.get(band.new.clone()).unwrap_or_default()),
        );
    }
    let (mut old, mut new) = (String::new(), String::new());
    let (mut at_old, mut at_new) = (0, 0);
    let mut located = locate(pair).into_iter();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => {
                old.push_str(&escape(clip(text, at_old, &band.old)));
                new.push_str(&escape(clip(text, at_new, &band.new)));
                at_old += text.len();
                at_new += text.len();
            }
            Chunk::Change { emphasis, .. } => {
                let Some(change) = located.next() else {
                    continue;
                };
                at_old = change.old_range.end;
                at_new = change.new_range.end;
                // The anchor goes on the first mark the change has in document order.
                let change_id = format!("{id}-c{}", change.number);
                let (old_id, new_id) = if change.old.is_empty() {
                    (
                        None,
                        band.new
                            .contains(&change.new_range.start)
                            .then_some(change_id),
                    )
                } else {
                    (
                        band.old
                            .contains(&change.old_range.start)
                            .then_some(change_id),
                        None,
                    )
                };
                let pieces = emphasis.as_ref();
                let old_part = Part {
                    text: change.old,
                    start: change.old_range.start,
                    within: &band.old,
                    pieces: pieces.map(|e| e.old.as_slice()),
                };
                let new_part = Part {
                    text: change.new,
                    start: change.new_range.start,
                    within: &band.new,
                    pieces: pieces.map(|e| e.new.as_slice()),
                };
                old.push_str(&mark("del", &change, old_id, &old_part));
                new.push_str(&mark("ins", &change, new_id, &new_part));
            }
        }
    }
    (old, new)
}

/// One side of a change, and the part of its side's text a band shows.
struct Part<'p> {
    text: &'p str,
    /// Where `text` starts in its side's text.
    start: usize,
    within: &'p Range<usize>,
    pieces: Option<&'p [(bool, String)]>,
}

/// One side of a change as `<del>`/`<ins>`, or nothing when the band holds none of it.
fn mark(tag: &str, change: &Located, id: Option<String>, part: &Part) -> String {
    let text = clip(part.text, part.start, part.within);
    if text.is_empty() {
        return String::new();
    }
    let pieces = part.pieces.map(|pieces| {
        let mut at = part.start;
        let mut clipped = Vec::new();
        for (emphasised, piece) in pieces {
            let shown = clip(piece, at, part.within);
            at += piece.len();
            if !shown.is_empty() {
                clipped.push((*emphasised, shown.to_owned()));
            }
        }
        clipped
    });
    let id = id.map(|id| format!(" id=\"{id}\"")).unwrap_or_default();
    let class = format!("c-{}", category_name(change.category));
    format!(
        "<{tag}{id} class=\"{class}\">{}</{tag}>",
        marked_text(text, pieces.as_ref())
    )
}

/// A change side's text with its emphasised pieces wrapped, or its whitespace made visible.
/// Pieces that do not add up to the text are ignored rather than trusted.
fn marked_text(text: &str, pieces: Option<&Vec<(bool, String)>>) -> String {
    if text.chars().all(char::is_whitespace) {
        return visible_whitespace(text);
    }
    let pieces = pieces.filter(|pieces| {
        pieces
            .iter()
            .map(|(_, piece)| piece.as_str())
            .collect::<String>()
            == text
    });
    let Some(pieces) = pieces else {
        return escape(text);
    };
    pieces
        .iter()
        .map(|(emphasised, piece)| {
            if *emphasised {
                format!("<span class=\"em\">{}</span>", escape(piece))
            } else {
                escape(piece)
            }
        })
        .collect()
}

/// Whitespace alone would be an invisible mark: spaces and tabs become `·`/`→`, and each line
/// break is kept after a `↵` so the text still breaks where it did.
fn visible_whitespace(text: &str) -> String {
    let mut shown = String::from("<span class=\"ws\">");
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("↵\n"),
            '\t' => shown.push('→'),
            _ => shown.push('·'),
        }
    }
    shown.push_str("</span>");
    shown
}

fn kind_name(kind: PairKind) -> &'static str {
    match kind {
        PairKind::Unchanged => "unchanged",
        PairKind::Changed => "changed",
        PairKind::Inserted => "inserted",
        PairKind::Deleted => "deleted",
    }
}

fn alignment_name(alignment: Alignment) -> &'static str {
    match alignment {
        Alignment::OneToOne => "one-to-one",
        Alignment::Split => "split",
        Alignment::Merge => "merge",
        Alignment::Inserted => "inserted",
        Alignment::Deleted => "deleted",
    }
}

/// [`repaired`] for the part `range` of `text` (one band), with the marks that lie inside it.
fn repaired_within(text: &str, marks: &[RepairMark], range: Range<usize>) -> String {
    let Some(part) = text.get(range.clone()) else {
        return String::new();
    };
    repaired(part, &RepairMark::within(text, marks, &range))
}

/// The German as it was sent, with what the offline repairs wrote in a subtle
/// `<span class="repair">` whose title names the rule and the change.
fn repaired(text: &str, marks: &[RepairMark]) -> String {
    let mut html = String::with_capacity(text.len());
    let mut at = 0;
    for mark in RepairMark::usable(text, marks) {
        html.push_str(&escape(&text[at..mark.range.start]));
        html.push_str(&format!(
            "<span class=\"repair\" title=\"{}\">{}</span>",
            escape(&mark.label()),
            escape(&text[mark.range.clone()])
        ));
        at = mark.range.end;
    }
    html.push_str(&escape(&text[at..]));
    html
}

/// A page's opening, up to `<body>`: charset, viewport, generator, `title` (escaped here) and
/// the style. The one-file report and the run report share it.
pub(super) fn open_page(
    out: &mut dyn Write,
    generator: &str,
    title: &str,
    style: &str,
) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(out, "<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<meta name=\"generator\" content=\"{}\">",
        escape(generator)
    )?;
    writeln!(out, "<title>{}</title>", escape(title))?;
    writeln!(out, "<style>\n{style}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")
}

/// Untrusted text made inert for HTML: controls and bidi overrides become visible placeholders
/// first, then markup characters become entities.
pub(super) fn escape(text: &str) -> String {
    let text = sanitize(text);
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    fn render(input: &ReportInput) -> String {
        let mut out = Vec::new();
        write(input, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the page is UTF-8")
    }

    #[test]
    fn escapes_after_sanitising() {
        assert_eq!(
            escape("<script>a&b</script> \"q\" 'r'"),
            "&lt;script&gt;a&amp;b&lt;/script&gt; &quot;q&quot; &#39;r&#39;"
        );
        assert_eq!(escape("a\x1b[31m\u{202E}b\x07"), "a␛[31m⟨U+202E⟩b␇");
    }

    #[test]
    fn hostile_text_stays_inert() {
        let fixture = Fixture::new();
        let page = render(&fixture.input());
        assert!(!page.contains("<script"), "raw script tag");
        assert!(!page.contains("<b>"), "raw markup from a finding");
        assert!(!page.contains("<deepl>"), "raw markup from a title");
        assert!(
            !page
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202E}'),
            "raw control or bidi character"
        );
        assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assert!(page.contains("here⟨U+202E⟩"));
    }

    #[test]
    fn structure_of_a_pair() {
        let fixture = Fixture::new();
        let page = render(&fixture.input());
        assert!(page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains("<section id=\"p1\" class=\"pair changed\""));
        assert!(page.contains("<del id=\"p1-c1\" class=\"c-words\">firm</del>"));
        assert!(page.contains("<ins class=\"c-words\">company</ins>"));
        assert!(page.contains("Hauptstra<span class=\"em\">ß</span>e"));
        assert!(page.contains("<span class=\"badge\">rewritten</span>"));
        assert!(page.contains("<a href=\"#p5\">¶ 5 → 5–6</a> <span>changed</span>"));
        assert!(page.contains("<span>split</span>"));
        assert!(page.contains("<summary>2 unchanged paragraphs (¶ 2–3)</summary>"));
        assert!(page.contains("<summary>1 unchanged paragraph (¶ 10)</summary>"));
        // A noted unchanged pair is never folded.
        assert!(page.contains("<section id=\"p9\" class=\"pair unchanged\""));
        assert!(page.contains("<span class=\"level-error\">✗ 1 error</span>"));
        assert!(page.contains("lang=\"de\""));
        assert_eq!(page.matches("<section ").count(), 10);
        assert!(!page.contains("http://") && !page.contains("https://"));
    }

    #[test]
    fn odd_language_tags_are_dropped() {
        let fixture = Fixture::new();
        let mut input = fixture.input();
        input.langs.old = Some("en\" onload=\"x");
        let page = render(&input);
        assert!(!page.contains("onload"));
    }

    #[test]
    fn the_page_names_its_document_and_marks_the_repairs_in_the_german() {
        let fixture = Fixture::new();
        let german = vec!["Er sagte: „Hallo“ <b>.".to_owned()];
        let mark = |range: std::ops::Range<usize>, before: &str, after: &str| RepairMark {
            range,
            rule: "glued-quote".into(),
            before: before.into(),
            after: after.into(),
        };
        let marks = vec![vec![
            mark(9..13, "\"", " „"),
            mark(18..21, "\"", "“"),
            // Does not fit the text: left out.
            mark(40..44, "x", "y"),
        ]];
        let input = ReportInput {
            source: Some(("German", &german)),
            source_repairs: &marks,
            document: Some("bericht <1>.de.md"),
            ..fixture.input()
        };
        let page = render(&input);
        assert!(
            page.contains(
                "<title>bericht &lt;1&gt;.de.md · draft · &lt;deepl&gt; → final &amp; fixed</title>"
            ),
            "{page}"
        );
        assert!(page.contains("<h1>bericht &lt;1&gt;.de.md</h1>"), "{page}");
        assert!(
            page.contains(
                "Er sagte:<span class=\"repair\" title=\"glued-quote: &quot; → ·„\"> „</span>\
                 Hallo<span class=\"repair\" title=\"glued-quote: &quot; → “\">“</span> &lt;b&gt;.</div>"
            ),
            "{page}"
        );
        // Without a document, the sides are the title, as for `klartext diff`.
        let page = render(&fixture.input());
        assert!(page.contains("<h1>draft · &lt;deepl&gt; → final &amp; fixed</h1>"));
    }

    #[test]
    fn output_is_deterministic() {
        let fixture = Fixture::new();
        assert_eq!(render(&fixture.input()), render(&fixture.input()));
    }

    /// The grid of a pair whose sentences differ in length: one cell per band in each column,
    /// so the n-th cells of all columns form one grid row and hold the same sentence.
    #[test]
    fn grid_rows_hold_the_same_sentence() {
        use crate::diff::{DiffOptions, diff_by_index};
        use crate::render::tests::{DRAFT, FINAL, GERMAN};
        let diff = diff_by_index(&[DRAFT], &[FINAL], &DiffOptions::default());
        let german = [GERMAN.to_owned()];
        let input = ReportInput {
            source: Some(("German", &german)),
            ..ReportInput::new(&diff, ("draft", "final"), "test")
        };
        let page = render(&input);
        let grid = page
            .lines()
            .find(|line| line.starts_with("<div class=\"cols three bands\""))
            .expect("the pair's grid");
        assert!(grid.contains("style=\"--rows:3\""), "{grid}");
        let columns: Vec<Vec<&str>> = grid
            .split("<div class=\"side ")
            .skip(1)
            .map(|side| side.split("<div class=\"cell\">").skip(1).collect())
            .collect();
        assert_eq!(columns.len(), 3);
        for (row, [german, draft, fixed]) in [
            ["Das Unternehmen", "The company", "The company"],
            ["Es war gut", "It was good", "The year"],
            ["Die Aktie", "Shares rose", "Shares rose"],
        ]
        .into_iter()
        .enumerate()
        {
            assert!(columns[0][row].contains(german), "{grid}");
            assert!(columns[1][row].contains(draft), "{grid}");
            assert!(columns[2][row].contains(fixed), "{grid}");
        }
        let one_column_a_line =
            grid.replace("</div><div class=\"side", "</div>\n<div class=\"side");
        insta::assert_snapshot!(one_column_a_line);
    }

    #[test]
    fn snapshot_page() {
        let fixture = Fixture::new();
        let page = render(&fixture.input());
        // The stylesheet is the same for every report; the snapshot is about the markup.
        let page = page.replace(STYLE, "/* page.css */\n");
        insta::assert_snapshot!(page);
    }
}
