//! The user's term lists (German term → English term): reading them from TOML or CSV, merging
//! several, finding which terms occur in a text (only those go into a request), and a hash of
//! the terms for cache keys. A term mapped to itself ("Copilot" = "Copilot") means "keep it".

mod read;

use std::io;
use std::path::{Path, PathBuf};

/// One glossary entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    pub de: String,
    pub en: String,
}

impl Term {
    pub fn new(de: impl Into<String>, en: impl Into<String>) -> Term {
        Term {
            de: de.into(),
            en: en.into(),
        }
    }

    /// The term stays as written (a name that must not be translated).
    pub fn keeps(&self) -> bool {
        self.de == self.en
    }
}

/// Terms in file order, each German term once, plus the files they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glossary {
    terms: Vec<Term>,
    sources: Vec<PathBuf>,
}

/// Word endings a German noun takes in genitive, plural or dative ("des Kopilots", "die
/// Kopiloten"): a term followed by one of these still counts as a hit.
const INFLECTIONS: [&str; 5] = ["s", "es", "n", "en", "e"];

impl Glossary {
    /// Read a `.toml` glossary (a `[terms]` table of `"German" = "English"`) or a `.csv` one
    /// (two columns, German and English; optional `de,en` header; `#` comment lines; `;` as the
    /// separator when the first row has no comma, as spreadsheets write it in German locales).
    /// Empty terms and a German term mapped to two different English ones are errors.
    pub fn load(path: &Path) -> Result<Glossary, GlossaryError> {
        Ok(Glossary {
            terms: read::terms(path)?,
            sources: vec![path.into()],
        })
    }

    /// A glossary from terms given in code or flags. Terms are trimmed; a term with an empty
    /// side is dropped (it would match everywhere or say nothing); later duplicates win.
    pub fn from_terms(terms: Vec<Term>) -> Glossary {
        let mut glossary = Glossary::default();
        for term in terms {
            let term = Term::new(term.de.trim(), term.en.trim());
            if !term.de.is_empty() && !term.en.is_empty() {
                glossary.insert(term);
            }
        }
        glossary
    }

    /// Both glossaries; on the same German term, `other`'s English wins.
    pub fn merge(mut self, other: Glossary) -> Glossary {
        for term in other.terms {
            self.insert(term);
        }
        self.sources.extend(other.sources);
        self
    }

