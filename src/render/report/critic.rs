//! The Markdown report: the whole document once, each pair as a paragraph with its changes in
//! CriticMarkup (`{~~old~>new~~}`, `{--gone--}`, `{++added++}`) and its findings as
//! `{>>comments<<}`, so editors that understand CriticMarkup can accept or reject them. Text is
//! sanitised, and delimiters that occur in the text itself are broken with a backslash.

use std::io::{self, Write};

use super::{ReportInput, Summary, level_name, percent};
use crate::diff::{Chunk, Pair};
use crate::render::sanitize;

pub(super) fn write(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    let summary = Summary::of(input);
    writeln!(
        out,
        "# {} → {}",
        escape(input.titles.0).replace('\n', " "),
        escape(input.titles.1).replace('\n', " ")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{} · {}",
        escape(input.generator),
        summary_line(&summary)
    )?;
    paragraphs(input, out)
}

/// "3 paragraphs: … · 2 changes: … · no findings · 80% word similarity".
pub(super) fn summary_line(summary: &Summary) -> String {
    format!(
        "{} · {} · {} · {} word similarity",
        summary.paragraphs_line(),
        summary.changes_line(),
        summary.findings_line(),
        percent(summary.similarity)
    )
}

/// Every pair as a paragraph of its own, a blank line before each.
pub(super) fn paragraphs(input: &ReportInput, out: &mut impl Write) -> io::Result<()> {
    for pair in &input.diff.pairs {
        writeln!(out)?;
        let mut paragraph = marked(pair);
        for note in input.notes_of(pair) {
            let text = escape(&note.text).replace('\n', " ");
            paragraph.push_str(&format!(
                " {{>>{} {}: {text}<<}}",
                note.level.marker(),
                level_name(note.level)
            ));
        }
        writeln!(out, "{}", paragraph.trim_end_matches('\n'))?;
    }
    Ok(())
}

/// A pair as text with its changes marked; a rewritten pair is one substitution.
fn marked(pair: &Pair) -> String {
    if pair.rewritten {
        return substitution(&pair.old, &pair.new);
    }
    let mut text = String::new();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text: same } => text.push_str(&escape(same)),
            Chunk::Change { old, new, .. } => text.push_str(&substitution(old, new)),
        }
    }
    text
}

fn substitution(old: &str, new: &str) -> String {
    match (old.is_empty(), new.is_empty()) {
        (true, true) => String::new(),
        (true, false) => per_line("{++", new, "++}"),
        (false, true) => per_line("{--", old, "--}"),
        // CriticMarkup cannot span a line break, so such a change becomes a deletion and an
        // insertion, each marked line by line.
        _ if old.contains('\n') || new.contains('\n') => {
            per_line("{--", old, "--}") + &per_line("{++", new, "++}")
        }
        _ => format!("{{~~{}~>{}~~}}", escape(old), escape(new)),
    }
}

/// `open text close` for every line of `text`, line breaks kept outside the marks.
fn per_line(open: &str, text: &str, close: &str) -> String {
    text.split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{open}{}{close}", escape(line))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sanitised text in which no CriticMarkup delimiter survives: a backslash goes into each one
/// (`{\++`, `+\+}`, `~\>`), and before every `<` so no raw HTML does either. Markdown shows
/// backslash-escaped punctuation as itself; other Markdown in the text is kept as written.
pub(super) fn escape(text: &str) -> String {
    let text = sanitize(text);
    let chars: Vec<char> = text.chars().collect();
    let mut escaped = String::with_capacity(text.len());
    for (at, &c) in chars.iter().enumerate() {
        let before = at.checked_sub(1).and_then(|i| chars.get(i)).copied();
        let after = chars.get(at + 1).copied();
        let opens = before == Some('{') && matches!(c, '+' | '-' | '~' | '=' | '>');
        let closes = after == Some('}') && matches!(c, '+' | '-' | '~' | '=' | '<');
        let separates = before == Some('~') && c == '>';
        // `<` always: raw HTML from the text must not reach a Markdown renderer.
        if opens || closes || separates || c == '<' {
            escaped.push('\\');
        }
        escaped.push(c);
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
        String::from_utf8(out).expect("the report is UTF-8")
    }

    #[test]
    fn delimiters_in_the_text_are_broken() {
        for (text, shown) in [
            ("a {++ b ++} c", "a {\\++ b +\\+} c"),
            ("{--x--} {~~y~>z~~}", "{\\--x-\\-} {\\~~y~\\>z~\\~}"),
            ("{>>note<<} {==hi==}", "{\\>>note\\<\\<} {\\==hi=\\=}"),
            ("<script>", "\\<script>"),
            ("{+++}", "{\\++\\+}"),
            ("a -> b, {x}", "a -> b, {x}"),
        ] {
            assert_eq!(escape(text), shown, "{text}");
        }
        for text in ["{++", "++}", "{--", "--}", "{~~", "~>", "~~}", "{>>", "<<}"] {
            assert!(!escape(&format!("x{text}{text}x")).contains(text), "{text}");
        }
    }

    #[test]
    fn changes_become_markup() {
        assert_eq!(substitution("rot", "grün"), "{~~rot~>grün~~}");
        assert_eq!(substitution("", "neu"), "{++neu++}");
        assert_eq!(substitution("alt", ""), "{--alt--}");
        assert_eq!(substitution(" ", "\n\n"), "{-- --}\n\n");
        assert_eq!(substitution("a\nb", "c"), "{--a--}\n{--b--}{++c++}");
    }

    #[test]
    fn snapshot_markdown() {
        let fixture = Fixture::new();
        let report = render(&fixture.input());
        assert!(!report.chars().any(|c| c.is_control() && c != '\n'));
        // Apart from the comments' own `<<}`, every `<` is escaped.
        let text = report.replace("<<}", "");
        let unescaped = text
            .match_indices('<')
            .filter(|(at, _)| !text[..*at].ends_with('\\'));
        assert_eq!(unescaped.count(), 0, "raw HTML could reach a renderer");
        assert!(report.contains("{~~Clouds of words without sense.~>A clear sentence instead.~~}"));
        insta::assert_snapshot!(report);
    }
}
