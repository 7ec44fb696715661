//! The LLM prompt templates: the built-in `prompts/*.md` (embedded at build time), a user's
//! override of the same file name, filling their `{{placeholders}}`, and the content hash that
//! goes into the cache key. HTML comments in a template document it and are never sent.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The `{{literal_rule}}` of `restore.md`: whether the restore call also returns the literal
/// rendering (it does when no separate draft pass ran, so a diff always has two sides), and
/// then how literal it is — the same answers `literal.md` gives a draft pass, so both kinds of
/// draft read alike. Validation rejects a reply that lacks it when asked.
pub fn literal_rule(wanted: bool) -> &'static str {
    if wanted {
        "Also return `literal` for every segment: the German as closely as English grammar \
         allows, errors kept, nothing repaired (odd idioms, senses and fragments stay); a name \
         that is a German word is translated as that word (\"Der Rand\" = \"The Edge\"), any \
         other name is copied as spelled (\"Openai\"); numbers in English notation with the \
         German's value and scale word (\"1,4 Billionen\" = \"1.4 trillion\")."
    } else {
        "Do not return `literal`."
    }
}

/// One prompt template; the name is also its file name without `.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptName {
    /// System prompt of the restore pass: German machine translation → the English original.
    Restore,
    /// System prompt of an LLM used as the literal draft pass.
    Literal,
    /// System prompt of the German-only mode: correct the German itself.
    PolishDe,
    /// Appended to the pass's own prompt for the refine round: correct the segments verify
    /// flagged.
    Refine,
}

impl PromptName {
    pub const ALL: [PromptName; 4] = [Self::Restore, Self::Literal, Self::PolishDe, Self::Refine];

    /// The name users see and type (`restore`, `literal`, `polish-de`, `refine`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restore => "restore",
            Self::Literal => "literal",
            Self::PolishDe => "polish-de",
            Self::Refine => "refine",
        }
    }

    /// The template's file name, built in and in the user's prompt folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Restore => "restore.md",
            Self::Literal => "literal.md",
            Self::PolishDe => "polish-de.md",
            Self::Refine => "refine.md",
        }
    }

    fn builtin_template(self) -> &'static str {
        match self {
            Self::Restore => {
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/restore.md"))
            }
            Self::Literal => {
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/literal.md"))
            }
            Self::PolishDe => {
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/polish-de.md"))
            }
            Self::Refine => include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/refine.md")),
        }
    }
}

impl fmt::Display for PromptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptSource {
    Builtin,
    /// A file in the user's prompt folder that overrides the built-in template.
    User(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub name: PromptName,
    /// The template exactly as stored (placeholders and comments included).
    pub template: String,
    pub source: PromptSource,
}

impl Prompt {
    /// The template compiled into klartext.
    pub fn builtin(name: PromptName) -> Prompt {
        Prompt {
            name,
            template: name.builtin_template().to_owned(),
            source: PromptSource::Builtin,
        }
    }

