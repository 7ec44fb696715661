//! The LLM segment protocol: the JSON a request carries (consecutive segments of one document
//! with read-only context and glossary hits), the JSON Schema of the reply for providers with
//! structured output, and the validation every reply goes through before anything is kept:
//! same ids in the same order, nothing empty, English (when English is asked for), not an echo
//! of the German, no model commentary. A reply that fails is reported with all its problems so
//! the caller can split the batch and retry.

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::Lang;
use crate::glossary::Term;
use crate::segment::SegmentKind;
use crate::verify::{commentary_with_source, is_echo, residue};

/// What a segment is in its document, as the segmenter found it, so the model need not guess
/// from the text whether a short line is a heading or a fragment. Plain text knows only
/// paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Heading,
    ListItem,
    TableCell,
    Quote,
    Paragraph,
}

impl From<SegmentKind> for Role {
    fn from(kind: SegmentKind) -> Role {
        match kind {
            SegmentKind::Heading { .. } => Role::Heading,
            SegmentKind::ListItem => Role::ListItem,
            SegmentKind::TableCell => Role::TableCell,
            SegmentKind::Quote => Role::Quote,
            SegmentKind::Paragraph => Role::Paragraph,
        }
    }
}

impl Role {
    fn is_paragraph(&self) -> bool {
        *self == Role::Paragraph
    }

    /// The name on the wire (`list-item`), also part of a chat pass's cache key.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Heading => "heading",
            Role::ListItem => "list-item",
            Role::TableCell => "table-cell",
            Role::Quote => "quote",
            Role::Paragraph => "paragraph",
        }
    }
}

/// One segment of a request.
#[derive(Debug, Clone, Serialize)]
pub struct Item<'a> {
    pub id: &'a str,
    /// Left out for a paragraph, the usual role (every segment of plain text), to save tokens.
    #[serde(skip_serializing_if = "Role::is_paragraph")]
    pub role: Role,
    pub de: &'a str,
    /// A draft translation to post-edit, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<&'a str>,
    /// The refine round: the earlier answer and what verify found wrong in it.
    #[serde(flatten)]
    pub revision: Option<&'a Revision>,
}

/// A segment sent back for correction: `previous`, the answer it got (masked like the
/// segment), and `problems`, what verify found wrong in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub previous: String,
    pub problems: Vec<Flagged>,
}

/// One of verify's error-level findings, as a refine request marks it: the kind of error, what
/// is wrong, the words of the earlier answer at fault (`span`) and the German they come from
/// (`de`), where verify can point at them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flagged {
    pub check: String,
    pub rule: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de: Option<String>,
}

/// A glossary entry that occurs in the request's segments.
#[derive(Debug, Clone, Serialize)]
pub struct GlossaryTerm<'a> {
    pub de: &'a str,
    pub en: &'a str,
}

/// Everything the last user message of a request carries.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub items: &'a [Item<'a>],
    pub context_before: &'a str,
    pub context_after: &'a str,
    pub glossary: &'a [GlossaryTerm<'a>],
}

/// The wire shape of [`Request`]; field order is the documented key order.
#[derive(Serialize)]
struct RequestBody<'a> {
    segments: &'a [Item<'a>],
    // Left out when empty: a small document sent whole has neither context nor glossary, and
    // every token of framing is paid in every request.
    #[serde(skip_serializing_if = "str::is_empty")]
    context_before: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    context_after: &'a str,
    #[serde(skip_serializing_if = "<[GlossaryTerm]>::is_empty")]
    glossary: &'a [GlossaryTerm<'a>],
}

/// The request as one compact JSON object:
/// `{"segments":[{"id","role"? (absent for a paragraph),"de","draft"?}],"context_before"?,"context_after"?,"glossary"?:[{"de","en"}]}`
/// (the last three absent when empty);
/// a segment of the refine round adds `"previous"` and `"problems":[{"check","rule","message",
/// "span"?,"de"?}]`.
pub fn user_message(req: &Request) -> String {
    let body = RequestBody {
        segments: req.items,
        context_before: req.context_before,
        context_after: req.context_after,
        glossary: req.glossary,
    };
    serde_json::to_string(&body).expect("structs of strings always serialize")
}

