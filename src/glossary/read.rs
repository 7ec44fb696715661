//! Reading a glossary file: TOML or CSV into checked terms, with the line of every problem.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::{GlossaryError, Term};

/// The checked terms of a `.toml` or `.csv` file, in file order.
pub(super) fn terms(path: &Path) -> Result<Vec<Term>, GlossaryError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let parse: fn(&str) -> Result<Vec<Entry>, Failure> = match extension.as_deref() {
        Some("toml") => parse_toml,
        Some("csv") => parse_csv,
        _ => return Err(GlossaryError::UnknownFormat { path: path.into() }),
    };
    let bytes = fs::read(path).map_err(|source| GlossaryError::Read {
        path: path.into(),
        source,
    })?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(err) => {
            let line = bytes[..err.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            return Err(GlossaryError::NotUtf8 {
                path: path.into(),
                line,
            });
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let fail = |failure: Failure| GlossaryError::Parse {
        path: path.into(),
        line: failure.line,
        message: failure.message,
    };
    check(parse(text).map_err(fail)?).map_err(fail)
}

/// A term as read, with where it was read from.
struct Entry {
    term: Term,
    line: Option<usize>,
}

struct Failure {
    line: Option<usize>,
    message: String,
}

/// Trim, reject empty sides and conflicting duplicates; identical duplicates collapse.
fn check(entries: Vec<Entry>) -> Result<Vec<Term>, Failure> {
    let mut terms: Vec<Term> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, (usize, Option<usize>)> = HashMap::new();
    for Entry { term, line } in entries {
        let term = Term::new(term.de.trim(), term.en.trim());
        let side = if term.de.is_empty() {
            Some("German")
        } else if term.en.is_empty() {
            Some("English")
        } else {
            None
        };
        if let Some(side) = side {
            let message = format!("the {side} term is empty ({:?} = {:?})", term.de, term.en);
            return Err(Failure { line, message });
        }
        if let Some(&(index, first_line)) = seen.get(&term.de) {
            let earlier: &Term = &terms[index];
            if earlier.en == term.en {
                continue;
            }
            let place = first_line.map_or_else(String::new, |l| format!(" on line {l}"));
            let message = format!(
                "{:?} is mapped to {:?} here but to {:?}{place}",
                term.de, term.en, earlier.en
            );
            return Err(Failure { line, message });
        }
        seen.insert(term.de.clone(), (terms.len(), line));
        terms.push(term);
    }
    Ok(terms)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    terms: std::collections::BTreeMap<String, toml::Spanned<String>>,
}

fn parse_toml(text: &str) -> Result<Vec<Entry>, Failure> {
    let file: TomlFile = toml::from_str(text).map_err(|err| Failure {
        line: err.span().map(|span| line_of(text, span.start)),
        // Only toml's message: its rendered snippet would repeat the line in a second format.
        message: err.message().trim_end().to_owned(),
    })?;
    let mut entries: Vec<(usize, Entry)> = file
        .terms
        .into_iter()
        .map(|(de, en)| {
            let at = en.span().start;
            let term = Term::new(de, en.into_inner());
            let line = Some(line_of(text, at));
            (at, Entry { term, line })
        })
        .collect();
    // The table comes back sorted by key; keep the file's order instead.
    entries.sort_by_key(|(at, _)| *at);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

fn parse_csv(text: &str) -> Result<Vec<Entry>, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .delimiter(csv_delimiter(text))
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    let mut first_row = true;
    for record in reader.records() {
        let record = record.map_err(|err| Failure {
            line: err.position().map(|p| p.line() as usize),
            message: err.to_string(),
        })?;
        let line = record.position().map(|p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let is_header = first_row
            && record.len() == 2
            && record[0].eq_ignore_ascii_case("de")
            && record[1].eq_ignore_ascii_case("en");
        first_row = false;
        if is_header {
            continue;
        }
        if record.len() != 2 {
            let message = format!(
                "expected 2 columns (German, English), found {}",
                record.len()
            );
            return Err(Failure { line, message });
        }
        let term = Term::new(unquote(&record[0]), unquote(&record[1]));
        entries.push(Entry { term, line });
    }
    Ok(entries)
}

/// A field written `de, "en"` reaches us as `"en"`: CSV only honours quotes right after the
/// separator, but people put a space there when they write a glossary by hand.
fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_owned(),
    }
}

/// `;` (or a tab) when the first row has no comma but does have one of those.
fn csv_delimiter(text: &str) -> u8 {
    let first_row = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .unwrap_or("");
    if first_row.contains(',') {
        b','
    } else if first_row.contains(';') {
        b';'
    } else if first_row.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
