//! Reading a translation memory: any TMX 1.4b file, German (`de`, `de-DE`, …) against English
//! (`en`, `en-GB`, …). A segment's text is all its character data, inline elements included:
//! the content of `<ph>`, `<bpt>`, `<ept>`, `<it>` and `<ut>` is the original code (a span of
//! klartext's own export, markup of another tool's), so the text comes out as the document
//! had it. Only as much XML as TMX needs: elements, attributes, character and entity
//! references, CDATA, comments, processing instructions and the doctype (skipped).

use std::collections::HashMap;

use super::protected_spans;

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
            // Also as klartext would have repaired it, for a memory of unrepaired German.
            let repaired = key(&crate::repair::repair(&german, &protected_spans(&german)).text);
            if plain.is_empty() {
                continue;
            }
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
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut units = Vec::new();
    let mut state = State::default();
    let mut at = 0;
    let fail = |at: usize, message: &str| TmxError {
        line: xml[..at].matches('\n').count() + 1,
        message: message.to_owned(),
    };
    while at < xml.len() {
        let rest = &xml[at..];
        if !rest.starts_with('<') {
            let end = rest.find('<').unwrap_or(rest.len());
            if let Some((seg, _)) = &mut state.seg {
                seg.push_str(&decode(&rest[..end]).map_err(|m| fail(at, &m))?);
            }
            at += end;
            continue;
        }
        let skip = |open: &str, close: &str| -> Result<Option<usize>, TmxError> {
            if !rest.starts_with(open) {
                return Ok(None);
            }
            rest.find(close)
                .map(|end| Some(end + close.len()))
                .ok_or_else(|| fail(at, &format!("{open} is never closed")))
        };
        if let Some(len) = skip("<!--", "-->")? {
            at += len;
        } else if let Some(len) = skip("<?", "?>")? {
            at += len;
        } else if rest.starts_with("<![CDATA[") {
            let len = skip("<![CDATA[", "]]>")?.unwrap_or_default();
            if let Some((seg, _)) = &mut state.seg {
                seg.push_str(&rest["<![CDATA[".len()..len - "]]>".len()].replace("\r\n", "\n"));
            }
            at += len;
        } else if rest.starts_with("<!") {
            at += doctype_len(rest).ok_or_else(|| fail(at, "the doctype is never closed"))?;
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after
                .find('>')
                .ok_or_else(|| fail(at, "a tag is never closed"))?;
            end_tag(after[..end].trim(), &mut state, &mut units);
            at += 2 + end + 1;
        } else {
            let end = tag_len(rest).ok_or_else(|| fail(at, "a tag is never closed"))?;
            let inner = &rest[1..end - 1];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(inner) => (inner, true),
                None => (inner, false),
            };
            let name_end = inner
                .find(|c: char| c.is_whitespace())
                .unwrap_or(inner.len());
            let name = &inner[..name_end];
            let attrs = attributes(&inner[name_end..]).map_err(|m| fail(at, &m))?;
            if !state.root {
                if name != "tmx" {
                    return Err(fail(at, "not a TMX document (its root is not <tmx>)"));
                }
                state.root = true;
            }
            start_tag(name, &attrs, &mut state);
            if empty {
                end_tag(name, &mut state, &mut units);
            }
            at += end;
        }
    }
    if !state.root {
        return Err(fail(at, "not a TMX document (no <tmx> element)"));
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

/// The length of the tag `rest` starts with, up to its `>` (none inside quotes).
fn tag_len(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The length of `<!DOCTYPE …>`, its internal subset included.
fn doctype_len(rest: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// `name="value"` pairs, values decoded.
fn attributes(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let eq = s.find('=').ok_or("an attribute has no value")?;
        let name = s[..eq].trim().to_owned();
        let value = s[eq + 1..].trim_start();
        let quote = value
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''))
            .ok_or("an attribute value is not quoted")?;
        let end = value[1..]
            .find(quote)
            .ok_or("an attribute value is never closed")?;
        out.push((name, decode(&value[1..1 + end])?));
        s = &value[1 + end + 1..];
    }
}

/// Character data with its references decoded and its line breaks as a parser reads them.
fn decode(s: &str) -> Result<String, String> {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').ok_or("a '&' starts no reference")?;
        let name = &after[..semi];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    return Err(format!("unknown entity &{name};"));
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("bad character reference &{name};"))?
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
