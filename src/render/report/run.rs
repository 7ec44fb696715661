//! The report of a whole run over several documents, as one self-contained HTML page or one
//! Markdown file: the run's counts, a summary table with a row per document (most in need of
//! attention first, each linking to its section), then one section per document in the run's
//! order, each the document's own report (counts, changes, findings and notes under each
//! paragraph). Sections are rendered one at a time as documents finish, so the caller can keep
//! them on disk rather than in memory, and put together with the table at the end.
//!
//! In HTML each section is a `<details>` element: a page of thousands of documents stays one
//! file to keep or send, opens at once (the browser lays out only the sections that are open)
//! and needs no script; a run of a few documents has its sections open.

use std::io::{self, Write};

use super::{ReportInput, Summary, critic, page};
use crate::count::{grouped, plural};

const STYLE: &str = include_str!("run.css");

/// Runs of at most this many documents show every section open.
const OPEN_UP_TO: usize = 10;

/// What a run's report says about the run as a whole.
#[derive(Debug, Clone, Copy)]
pub struct RunHead<'a> {
    /// The page's title and heading, e.g. "klartext fix: 50 files".
    pub title: &'a str,
    /// What made the report, e.g. "klartext 0.1.0". Never a timestamp.
    pub generator: &'a str,
    /// The run's counts and what stopped it, as (term, value): ("Files", "48 ok, 2 failed").
    pub facts: &'a [(String, String)],
}

/// Where a document of the run ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Ok,
    /// Finished, with errors or warnings to check.
    Flagged,
    Failed,
    NotStarted,
    Empty,
}

impl FileStatus {
    /// As the report shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Flagged => "flagged",
            Self::Failed => "failed",
            Self::NotStarted => "not started",
            Self::Empty => "empty",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            other => other.name(),
        }
    }
}

/// One document of a run: its row in the summary table and the heading of its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// Its place in the run's order, from 1: the sections follow it, and its section's id is
    /// `f{number}`.
    pub number: usize,
    /// The input, as the run names it.
    pub name: String,
    /// The file written, if any.
    pub output: Option<String>,
    pub status: FileStatus,
    /// Why it failed or was not started.
    pub why: Option<String>,
    pub paragraphs: usize,
    /// Paragraphs whose two sides differ.
    pub changed: usize,
    pub errors: usize,
    /// Warnings, the model's doubts among them.
    pub warnings: usize,
    pub infos: usize,
    /// Notes in which the model doubted its own result (also counted as warnings).
    pub doubts: usize,
    /// Which backends made it, e.g. "deepl → openai"; empty offline.
    pub backends: String,
    /// What it used, e.g. "openai: 1,200 tokens"; empty offline.
    pub usage: String,
}

impl FileRow {
    /// Its section's id, which the summary table links to.
    pub fn id(&self) -> String {
        format!("f{}", self.number)
    }

    /// How urgently it needs a look, most urgent lowest: failed, not started, with errors,
    /// with warnings (model doubts among them), changed, unchanged, empty.
    fn attention(&self) -> u8 {
        match self.status {
            FileStatus::Failed => 0,
            FileStatus::NotStarted => 1,
            FileStatus::Empty => 6,
            _ if self.errors > 0 => 2,
            _ if self.warnings + self.doubts > 0 => 3,
            _ if self.changed > 0 => 4,
            _ => 5,
        }
    }
}

/// The rows most in need of attention first, in the run's order within each kind.
pub fn by_attention(rows: &[FileRow]) -> Vec<&FileRow> {
    let mut sorted: Vec<&FileRow> = rows.iter().collect();
    sorted.sort_by_key(|row| (row.attention(), row.number));
    sorted
}

/// What the summary table's order is, in words.
const ORDER: &str = "Failed first, then not started, then files with errors (✗), with warnings \
                     or model doubts (⚠), changed, unchanged and empty; in the run's order \
                     within each.";