    /// The user's `user_dir/<file name>` if it exists, else the built-in template. A missing
    /// folder or file is not an error; an unreadable one is, so a broken override never goes
    /// unnoticed.
    pub fn load(name: PromptName, user_dir: Option<&Path>) -> Result<Prompt, PromptError> {
        let Some(dir) = user_dir else {
            return Ok(Self::builtin(name));
        };
        let path = dir.join(name.file_name());
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Self::builtin(name)),
            Err(source) => return Err(PromptError::Read { path, source }),
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(PromptError::NotUtf8 { path });
        };
        // Editors on Windows like to start UTF-8 files with a byte-order mark.
        let template = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
        Ok(Prompt {
            name,
            template,
            source: PromptSource::User(path),
        })
    }

    /// The prompt to send: every `{{key}}` replaced by its value, HTML comments removed, outer
    /// whitespace trimmed. A placeholder without a value, or a value whose placeholder does not
    /// occur, is an error: an override that lost a placeholder would otherwise silently drop an
    /// instruction. Values are inserted as they are and never scanned for placeholders.
    pub fn fill(&self, vars: &[(&str, &str)]) -> Result<String, PromptError> {
        let pieces = parse(&self.template).map_err(|message| self.placeholder_error(message))?;
        let mut used = vec![false; vars.len()];
        let mut out = String::with_capacity(self.template.len());
        for piece in pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var { name, offset } => {
                    let Some(index) = vars.iter().position(|(key, _)| *key == name) else {
                        let line = line_of(&self.template, offset);
                        return Err(self.placeholder_error(format!(
                            "unknown placeholder {{{{{name}}}}} on line {line}"
                        )));
                    };
                    used[index] = true;
                    out.push_str(vars[index].1);
                }
            }
        }
        if let Some(((key, _), _)) = vars.iter().zip(&used).find(|(_, used)| !**used) {
            return Err(self.placeholder_error(format!(
                "placeholder {{{{{key}}}}} is missing from the template"
            )));
        }
        Ok(out.trim().to_owned())
    }

    /// The placeholder names the template uses, in order of first use (comments ignored).
    pub fn placeholders(&self) -> Result<Vec<String>, PromptError> {
        let pieces = parse(&self.template).map_err(|message| self.placeholder_error(message))?;
        Ok(placeholder_names(&pieces))
    }

    /// First 16 hex digits of the blake3 hash of the template: part of every cache key, so
    /// editing a prompt re-runs what it affects.
    pub fn hash(&self) -> String {
        blake3::hash(self.template.as_bytes()).to_hex()[..16].to_owned()
    }

    fn placeholder_error(&self, message: String) -> PromptError {
        PromptError::Placeholder {
            name: self.name,
            origin: self.source.clone(),
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("prompt {} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    /// The template's placeholders do not match the values klartext fills in, or a `{{` or
    /// `<!--` is not closed.
    #[error("{}: {message}", origin_label(*name, origin))]
    Placeholder {
        name: PromptName,
        origin: PromptSource,
        message: String,
    },
}

impl PromptError {
    /// A next step for the user, printed under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Read { .. } => Some(
                "make the file readable, or move it out of the prompts folder to use the \
                 built-in prompt"
                    .to_owned(),
            ),
            Self::NotUtf8 { .. } => Some("save the file as UTF-8".to_owned()),
            Self::Placeholder {
                name,
                origin: PromptSource::User(path),
                ..
            } => {
                let expected = parse(name.builtin_template())
                    .map(|pieces| placeholder_names(&pieces))
                    .unwrap_or_default();
                let expected = if expected.is_empty() {
                    "none".to_owned()
                } else {
                    let names: Vec<String> =
                        expected.iter().map(|n| format!("{{{{{n}}}}}")).collect();
                    names.join(", ")
                };
                Some(format!(
                    "an override must use exactly the placeholders of the built-in {} ({expected}); \
                     remove {} to use the built-in prompt",
                    name.file_name(),
                    path.display()
                ))
            }
            Self::Placeholder {
                origin: PromptSource::Builtin,
                ..
            } => Some("this is a bug in klartext; please report it".to_owned()),
        }
    }
}

fn origin_label(name: PromptName, origin: &PromptSource) -> String {
    match origin {
        PromptSource::Builtin => format!("built-in prompt {}", name.file_name()),
        PromptSource::User(path) => format!("prompt {}", path.display()),
    }
}

/// A template cut into literal text and placeholders, comments already left out.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    /// `offset` is the byte offset of `{{` in the template, for line numbers in errors.
    Var {
        name: &'a str,
        offset: usize,
    },
}

/// Split a template into pieces. A comment that is alone on its line(s) takes the line break
/// with it, so a header comment leaves no blank line behind.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut pos = 0;
    loop {
        let comment = template[pos..].find("<!--").map(|i| pos + i);
        let var = template[pos..].find("{{").map(|i| pos + i);
        let start = match (comment, var) {
            (None, None) => break,
            (Some(c), Some(v)) => c.min(v),
            (Some(c), None) => c,
            (None, Some(v)) => v,
        };
        if Some(start) == comment {
            let Some(close) = template[start + 4..].find("-->") else {
                let line = line_of(template, start);
                return Err(format!(
                    "the comment opened on line {line} is never closed (-->)"
                ));
            };
            let end = start + 4 + close + 3;
            let (cut_start, cut_end) = whole_lines(template, start, end);
            pieces.push(Piece::Text(&template[pos..cut_start.max(pos)]));
            pos = cut_end;
        } else {
            let after = start + 2;
            let name = template[after..]
                .find("}}")
                .map(|close| template[after..after + close].trim())
                .filter(|name| is_placeholder_name(name));
            let Some(name) = name else {
                let line = line_of(template, start);
                return Err(format!(
                    "`{{{{` on line {line} does not start a placeholder (write {{{{name}}}})"
                ));
            };
            let close = after + template[after..].find("}}").expect("found just above");
            pieces.push(Piece::Text(&template[pos..start]));
            pieces.push(Piece::Var {
                name,
                offset: start,
            });
            pos = close + 2;
        }
    }
    pieces.push(Piece::Text(&template[pos..]));
    pieces.retain(|piece| *piece != Piece::Text(""));
    Ok(pieces)
}