/// JSON Schema of the reply, usable as OpenAI strict structured output (root object, every
/// object has `additionalProperties: false` and lists all its properties in `required`), as
/// Ollama's `format`, and (converted by the Gemini client) as Gemini's `responseSchema`.
/// `required` lists the properties in the order the model should write them (Gemini follows
/// it): id, text, literal, notes.
pub fn reply_schema(target: Lang, with_literal: bool) -> Value {
    let field = target.code();
    let text_description = match target {
        Lang::En => {
            "The segment in English, as a professional English writer would have written it."
        }
        Lang::De => "The segment in corrected German.",
    };
    let mut properties = Map::new();
    let mut required = vec!["id", field];
    properties.insert(
        "id".into(),
        json!({"type": "string", "description": "The id of the request segment, unchanged."}),
    );
    properties.insert(
        field.into(),
        json!({"type": "string", "description": text_description}),
    );
    if with_literal {
        properties.insert(
            "literal".into(),
            json!({
                "type": "string",
                "description": "A close, literal English rendering of the German segment."
            }),
        );
        required.push("literal");
    }
    properties.insert(
        "notes".into(),
        json!({
            "type": "array",
            "items": {"type": "string"},
            "description": "Remarks for the reviewer, never part of the text; empty when there are none."
        }),
    );
    required.push("notes");
    json!({
        "type": "object",
        "properties": {
            "segments": {
                "type": "array",
                "description": "One entry per request segment, in the same order.",
                "items": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false
                }
            }
        },
        "required": ["segments"],
        "additionalProperties": false
    })
}

/// `schema` (a [`reply_schema`]) with the restore pass's `terms`: the names the model restored,
/// so later batches of the document get them as glossary entries. Strict structured output
/// requires every property, so the schema lists `terms` as required (an empty list is always
/// valid); [`parse_reply`] does not require it, and [`reply_terms`] reads it when it is there.
pub fn with_terms(mut schema: Value) -> Value {
    let term = json!({
        "type": "object",
        "properties": {
            "de": {"type": "string", "description": "The name as it stands in the German."},
            "en": {"type": "string", "description": "The name as written in the English."}
        },
        "required": ["de", "en"],
        "additionalProperties": false
    });
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "terms".into(),
            json!({
                "type": "array",
                "description": "Names restored in these segments that must read the same in the rest of the document; empty when there are none.",
                "items": term
            }),
        );
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.push(json!("terms"));
    }
    schema
}

/// Longest `de` or `en` of a reported term kept; longer ones are not names.
const TERM_CHARS: usize = 80;
/// Most terms kept from one reply.
const MAX_TERMS: usize = 50;

/// The names a reply says it restored (`"terms": [{"de", "en"}]`), read leniently: they are
/// advice, so a reply without them, or with a malformed list, simply has none. Kept: both sides
/// non-empty, short, free of `⟦` markers, and an English side with a capital letter or a digit
/// — a name, never an ordinary word, since these are imposed on the rest of the document. The
/// first entry for a German form wins.
pub fn reply_terms(text: &str) -> Vec<Term> {
    let Ok(json) = unwrap_reply(text) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let Some(list) = value.get("terms").and_then(Value::as_array) else {
        return Vec::new();
    };
    let side = |entry: &Value, key: &str| -> Option<String> {
        let text = entry.get(key)?.as_str()?.trim();
        let fits = !text.is_empty() && text.chars().count() <= TERM_CHARS && !text.contains('⟦');
        fits.then(|| text.to_owned())
    };
    let mut terms: Vec<Term> = Vec::new();
    for entry in list {
        let (Some(de), Some(en)) = (side(entry, "de"), side(entry, "en")) else {
            continue;
        };
        let name = en.chars().any(|c| c.is_uppercase() || c.is_ascii_digit());
        if name && !terms.iter().any(|t| t.de == de) {
            terms.push(Term::new(de, en));
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

/// One validated segment of a reply. `text` is the `en` or `de` field, whichever the target
/// asked for; `literal` is `Some` exactly when a literal rendering was requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplySegment {
    pub id: String,
    pub text: String,
    pub literal: Option<String>,
    pub notes: Vec<String>,
}

/// What is wrong with a reply. (Not `Eq`: `residue` is a float.)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// Not JSON, or not the JSON shape of the protocol.
    NotJson {
        detail: String,
    },
    Missing {
        id: String,
    },
    Extra {
        id: String,
    },
    OutOfOrder,
    Empty {
        id: String,
    },
    MissingLiteral {
        id: String,
    },
    NotEnglish {
        id: String,
        residue: f32,
    },
    Echo {
        id: String,
    },
    Commentary {
        id: String,
        found: String,
    },
}

impl Problem {
    /// The segment the problem is about; `None` for problems of the whole reply.
    pub fn segment_id(&self) -> Option<&str> {
        match self {
            Problem::NotJson { .. } | Problem::OutOfOrder => None,
            Problem::Missing { id }
            | Problem::Extra { id }
            | Problem::Empty { id }
            | Problem::MissingLiteral { id }
            | Problem::NotEnglish { id, .. }
            | Problem::Echo { id }
            | Problem::Commentary { id, .. } => Some(id),
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            Problem::NotJson { detail } => {
                format!("the reply is not valid protocol JSON: {detail}")
            }
            Problem::Missing { id } => format!("segment {id} is missing from the reply"),
            Problem::Extra { id } => format!("the reply has segment {id}, which was not asked for"),
            Problem::OutOfOrder => "the reply's segments are out of order".to_owned(),
            Problem::Empty { id } => format!("segment {id} came back empty"),
            Problem::MissingLiteral { id } => format!("segment {id} has no literal rendering"),
            Problem::NotEnglish { id, residue } => format!(
                "segment {id} is not English ({:.0} % German function words)",
                residue * 100.0
            ),
            Problem::Echo { id } => format!("segment {id} repeats the German source"),
            Problem::Commentary { id, found } => {
                format!("segment {id} contains model commentary ({found})")
            }
        }
    }
}

/// What a reply must contain: the ids sent, in order, with the German source of each.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub target: Lang,
    pub ids: &'a [&'a str],
    /// The German source per id, parallel to `ids`.
    pub sources: &'a [&'a str],
    pub with_literal: bool,
}

