//! Reading a translation memory: any TMX 1.4b file, German (`de`, `de-DE`, …) against English
//! (`en`, `en-GB`, …). A segment's text is all its character data, inline elements included:
//! the content of `<ph>`, `<bpt>`, `<ept>`, `<it>` and `<ut>` is the original code (a span of
//! klartext's own export, markup of another tool's), so the text comes out as the document
//! had it. The XML itself is read by `crate::xml` (quick-xml).

use std::collections::HashMap;

use super::protected_spans;
use crate::xml::Event;

/// German paragraphs and their English, looked up after klartext's own normalisation.
#[derive(Debug, Default, Clone)]
pub struct Memory {
    /// By the German's key ([`key`]); the first memory that has a German wins.
    entries: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct TmxError {
    pub line: usize,
    pub message: String,
}

impl Memory {
    /// The English of `german` (a repaired segment), if the memory has it.
    pub fn get(&self, german: &str) -> Option<&str> {
        self.entries.get(&key(german)).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds the German–English units of the TMX document `xml`; how many it had. Entries
    /// already known keep their English.
    pub fn add_tmx(&mut self, xml: &str) -> Result<usize, TmxError> {
        let units = parse(xml)?;
        let count = units.len();
        for (german, english) in units {
            let plain = key(&german);
            if plain.is_empty() {
                continue;
            }
            // Also as klartext would have repaired it, for a memory of unrepaired German.
            let repaired = key(&crate::repair::repair(&german, &protected_spans(&german)).text);
            if repaired != plain {
                self.entries
                    .entry(repaired)
                    .or_insert_with(|| english.clone());
            }
            self.entries.entry(plain).or_insert(english);
        }
        Ok(count)
    }
}

/// The German as memories are keyed: whitespace runs as one space, none at the ends.
fn key(german: &str) -> String {
    german.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the parser is in.
#[derive(Default)]
struct State {
    root: bool,
    /// Inside `<tu>`: its variants so far, (language, text).
    tu: Option<Vec<(String, String)>>,
    /// Inside `<tuv>`: its language.
    lang: Option<String>,
    /// Inside `<seg>`: the text so far, and the depth of elements within it.
    seg: Option<(String, usize)>,
}

/// The (German, English) pairs of a TMX document.
fn parse(xml: &str) -> Result<Vec<(String, String)>, TmxError> {
    let events = crate::xml::events(xml).map_err(|e| TmxError {
        line: e.line,
        message: e.message,
    })?;
    let mut units = Vec::new();
    let mut state = State::default();
    for event in events {
        match event {
            Event::Start {
                name, attrs, line, ..
            } => {
                if !state.root {
                    if name != "tmx" {
                        return Err(TmxError {
                            line,
                            message: "not a TMX document (its root is not <tmx>)".to_owned(),
                        });
                    }
                    state.root = true;
                }
                start_tag(&name, &attrs, &mut state);
            }
            Event::End { name } => end_tag(&name, &mut state, &mut units),
            Event::Text(text) => {
                if let Some((seg, _)) = &mut state.seg {
                    seg.push_str(&text);
                }
            }
        }
    }
    if !state.root {
        return Err(TmxError {
            line: xml.matches('\n').count() + 1,
            message: "not a TMX document (no <tmx> element)".to_owned(),
        });
    }
    Ok(units)
}

fn start_tag(name: &str, attrs: &[(String, String)], state: &mut State) {
    if let Some((_, depth)) = &mut state.seg {
        *depth += 1;
        return;
    }
    match name {
        "tu" => state.tu = Some(Vec::new()),
        "tuv" => {
            state.lang = attrs
                .iter()
                .find(|(k, _)| k == "xml:lang" || k == "lang")
                .map(|(_, v)| v.clone());
        }
        "seg" if state.lang.is_some() => state.seg = Some((String::new(), 0)),
        _ => {}
    }
}

fn end_tag(name: &str, state: &mut State, units: &mut Vec<(String, String)>) {
    if let Some((_, depth)) = &mut state.seg
        && *depth > 0
    {
        *depth -= 1;
        return;
    }
    match name {
        "seg" => {
            if let (Some((text, _)), Some(lang), Some(tu)) =
                (state.seg.take(), &state.lang, &mut state.tu)
            {
                tu.push((lang.clone(), text));
            }
        }
        "tuv" => state.lang = None,
        "tu" => {
            let Some(tu) = state.tu.take() else { return };
            let of = |lang: &str| {
                tu.iter()
                    .find(|(l, _)| is_lang(l, lang))
                    .map(|(_, text)| text.clone())
            };
            if let (Some(german), Some(english)) = (of("de"), of("en")) {
                units.push((german, english));
            }
        }
        _ => {}
    }
}

/// `tag` (`de`, `DE-at`, `de_CH`) is the language `lang`.
fn is_lang(tag: &str, lang: &str) -> bool {
    let tag = tag.to_ascii_lowercase();
    tag == lang || tag.starts_with(&format!("{lang}-")) || tag.starts_with(&format!("{lang}_"))
}