/// One document's section of the HTML page: its report (or why there is none) in a
/// `<details>` element whose summary line names it, its status and its counts. `diff` is the
/// document's report input; its ids get the section's prefix. `open` when the run is short.
pub fn html_section(
    row: &FileRow,
    diff: Option<&ReportInput>,
    open: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let escape = page::escape;
    let status = row.status;
    writeln!(
        out,
        "<details id=\"{}\" class=\"file {}\"{}>",
        row.id(),
        status.class(),
        if open { " open" } else { "" }
    )?;
    writeln!(
        out,
        "<summary><span class=\"file-name\">{}</span> <span class=\"status {}\">{}</span>{}</summary>",
        escape(&row.name),
        status.class(),
        status.name(),
        counts_line(row)
    )?;
    writeln!(out, "<div class=\"file-body\">")?;
    if let Some(why) = &row.why {
        writeln!(out, "<p class=\"why\">{}</p>", escape(why))?;
    }
    if let Some(output) = &row.output {
        writeln!(out, "<p class=\"output\">Written to {}</p>", escape(output))?;
    }
    let mut facts = Vec::new();
    if !row.backends.is_empty() {
        facts.push(format!("Backends: {}", escape(&row.backends)));
    }
    if !row.usage.is_empty() {
        facts.push(format!("Usage: {}", escape(&row.usage)));
    }
    if !facts.is_empty() {
        writeln!(out, "<p class=\"output\">{}</p>", facts.join(" · "))?;
    }
    match diff {
        Some(diff) => {
            let prefix = format!("{}-", row.id());
            let input = ReportInput {
                id_prefix: &prefix,
                ..*diff
            };
            page::summary_list(&Summary::of(&input), &mut &mut *out)?;
            page::contents(&input, &mut &mut *out)?;
            page::pairs(&input, &mut &mut *out)?;
        }
        None if row.status == FileStatus::Empty => {
            writeln!(out, "<p class=\"why\">Only whitespace: nothing to do.</p>")?;
        }
        None => {}
    }
    writeln!(out, "</div>")?;
    writeln!(out, "</details>")
}

/// " · 3 ¶ · 2 changed · ✗ 1 · ⚠ 2" after a section's name and status.
fn counts_line(row: &FileRow) -> String {
    if matches!(row.status, FileStatus::Failed | FileStatus::NotStarted) && row.paragraphs == 0 {
        return String::new();
    }
    let mut parts = vec![
        format!("{} ¶", grouped(row.paragraphs as u64)),
        format!("{} changed", grouped(row.changed as u64)),
    ];
    for (marker, count) in [("✗", row.errors), ("⚠", row.warnings), ("ℹ", row.infos)] {
        if count > 0 {
            parts.push(format!("{marker} {}", grouped(count as u64)));
        }
    }
    format!(" <span class=\"counts\">· {}</span>", parts.join(" · "))
}