/// Parses and validates one reply text; returns every problem found, not just the first.
/// Tolerated around the JSON: whitespace, a Markdown code fence, and a leading
/// `<think>…</think>` block of a reasoning model (or only its closing tag, when the chat
/// template opened it). Anything else around or inside the text is a problem.
pub fn parse_reply(text: &str, expect: &Expect) -> Result<Vec<ReplySegment>, Vec<Problem>> {
    let all = 0..expect.ids.len();
    parse_parts(text, expect, &[all])
        .pop()
        .unwrap_or_else(|| Err(Vec::new()))
}

/// [`parse_reply`] for a request whose segments come in parts (the documents of a pack): each
/// part is validated on its own, exactly as a request of its segments alone, so one part's
/// faults do not cost the others. A fault of the whole reply (not JSON, a segment id nobody
/// asked for) is every part's.
pub fn parse_parts(
    text: &str,
    expect: &Expect,
    parts: &[Range<usize>],
) -> Vec<Result<Vec<ReplySegment>, Vec<Problem>>> {
    let everywhere = |problems: Vec<Problem>| parts.iter().map(|_| Err(problems.clone())).collect();
    let not_json = |detail: String| vec![Problem::NotJson { detail }];
    let json = match unwrap_reply(text) {
        Ok(json) => json,
        Err(e) => return everywhere(not_json(e)),
    };
    let value: Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => return everywhere(not_json(e.to_string())),
    };
    let segments = match read_segments(&value, expect) {
        Ok(segments) => segments,
        Err(problems) => return everywhere(problems),
    };
    let known: HashSet<&str> = expect.ids.iter().copied().collect();
    parts
        .iter()
        .map(|part| {
            let part = part.start.min(expect.ids.len())..part.end.min(expect.ids.len());
            let ids = &expect.ids[part.clone()];
            let mine: HashSet<&str> = ids.iter().copied().collect();
            // Its own segments, and those nobody asked for (extra in every part).
            let segments: Vec<ReplySegment> = segments
                .iter()
                .filter(|s| mine.contains(s.id.as_str()) || !known.contains(s.id.as_str()))
                .cloned()
                .collect();
            let mut problems = check_ids(&segments, ids);
            let sources: HashMap<&str, &str> = ids
                .iter()
                .zip(part.clone())
                .map(|(id, i)| (*id, expect.sources.get(i).copied().unwrap_or_default()))
                .collect();
            let mut checked = HashSet::new();
            for segment in &segments {
                let id = segment.id.as_str();
                // Repeated segments were reported already; their content does not matter.
                if let Some(source) = sources.get(id)
                    && checked.insert(id)
                {
                    check_segment(segment, source, expect, &mut problems);
                }
            }
            if problems.is_empty() {
                Ok(segments)
            } else {
                Err(problems)
            }
        })
        .collect()
}

/// The JSON text inside a reply: without whitespace, reasoning block and code fence.
fn unwrap_reply(text: &str) -> Result<&str, String> {
    const CLOSE: &str = "</think>";
    let mut rest = text.trim_start_matches('\u{feff}').trim();
    while let Some(after) = rest.strip_prefix("<think>") {
        let Some(end) = after.find(CLOSE) else {
            return Err("the reply is only reasoning: <think> is never closed".to_owned());
        };
        rest = after[end + CLOSE.len()..].trim();
    }
    if let Some(end) = rest.find(CLOSE)
        && !rest[..end].contains('{')
    {
        rest = rest[end + CLOSE.len()..].trim();
    }
    if let Some(fenced) = rest.strip_prefix("```") {
        // The opening fence line may carry a language tag (```json).
        let body = match fenced.split_once('\n') {
            Some((_, body)) => body,
            None => fenced.trim_start_matches(|c: char| c.is_ascii_alphabetic()),
        };
        let body = body.trim_end();
        rest = body.strip_suffix("```").unwrap_or(body).trim();
    }
    if rest.is_empty() {
        return Err("the reply is empty".to_owned());
    }
    Ok(rest)
}

