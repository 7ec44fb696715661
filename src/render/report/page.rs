//! The HTML report: one self-contained page (inline CSS, no script, no external assets) with the
//! summary on top and one grid section per pair, so both sides of a pair start on the same line
//! and wrap instead of scrolling. Every text is sanitised, then escaped.

use std::io::{self, Write};

use super::{
    Located, ReportInput, Summary, anchor, category_name, level_name, locate, notes_counts, percent,
};
use crate::diff::{Alignment, Chunk, Pair, PairKind};
use crate::render::{Note, NoteLevel, sanitize};

pub(super) const STYLE: &str = include_str!("page.css");

pub(super) fn write(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    let summary = Summary::of(input);
    let (old_title, new_title) = (escape(input.titles.0), escape(input.titles.1));
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
        escape(input.generator)
    )?;
    writeln!(out, "<title>{old_title} → {new_title}</title>")?;
    writeln!(out, "<style>\n{STYLE}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")?;
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
    writeln!(
        out,
        "<h1>{} → {}</h1>",
        escape(input.titles.0),
        escape(input.titles.1)
    )?;
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

/// "4" or "4–6": the paragraph numbers a folded run covers.
fn section(input: &ReportInput, pair: &Pair, out: &mut impl Write) -> io::Result<()> {
    let kind = kind_name(pair.kind);
    let alignment = alignment_name(pair.alignment);
    writeln!(
        out,
        "<section id=\"{}\" class=\"pair {kind}\" data-alignment=\"{alignment}\">",
        id(input, pair)
    )?;
    let notes = input.notes_of(pair);
    writeln!(out, "<h2>{}</h2>", pair_head(&id(input, pair), pair, notes))?;
    write!(out, "<div class=\"{}\">", grid_class(input))?;
    let langs = input.langs;
    if let (Some((title, _)), Some(text)) = (input.source, input.source_of(pair)) {
        cell(out, "source", title, langs.source, &escape(text))?;
    }
    let (old, new) = sides(&id(input, pair), pair);
    cell(out, "old", input.titles.0, langs.old, &old)?;
    cell(out, "new", input.titles.1, langs.new, &new)?;
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

fn cell(
    out: &mut impl Write,
    side: &str,
    title: &str,
    lang: Option<&str>,
    body: &str,
) -> io::Result<()> {
    let absent = if body.is_empty() { " absent" } else { "" };
    let lang = match lang.filter(|tag| is_language_tag(tag)) {
        Some(tag) => format!(" lang=\"{tag}\""),
        None => String::new(),
    };
    // No whitespace around `body`: the cell is `pre-wrap`, so it would show.
    write!(
        out,
        "<div class=\"cell {side}{absent}\" data-side=\"{}\"{lang}>{body}</div>",
        escape(title)
    )
}

fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The old and new cells' markup: shared text plus `<del>` on the old side and `<ins>` on the
/// new. A rewritten pair is one whole replacement, since word-level marks would be noise.
/// `id` is the pair's, which its changes' ids extend.
fn sides(id: &str, pair: &Pair) -> (String, String) {
    if pair.rewritten {
        let whole = |tag: &str, text: &str| {
            if text.is_empty() {
                String::new()
            } else {
                format!("<{tag} class=\"whole\">{}</{tag}>", escape(text))
            }
        };
        return (whole("del", &pair.old), whole("ins", &pair.new));
    }
    let (mut old, mut new) = (String::new(), String::new());
    let mut located = locate(pair).into_iter();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text } => {
                let text = escape(text);
                old.push_str(&text);
                new.push_str(&text);
            }
            Chunk::Change { emphasis, .. } => {
                let Some(change) = located.next() else {
                    continue;
                };
                // The anchor goes on the first mark the change has in document order.
                let change_id = format!("{id}-c{}", change.number);
                let (old_id, new_id) = if change.old.is_empty() {
                    (None, Some(change_id))
                } else {
                    (Some(change_id), None)
                };
                let pieces = emphasis.as_ref();
                old.push_str(&mark("del", &change, old_id, pieces.map(|e| &e.old)));
                new.push_str(&mark("ins", &change, new_id, pieces.map(|e| &e.new)));
            }
        }
    }
    (old, new)
}

/// One side of a change as `<del>`/`<ins>`, or nothing when that side is empty.
fn mark(
    tag: &str,
    change: &Located,
    id: Option<String>,
    pieces: Option<&Vec<(bool, String)>>,
) -> String {
    let text = if tag == "del" { change.old } else { change.new };
    if text.is_empty() {
        return String::new();
    }
    let id = id.map(|id| format!(" id=\"{id}\"")).unwrap_or_default();
    let class = format!("c-{}", category_name(change.category));
    format!(
        "<{tag}{id} class=\"{class}\">{}</{tag}>",
        marked_text(text, pieces)
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
    fn output_is_deterministic() {
        let fixture = Fixture::new();
        assert_eq!(render(&fixture.input()), render(&fixture.input()));
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