/// The whole HTML page: head, the run's counts, the summary table, then every section as
/// `section` writes it (the caller's, rendered earlier by [`html_section`]), in `rows` order.
pub fn html(
    head: &RunHead,
    rows: &[FileRow],
    mut section: impl FnMut(&FileRow, &mut dyn Write) -> io::Result<()>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let escape = page::escape;
    page::open_page(
        out,
        head.generator,
        head.title,
        &format!("{}{STYLE}", page::STYLE),
    )?;
    writeln!(out, "<header>")?;
    writeln!(out, "<h1>{}</h1>", escape(head.title))?;
    writeln!(
        out,
        "<p class=\"generator\">Report by {}</p>",
        escape(head.generator)
    )?;
    writeln!(out, "<dl class=\"summary\">")?;
    for (term, value) in head.facts {
        writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(value))?;
    }
    writeln!(out, "</dl>")?;
    page::legend(&mut &mut *out)?;
    writeln!(out, "</header>")?;
    writeln!(out, "<main>")?;
    writeln!(out, "<section class=\"run-files\">")?;
    writeln!(out, "<h2 id=\"files\">Files by what needs attention</h2>")?;
    writeln!(
        out,
        "<p class=\"legend\">{ORDER} Each name links to its section below.</p>"
    )?;
    writeln!(out, "<table class=\"files\">")?;
    writeln!(
        out,
        "<thead><tr><th scope=\"col\">File</th><th scope=\"col\">Status</th>\
         <th scope=\"col\" class=\"n\" title=\"paragraphs\">¶</th>\
         <th scope=\"col\" class=\"n\">Changed</th>\
         <th scope=\"col\" class=\"n\" title=\"errors\">✗</th>\
         <th scope=\"col\" class=\"n\" title=\"warnings\">⚠</th>\
         <th scope=\"col\" class=\"n\" title=\"notes\">ℹ</th>\
         <th scope=\"col\" class=\"n\">Doubts</th>\
         <th scope=\"col\">Backends</th><th scope=\"col\">Usage</th></tr></thead>"
    )?;
    writeln!(out, "<tbody>")?;
    let number = |label: &str, n: usize| {
        format!(
            "<td class=\"n\" data-label=\"{label}\">{}</td>",
            cell_count(n)
        )
    };
    for row in by_attention(rows) {
        let status = row.status;
        let why = row
            .why
            .as_deref()
            .map(|why| format!(" <span class=\"why\">{}</span>", escape(why)))
            .unwrap_or_default();
        writeln!(
            out,
            "<tr class=\"{}\"><td data-label=\"File\"><a href=\"#{}\">{}</a></td>\
             <td data-label=\"Status\"><span class=\"status {}\">{}</span>{why}</td>\
             <td class=\"n\" data-label=\"Paragraphs\">{}</td>{}{}{}{}{}\
             <td data-label=\"Backends\">{}</td><td data-label=\"Usage\">{}</td></tr>",
            status.class(),
            row.id(),
            escape(&row.name),
            status.class(),
            status.name(),
            grouped(row.paragraphs as u64),
            number("Changed", row.changed),
            number("Errors", row.errors),
            number("Warnings", row.warnings),
            number("Notes", row.infos),
            number("Doubts", row.doubts),
            escape(&row.backends),
            escape(&row.usage),
        )?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")?;
    writeln!(
        out,
        "<h2 id=\"sections\">{} in the run's order</h2>",
        plural(rows.len(), "The file", "The files")
    )?;
    for row in rows {
        section(row, out)?;
    }
    writeln!(out, "</main>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

/// Whether the sections of a run of `files` documents start open.
pub fn sections_open(files: usize) -> bool {
    files <= OPEN_UP_TO
}

/// A count in a summary table's cell: blank when zero, so that what is there stands out.
fn cell_count(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        grouped(n as u64)
    }
}

/// Text for one line of the Markdown report: escaped, its line breaks made spaces.
fn inline(text: &str) -> String {
    critic::escape(text).replace('\n', " ")
}

/// One document's section of the Markdown report: an anchor, a heading with its name and
/// status, what it was written to and its counts, then its paragraphs in CriticMarkup.
pub fn markdown_section(
    row: &FileRow,
    diff: Option<&ReportInput>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "<a id=\"{}\"></a>", row.id())?;
    writeln!(out)?;
    writeln!(
        out,
        "## {} · {}",
        inline(&row.name).replace('#', "\\#"),
        row.status.name()
    )?;
    let mut line = Vec::new();
    if let Some(why) = &row.why {
        line.push(inline(why));
    }
    if let Some(output) = &row.output {
        line.push(format!("written to {}", inline(output)));
    }
    if !row.backends.is_empty() {
        line.push(inline(&row.backends));
    }
    if !row.usage.is_empty() {
        line.push(inline(&row.usage));
    }
    if let Some(diff) = diff {
        line.push(critic::summary_line(&Summary::of(diff)));
    } else if row.status == FileStatus::Empty {
        line.push("only whitespace: nothing to do".to_owned());
    }
    if !line.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", line.join(" · "))?;
    }
    if let Some(diff) = diff {
        critic::paragraphs(diff, &mut &mut *out)?;
    }
    Ok(())
}