/// Widen `start..end` to whole lines (line break included) when only whitespace shares them.
fn whole_lines(text: &str, start: usize, end: usize) -> (usize, usize) {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    if text[line_start..start].trim().is_empty() && text[end..line_end].trim().is_empty() {
        (line_start, line_end)
    } else {
        (start, end)
    }
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn placeholder_names(pieces: &[Piece<'_>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for piece in pieces {
        if let Piece::Var { name, .. } = piece
            && !names.iter().any(|n| n == name)
        {
            names.push((*name).to_owned());
        }
    }
    names
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESTORE_VARS: [(&str, &str); 2] = [
        ("english_variant", "American English"),
        ("literal_rule", "Do not return `literal`."),
    ];

    fn vars_for(name: PromptName, literal: bool) -> Vec<(&'static str, &'static str)> {
        match name {
            PromptName::Restore => vec![
                ("english_variant", "British English"),
                ("literal_rule", literal_rule(literal)),
            ],
            PromptName::Literal => vec![("english_variant", "British English")],
            PromptName::PolishDe | PromptName::Refine => vec![],
        }
    }

    fn override_dir(name: PromptName, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(name.file_name()), text).expect("write override");
        dir
    }

    #[test]
    fn builtins_fill_without_leftovers() {
        for name in PromptName::ALL {
            let prompt = Prompt::load(name, None).expect("built-in loads");
            assert_eq!(prompt.source, PromptSource::Builtin);
            for literal in [true, false] {
                let text = prompt
                    .fill(&vars_for(name, literal))
                    .expect("built-in fills");
                assert!(
                    !text.contains("{{") && !text.contains("}}"),
                    "{name}: {text}"
                );
                assert!(!text.contains("<!--") && !text.contains("-->"), "{name}");
                assert!(
                    text.starts_with("# Task"),
                    "{name}: comment leaves no blank line"
                );
                assert!(
                    text.contains("\"segments\""),
                    "{name} names the reply shape"
                );
            }
        }
    }

    #[test]
    fn restore_names_the_defect_classes_and_the_literal_rule() {
        let prompt = Prompt::builtin(PromptName::Restore);
        let with = prompt
            .fill(&vars_for(PromptName::Restore, true))
            .expect("fills");
        let without = prompt
            .fill(&vars_for(PromptName::Restore, false))
            .expect("fills");
        assert!(with.contains("Also return `literal`"));
        assert!(without.contains("Do not return `literal`."));
        // The template is wrapped at 100 columns; compare phrases across line breaks.
        let with = with.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in [
            "Milliarde = billion",
            "Billion = trillion",
            "Billiarde",
            "$200 million",
            "on the back foot",
            "\"als\"",
            "Copilot",
            "The Verge",
            "word sense",
            "compounds",
            "Headings fused",
            "word order",
            "invent a \"restored\" quote",
            "never invent content",
            "data, not instructions",
            "same `id`, in the same order",
            "British English",
            // The questions a model found unclear, each answered once.
            "`role`: `heading`; `list-item` or `table-cell`",
            "In the context, `⟦…⟧` (no number)",
            "Also return `literal` for every segment",
            "a name that is a German word is translated as that word",
            "every segment has it",
            "write \"…\" at the gap",
            "A segment that breaks off, even mid-word",
            "sentence case",
            "curly quotation marks",
            "`terms`: each name you restored",
        ] {
            assert!(with.contains(needle), "restore prompt lacks {needle:?}");
        }
        let words = prompt.template.split_whitespace().count();
        assert!(words < 1150, "restore prompt has {words} words");
    }

    #[test]
    fn every_prompt_explains_roles_and_the_context_placeholder() {
        // The refine prompt is an addendum to the restore prompt, which explains these.
        for name in PromptName::ALL
            .into_iter()
            .filter(|n| *n != PromptName::Refine)
        {
            let text = Prompt::builtin(name)
                .fill(&vars_for(name, false))
                .expect("fills");
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for needle in ["`role`", "`list-item`", "`⟦…⟧` (no number)", "breaks off"] {
                assert!(text.contains(needle), "{name} lacks {needle:?}");
            }
        }
    }

    #[test]
    fn polish_de_replies_in_de() {
        let text = Prompt::builtin(PromptName::PolishDe)
            .fill(&[])
            .expect("fills");
        assert!(text.contains(r#""de": "…""#));
        assert!(!text.contains(r#""en":"#));
    }

    #[test]
    fn override_wins_and_changes_the_hash() {
        let builtin = Prompt::builtin(PromptName::Literal);
        let dir = override_dir(
            PromptName::Literal,
            "\u{feff}<!-- mine -->\nTranslate into {{english_variant}}, plainly.\n",
        );
        let user = Prompt::load(PromptName::Literal, Some(dir.path())).expect("override loads");
        assert_eq!(
            user.source,
            PromptSource::User(dir.path().join("literal.md"))
        );
        assert_ne!(user.hash(), builtin.hash());
        assert_eq!(user.hash().len(), 16);
        assert_eq!(
            user.fill(&[("english_variant", "British English")])
                .expect("fills"),
            "Translate into British English, plainly."
        );
        // Other prompts in the same folder stay built in.
        let restore = Prompt::load(PromptName::Restore, Some(dir.path())).expect("loads");
        assert_eq!(restore.source, PromptSource::Builtin);
    }

    #[test]
    fn missing_folder_means_builtin() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope");
        let prompt = Prompt::load(PromptName::Restore, Some(&missing)).expect("loads");
        assert_eq!(prompt.source, PromptSource::Builtin);
        assert_eq!(prompt.hash(), Prompt::builtin(PromptName::Restore).hash());
    }

    #[test]
    fn unreadable_and_non_utf8_overrides_are_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("restore.md")).expect("dir in the way");
        let err = Prompt::load(PromptName::Restore, Some(dir.path())).unwrap_err();
        assert!(matches!(err, PromptError::Read { .. }), "{err:?}");
        assert!(err.hint().is_some());

        fs::write(
            dir.path().join("literal.md"),
            b"Gr\xfc\xdfe {{english_variant}}",
        )
        .expect("write");
        let err = Prompt::load(PromptName::Literal, Some(dir.path())).unwrap_err();
        assert!(matches!(err, PromptError::NotUtf8 { .. }), "{err:?}");
        assert!(err.to_string().contains("literal.md"));
    }

    #[test]
    fn override_missing_a_placeholder_names_the_file() {
        // The header comment still mentions the placeholder, but only the body counts.
        let dir = override_dir(
            PromptName::Restore,
            "<!-- {{english_variant}} {{literal_rule}} -->\nRestore into {{english_variant}}.\n",
        );
        let prompt = Prompt::load(PromptName::Restore, Some(dir.path())).expect("loads");
        let err = prompt.fill(&RESTORE_VARS).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&dir.path().join("restore.md").display().to_string()));
        assert!(message.contains("{{literal_rule}} is missing"), "{message}");
        let hint = err.hint().expect("hint");
        assert!(
            hint.contains("{{english_variant}}, {{literal_rule}}"),
            "{hint}"
        );
    }

    #[test]
    fn unknown_placeholder_is_an_error_with_its_line() {
        let prompt = Prompt {
            name: PromptName::Literal,
            template: "Line one.\nUse {{ english_variant }} and {{tone}}.\n".to_owned(),
            source: PromptSource::Builtin,
        };
        let err = prompt
            .fill(&[("english_variant", "American English")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "built-in prompt literal.md: unknown placeholder {{tone}} on line 2"
        );
    }

    #[test]
    fn stray_braces_and_open_comments_are_errors() {
        for template in ["JSON like {{\"a\": 1}} confuses", "text <!-- never closed"] {
            let prompt = Prompt {
                name: PromptName::PolishDe,
                template: template.to_owned(),
                source: PromptSource::Builtin,
            };
            assert!(prompt.fill(&[]).is_err(), "{template}");
        }
    }

    #[test]
    fn comments_are_stripped_and_values_not_rescanned() {
        let prompt = Prompt {
            name: PromptName::Literal,
            template:
                "<!-- a\nmulti-line\nheader -->\nA <!-- inline -->B\n  <!-- own line -->\nC {{x}}\n"
                    .to_owned(),
            source: PromptSource::Builtin,
        };
        assert_eq!(
            prompt.fill(&[("x", "{{y}}")]).expect("fills"),
            "A B\nC {{y}}"
        );
        assert_eq!(prompt.placeholders().expect("parses"), ["x"]);
    }

    #[test]
    fn names_serialize_kebab_case() {
        let names = serde_json::to_string(&PromptName::ALL).expect("serializes");
        assert_eq!(names, r#"["restore","literal","polish-de","refine"]"#);
        for name in PromptName::ALL {
            assert_eq!(name.file_name(), format!("{name}.md"));
        }
    }

    #[test]
    fn snapshot_filled_restore_prompt() {
        let text = Prompt::builtin(PromptName::Restore)
            .fill(&[
                ("english_variant", "American English"),
                ("literal_rule", literal_rule(true)),
            ])
            .expect("fills");
        insta::assert_snapshot!("restore_filled", text);
    }
}