    fn insert(&mut self, term: Term) {
        match self.terms.iter_mut().find(|t| t.de == term.de) {
            Some(existing) => existing.en = term.en,
            None => self.terms.push(term),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The files the terms were read from, in merge order.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// The terms whose German form occurs in `text`, ordered by first occurrence (a longer term
    /// first when two start at the same place), each once. A hit starts and ends at a word
    /// boundary (hyphens count, so "KI" hits "KI-Chips" but "Rand" misses "Randbereich"), may
    /// differ in the case of its first letter ("der Rand" for "Der Rand"), may carry a German
    /// noun ending ("Kopiloten" for "Kopilot"), and may break a multi-word term across any
    /// whitespace, line breaks included.
    pub fn hits(&self, text: &str) -> Vec<&Term> {
        let mut found: Vec<(usize, &Term)> = self
            .terms
            .iter()
            .filter_map(|term| first_hit(text, &term.de).map(|at| (at, term)))
            .collect();
        found.sort_by_key(|(at, term)| (*at, std::cmp::Reverse(term.de.len())));
        found.into_iter().map(|(_, term)| term).collect()
    }

    /// First 16 hex digits of a blake3 hash of the sorted terms; file names and order do not
    /// matter, so only a change to the terms invalidates cached results.
    pub fn hash(&self) -> String {
        let mut terms: Vec<&Term> = self.terms.iter().collect();
        terms.sort_by(|a, b| (&a.de, &a.en).cmp(&(&b.de, &b.en)));
        let mut hasher = blake3::Hasher::new();
        for side in terms.iter().flat_map(|term| [&term.de, &term.en]) {
            // Length-prefixed, so no two different term lists hash the same bytes.
            hasher.update(&(side.len() as u64).to_le_bytes());
            hasher.update(side.as_bytes());
        }
        hasher.finalize().to_hex()[..16].to_owned()
    }
}

/// Where `term` first occurs in `text` as [`Glossary::hits`] finds terms (word boundaries, the
/// case of the first letter, a German noun ending, any whitespace between words): the byte
/// offset of its start. For terms that are not in a glossary, such as the ones a model reports.
pub fn find(text: &str, term: &str) -> Option<usize> {
    first_hit(text, term.trim())
}

/// Byte offset of the first hit of `term` in `text`.
fn first_hit(text: &str, term: &str) -> Option<usize> {
    let mut words = term.split_whitespace();
    let first = words.next()?;
    let rest: Vec<&str> = words.collect();
    let flipped = flip_first_case(first);
    let variants = std::iter::once(first).chain(flipped.as_deref());
    variants
        .filter_map(|head| {
            text.match_indices(head)
                .find(|(at, _)| matches_at(text, *at, head, &rest))
                .map(|(at, _)| at)
        })
        .min()
}

/// Whether the term whose first word is `head` (found at `at`) and whose other words are
/// `rest` matches there, with word boundaries on both sides.
fn matches_at(text: &str, at: usize, head: &str, rest: &[&str]) -> bool {
    let starts_word = head.chars().next().is_some_and(is_word_char);
    if starts_word && text[..at].chars().next_back().is_some_and(is_word_char) {
        return false;
    }
    let mut end = at + head.len();
    let mut last_word = head;
    for word in rest {
        let after = &text[end..];
        let gap = after.len() - after.trim_start().len();
        if gap == 0 || !after[gap..].starts_with(word) {
            return false;
        }
        end += gap + word.len();
        last_word = word;
    }
    let tail = &text[end..];
    if !last_word.chars().next_back().is_some_and(is_word_char) {
        return true;
    }
    let ends_word = |rest: &str| !rest.chars().next().is_some_and(is_word_char);
    ends_word(tail)
        || (last_word
            .chars()
            .next_back()
            .is_some_and(char::is_alphabetic)
            && INFLECTIONS
                .iter()
                .any(|ending| tail.strip_prefix(ending).is_some_and(ends_word)))
}

/// `word` with the case of its first letter swapped, if that changes anything.
fn flip_first_case(word: &str) -> Option<String> {
    let mut chars = word.chars();
    let first = chars.next()?;
    let flipped: String = if first.is_uppercase() {
        first.to_lowercase().collect()
    } else if first.is_lowercase() {
        first.to_uppercase().collect()
    } else {
        return None;
    };
    Some(flipped + chars.as_str())
}

/// Letters, digits and combining accents (text in decomposed form) belong to a word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)
}

#[derive(Debug, thiserror::Error)]
pub enum GlossaryError {
    #[error("cannot read glossary {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("glossary {}: line {line} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf, line: usize },
    #[error("glossary {}{}: {message}", path.display(), at_line(*line))]
    Parse {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("glossary {}: unknown format (expected a .toml or .csv file)", path.display())]
    UnknownFormat { path: PathBuf },
}

impl GlossaryError {
    /// A next step for the user, printed under the error.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Read { .. } => "check the glossary path and that the file is readable",
            Self::NotUtf8 { .. } => {
                "save the file as UTF-8 (in Excel or LibreOffice: \"CSV UTF-8\" or character set \
                 \"Unicode (UTF-8)\")"
            }
            Self::Parse { path, .. } if is_csv(path) => {
                "write one term per line as German,English; quote a term that contains a comma; \
                 lines starting with # are comments"
            }
            Self::Parse { .. } => {
                "write the terms under a [terms] table, one per line: \"Kopilot\" = \"Copilot\""
            }
            Self::UnknownFormat { .. } => {
                "use a .toml file with a [terms] table or a .csv file with two columns, German and \
                 English"
            }
        };
        Some(hint.to_owned())
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map_or_else(String::new, |line| format!(", line {line}"))
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

#[cfg(test)]
mod tests;