/// The whole Markdown report: title, the run's counts, the summary table, then every section
/// as `section` writes it (rendered earlier by [`markdown_section`]), in `rows` order.
pub fn markdown(
    head: &RunHead,
    rows: &[FileRow],
    mut section: impl FnMut(&FileRow, &mut dyn Write) -> io::Result<()>,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Inside a table cell a `|` ends the cell, and inside link text brackets end the link.
    let cell = |text: &str| inline(text).replace('|', "\\|");
    writeln!(out, "# {}", inline(head.title))?;
    writeln!(out)?;
    let facts: Vec<String> = head
        .facts
        .iter()
        .map(|(term, value)| format!("{}: {}", inline(term), inline(value)))
        .collect();
    writeln!(out, "{} · {}", inline(head.generator), facts.join(" · "))?;
    writeln!(out)?;
    writeln!(out, "## Files by what needs attention")?;
    writeln!(out)?;
    writeln!(out, "{ORDER}")?;
    writeln!(out)?;
    writeln!(
        out,
        "| File | Status | ¶ | Changed | ✗ | ⚠ | ℹ | Doubts | Backends | Usage |"
    )?;
    writeln!(
        out,
        "| --- | --- | --: | --: | --: | --: | --: | --: | --- | --- |"
    )?;
    for row in by_attention(rows) {
        let status = match &row.why {
            Some(why) => format!("{}: {}", row.status.name(), cell(why)),
            None => row.status.name().to_owned(),
        };
        writeln!(
            out,
            "| [{}](#{}) | {status} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.name).replace('[', "\\[").replace(']', "\\]"),
            row.id(),
            grouped(row.paragraphs as u64),
            cell_count(row.changed),
            cell_count(row.errors),
            cell_count(row.warnings),
            cell_count(row.infos),
            cell_count(row.doubts),
            cell(&row.backends),
            cell(&row.usage),
        )?;
    }
    for row in rows {
        section(row, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    fn row(number: usize, name: &str, status: FileStatus) -> FileRow {
        FileRow {
            number,
            name: name.to_owned(),
            output: None,
            status,
            why: None,
            paragraphs: 3,
            changed: 0,
            errors: 0,
            warnings: 0,
            infos: 0,
            doubts: 0,
            backends: String::new(),
            usage: String::new(),
        }
    }

    fn rows() -> Vec<FileRow> {
        let mut rows = vec![
            row(1, "a.txt", FileStatus::Ok),
            row(2, "b.txt", FileStatus::Flagged),
            row(3, "c|<x>.txt", FileStatus::Failed),
            row(4, "d.txt", FileStatus::NotStarted),
            row(5, "e.txt", FileStatus::Ok),
            row(6, "f.txt", FileStatus::Empty),
            row(7, "g.txt", FileStatus::Flagged),
        ];
        rows[1].warnings = 1;
        rows[1].doubts = 1;
        rows[2].why = Some("binary file <b>".to_owned());
        rows[3].why = Some("quota exceeded".to_owned());
        rows[4].changed = 2;
        rows[6].errors = 1;
        rows
    }

    /// The run's report of `rows`, HTML or Markdown, each flagged file with the fixture's
    /// report.
    fn render(rows: &[FileRow], as_markdown: bool) -> String {
        let fixture = Fixture::new();
        let input = fixture.input();
        let diff = |row: &FileRow| (row.status == FileStatus::Flagged).then_some(&input);
        let facts = [("Files".to_owned(), "7 files".to_owned())];
        let head = RunHead {
            title: "klartext fix: 7 files",
            generator: "klartext test",
            facts: &facts,
        };
        let mut out = Vec::new();
        if as_markdown {
            markdown(
                &head,
                rows,
                |row, out| markdown_section(row, diff(row), out),
                &mut out,
            )
        } else {
            html(
                &head,
                rows,
                |row, out| html_section(row, diff(row), false, out),
                &mut out,
            )
        }
        .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn rows_most_in_need_of_attention_come_first() {
        let rows = rows();
        let order: Vec<&str> = by_attention(&rows)
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "c|<x>.txt",
                "d.txt",
                "g.txt",
                "b.txt",
                "e.txt",
                "a.txt",
                "f.txt"
            ]
        );
    }

    #[test]
    fn every_link_has_its_target_and_ids_are_unique() {
        let page = render(&rows(), false);
        let ids: Vec<&str> = page
            .split(" id=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "duplicate ids");
        let links: Vec<&str> = page
            .split("href=\"#")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(
            links.contains(&"f3") && links.contains(&"f2-p1"),
            "{links:?}"
        );
        for link in links {
            assert!(ids.contains(&link), "#{link} has no target");
        }
        // Two flagged files share the fixture's report, each under its own prefix.
        assert!(page.contains("id=\"f2-p1-c1\"") && page.contains("id=\"f7-p1-c1\""));
    }

    #[test]
    fn the_page_is_inert_and_needs_no_script() {
        let page = render(&rows(), false);
        assert!(!page.contains("<script"));
        assert!(!page.contains("<b>"), "raw markup from a reason");
        assert!(page.contains("binary file &lt;b&gt;"));
        assert!(page.contains("<span class=\"status not-started\">not started</span>"));
        assert_eq!(page.matches("<details id=\"f").count(), 7);
        assert_eq!(page.matches("<tr class=").count(), 7);
        assert!(!page.contains("http://") && !page.contains("https://"));
    }

    #[test]
    fn markdown_escapes_cells_and_links_to_each_section() {
        let rows = rows();
        let text = render(&rows, true);
        assert!(
            text.contains("| [c\\|\\<x>.txt](#f3) | failed: binary file \\<b> |"),
            "{text}"
        );
        for row in &rows {
            assert!(text.contains(&format!("<a id=\"{}\"></a>", row.id())));
        }
        assert!(text.contains("{~~Clouds of words without sense.~>A clear sentence instead.~~}"));
        insta::assert_snapshot!(text);
    }
}