/// The reply's segments in reply order, or the ways the JSON misses the protocol's shape.
fn read_segments(value: &Value, expect: &Expect) -> Result<Vec<ReplySegment>, Vec<Problem>> {
    let shape = |detail: String| Problem::NotJson { detail };
    let Some(list) = value.get("segments").and_then(Value::as_array) else {
        let found = match value {
            Value::Object(_) => "an object without a \"segments\" array",
            Value::Array(_) => "an array",
            _ => "a scalar",
        };
        return Err(vec![shape(format!(
            "expected an object with a \"segments\" array, found {found}"
        ))]);
    };
    let field = expect.target.code();
    let mut segments = Vec::with_capacity(list.len());
    let mut problems = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let Some(object) = entry.as_object() else {
            problems.push(shape(format!("segments[{i}] is not an object")));
            continue;
        };
        // Ids are strings on the wire; a model may drop the quotes around a numeric one.
        let id = match object.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                problems.push(shape(format!("segments[{i}] has no string \"id\"")));
                continue;
            }
        };
        let text = match object.get(field) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(_) => {
                problems.push(shape(format!("segment {id}: \"{field}\" is not a string")));
                continue;
            }
        };
        let literal = match object.get("literal") {
            Some(Value::String(literal)) if expect.with_literal => Some(literal.clone()),
            _ => None,
        };
        segments.push(ReplySegment {
            id,
            text,
            literal,
            notes: read_notes(object.get("notes")),
        });
    }
    if problems.is_empty() {
        Ok(segments)
    } else {
        Err(problems)
    }
}

/// Notes are remarks, not content: accept a list, a single string or nothing, and keep
/// anything else as its JSON text rather than drop it.
fn read_notes(value: Option<&Value>) -> Vec<String> {
    let note = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(note).collect(),
        Some(other) => vec![note(other)],
    }
}

fn check_ids(segments: &[ReplySegment], ids: &[&str]) -> Vec<Problem> {
    let expected: HashSet<&str> = ids.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut extra = Vec::new();
    for segment in segments {
        let id = segment.id.as_str();
        if expected.contains(id) && seen.insert(id) {
            order.push(id);
        } else {
            extra.push(Problem::Extra { id: id.to_owned() });
        }
    }
    let mut problems: Vec<Problem> = ids
        .iter()
        .filter(|id| !seen.contains(*id))
        .map(|id| Problem::Missing {
            id: (*id).to_owned(),
        })
        .collect();
    problems.append(&mut extra);
    let present: Vec<&str> = ids.iter().copied().filter(|id| seen.contains(id)).collect();
    if present != order {
        problems.push(Problem::OutOfOrder);
    }
    problems
}

fn check_segment(segment: &ReplySegment, source: &str, expect: &Expect, out: &mut Vec<Problem>) {
    let id = || segment.id.clone();
    let text = segment.text.as_str();
    if text.trim().is_empty() {
        out.push(Problem::Empty { id: id() });
    } else {
        if let Some(found) = commentary_with_source(source, text) {
            out.push(Problem::Commentary {
                id: id(),
                found: found.to_owned(),
            });
        }
        if expect.target == Lang::En {
            let residue = residue(text);
            if residue.is_german() {
                out.push(Problem::NotEnglish {
                    id: id(),
                    residue: residue.ratio(),
                });
            }
            if is_echo(source, text) {
                out.push(Problem::Echo { id: id() });
            }
        }
    }
    let has_literal = segment
        .literal
        .as_deref()
        .is_some_and(|l| !l.trim().is_empty());
    if expect.with_literal && !has_literal {
        out.push(Problem::MissingLiteral { id: id() });
    }
}

/// A rough token count for budgeting batches, not a tokenizer: about one token per 3.5
/// characters of German or English prose, at least 1 for non-empty text. Real counts differ
/// by model and run higher for digits, code and rare words; keep budgets well below limits.
pub fn estimate_tokens(text: &str) -> u32 {
    let chars = text.chars().count() as u64;
    u32::try_from((chars * 2).div_ceil(7)).unwrap_or(u32::MAX)
}
