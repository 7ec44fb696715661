//! What `fix` leaves beside each output it translates, so that the output can be reviewed later
//! (`.klartext/NAME.json`), and the reviewer's decisions (`.klartext/NAME.review.json`). Both
//! are plain, schema-versioned JSON, read and written (atomically) here.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Lang;
use crate::files::{self, Decoded, FileError, LineEnding, TextEncoding};
use crate::repair::RepairMark;
use crate::segment::{SegmentId, content_hash};
use crate::verify::{self, Check, Finding, Severity};

pub const RECORD_SCHEMA: &str = "klartext.record/1";
pub const DECISIONS_SCHEMA: &str = "klartext.decisions/1";
/// The folder beside an output that holds its record and decisions.
pub const FOLDER: &str = ".klartext";
const DECISIONS_SUFFIX: &str = ".review.json";

/// Everything needed to review an output and write it again with the reviewer's decisions:
/// each paragraph's German, the text a rejection restores and the text `fix` wrote, plus the
/// document's text between paragraphs (headings' `#`, blank lines, code) copied unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub schema: String,
    /// The input as given to `fix`.
    pub input: String,
    /// The output's file name, in the folder that holds `.klartext`.
    pub output: String,
    pub encoding: TextEncoding,
    pub line_ending: LineEnding,
    /// Titles of the two sides, such as `draft · deepl` and `final · openai`.
    pub titles: (String, String),
    /// `en` (restored English) or `de` (corrected German).
    pub to: String,
    /// `blocks[i]` comes before paragraph `i`; the last block follows the last paragraph.
    pub blocks: Vec<String>,
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paragraph {
    /// The segment id (`s3`).
    pub id: SegmentId,
    /// The German as read.
    pub german: String,
    /// The German as it was sent, after the offline repairs; absent when they changed nothing
    /// (and in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired: Option<String>,
    /// Where the repairs wrote in `repaired`, to mark them there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<RepairMark>,
    /// Byte ranges of the protected spans (inline code, URLs, link targets) in the German as
    /// sent ([`Paragraph::sent`]): an XLIFF report carries them as inline codes. Absent in
    /// records written before they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected: Vec<Range<usize>>,
    /// What rejecting the correction keeps: the literal draft (or, for German output, the
    /// German as read). Absent when there was no draft: then it can only be accepted or edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The corrected text, as `fix` wrote it.
    pub new: String,
    /// The model's notes as it gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Verify's warnings and errors, and the model's notes as verify judged them (doubts are
    /// warnings): what the review shows with the paragraph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingNote>,
}

impl Paragraph {
    /// Verify warned about it, or the model doubted it (judged from its notes for records
    /// written before notes became findings).
    pub fn is_flagged(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity >= Severity::Warning)
            || self.notes.iter().any(|n| crate::verify::is_doubt(n))
    }
}

/// One of verify's findings, as shown with the paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingNote {
    pub severity: Severity,
    pub message: String,
    /// The check's id (`quantity`, `model`); absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

impl From<&Finding> for FindingNote {
    fn from(finding: &Finding) -> Self {
        Self {
            severity: finding.severity,
            message: finding.message.clone(),
            check: Some(finding.check.id().to_owned()),
        }
    }
}

impl FindingNote {
    /// One of the language model's notes rather than a check of verify's own.
    pub fn is_model(&self) -> bool {
        self.check.as_deref() == Some(Check::Model.id())
    }
}

impl Paragraph {
    /// What a decision was made on: the German, the rejected and the accepted text. A decision
    /// saved under another key no longer applies (the paragraph was translated anew).
    pub fn key(&self) -> String {
        let old = self.old.as_deref().unwrap_or("\u{0}none");
        content_hash(&format!("{}\u{0}{old}\u{0}{}", self.german, self.new))
    }

    /// The German the model saw: repaired, where the repairs changed something.
    pub fn sent(&self) -> &str {
        self.repaired.as_deref().unwrap_or(&self.german)
    }

    /// The text a rejection keeps.
    pub fn rejected(&self) -> &str {
        self.old.as_deref().unwrap_or(&self.new)
    }

    /// The findings to show with the paragraph. A record written before the model's notes were
    /// judged has them as plain notes only: they are judged now, the way `fix` judges them.
    pub fn findings_shown(&self) -> Vec<FindingNote> {
        let mut shown = self.findings.clone();
        if !shown.iter().any(FindingNote::is_model) {
            shown.extend(
                verify::model_notes(self.id, &self.notes)
                    .iter()
                    .map(FindingNote::from),
            );
        }
        shown
    }
}

/// Why a record cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("is a {found} file, not a review record ({RECORD_SCHEMA})")]
    Schema { found: String },
    #[error("is damaged: {blocks} blocks around {paragraphs} paragraphs")]
    Shape { blocks: usize, paragraphs: usize },
}

/// Why a record or decisions file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a {what} file: {source}", path.display())]
    NotJson {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot create {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] FileError),
}

impl Record {
    /// The record of a translated document, before it is written (`output` is named then):
    /// its paragraphs in order and `blocks`, the text around them (one more than paragraphs).
    pub fn new(
        input: &str,
        decoded: &Decoded,
        titles: (String, String),
        to: Lang,
        blocks: Vec<String>,
        paragraphs: Vec<Paragraph>,
    ) -> Self {
        Self {
            schema: RECORD_SCHEMA.to_owned(),
            input: input.to_owned(),
            output: String::new(),
            encoding: decoded.encoding,
            line_ending: decoded.line_ending,
            titles,
            to: to.to_string(),
            blocks,
            paragraphs,
        }
    }

    /// The record at `path` (missing is an error: a record is read because it was found).
    pub fn read(path: &Path) -> Result<Self, SidecarError> {
        read_sidecar(path, "review record")?.ok_or_else(|| SidecarError::Read {
            path: path.to_owned(),
            source: io::ErrorKind::NotFound.into(),
        })
    }

    /// Save it beside the output it describes (`.klartext/NAME.json`).
    pub fn save(&self, output: &Path) -> Result<(), SidecarError> {
        write_sidecar(&Self::path_for(output), self)
    }

    /// Where the record of `output` lives.
    pub fn path_for(output: &Path) -> PathBuf {
        sidecar(output, ".json")
    }

    /// Where the decisions about `output` are saved.
    pub fn decisions_path_for(output: &Path) -> PathBuf {
        sidecar(output, DECISIONS_SUFFIX)
    }

    /// Whether `path` names a saved-decisions file rather than a record.
    pub fn is_decisions_file(path: &Path) -> bool {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(DECISIONS_SUFFIX))
    }

    /// The output a record at `record_path` describes.
    pub fn output_path(&self, record_path: &Path) -> PathBuf {
        let folder = record_path.parent().and_then(Path::parent);
        folder.unwrap_or(Path::new(".")).join(&self.output)
    }

    pub fn check(&self) -> Result<(), RecordError> {
        if self.schema != RECORD_SCHEMA {
            return Err(RecordError::Schema {
                found: self.schema.clone(),
            });
        }
        if self.blocks.len() != self.paragraphs.len() + 1 {
            return Err(RecordError::Shape {
                blocks: self.blocks.len(),
                paragraphs: self.paragraphs.len(),
            });
        }
        Ok(())
    }

    /// The document with `texts[i]` as paragraph `i` (missing texts: what `fix` wrote).
    pub fn rebuild<S: AsRef<str>>(&self, texts: &[S]) -> String {
        let mut out = String::new();
        for (i, block) in self.blocks.iter().enumerate() {
            out.push_str(block);
            if let Some(paragraph) = self.paragraphs.get(i) {
                out.push_str(texts.get(i).map_or(paragraph.new.as_str(), AsRef::as_ref));
            }
        }
        out
    }

    /// The document as `fix` wrote it.
    pub fn as_written(&self) -> String {
        self.rebuild::<&str>(&[])
    }
}

/// A record or decisions file; `None` when it does not exist.
fn read_sidecar<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<Option<T>, SidecarError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SidecarError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| SidecarError::NotJson {
            path: path.to_owned(),
            what,
            source,
        })
}

/// Write a record or decisions file atomically, creating the `.klartext` folder.
fn write_sidecar(path: &Path, value: &impl Serialize) -> Result<(), SidecarError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|source| SidecarError::Folder {
            path: folder.to_owned(),
            source,
        })?;
    }
    files::write_atomic_with(path, |w| {
        serde_json::to_writer_pretty(w, value).map_err(io::Error::other)
    })?;
    Ok(())
}

fn sidecar(output: &Path, suffix: &str) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    let folder = output.parent().unwrap_or(Path::new(""));
    folder.join(FOLDER).join(name)
}

/// The decisions about one output. Written by `review` after every decision; `--apply` reads
/// the same shape (where `key` may be left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    pub schema: String,
    /// The output's file name.
    pub output: String,
    #[serde(default)]
    pub paragraphs: Vec<Saved>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The paragraph's id (`s3`).
    pub id: SegmentId,
    /// [`Paragraph::key`] when the decision was made; without it, the decision applies to the
    /// paragraph with this id whatever its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What the reviewer made of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Verdict {
    #[default]
    Pending,
    /// Keep the correction.
    Accept,
    /// Keep the draft (or the German as read).
    Reject,
    /// The reviewer's own text.
    Edit { text: String },
    /// One choice per change, in order.
    Changes { changes: Vec<Choice> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    Pending,
    Accept,
    Reject,
}

impl Decisions {
    /// The decisions saved about `output`, or `None` when there are none.
    pub fn read(output: &Path) -> Result<Option<Self>, SidecarError> {
        Self::read_file(&Record::decisions_path_for(output))
    }

    /// A decisions file (the saved ones, or one given to `--apply`); `None` when it does not
    /// exist.
    pub fn read_file(path: &Path) -> Result<Option<Self>, SidecarError> {
        read_sidecar(path, "decisions")
    }

    /// Save them beside `output` (`.klartext/NAME.review.json`).
    pub fn save(&self, output: &Path) -> Result<(), SidecarError> {
        write_sidecar(&Record::decisions_path_for(output), self)
    }

    pub fn new(output: &str) -> Self {
        Self {
            schema: DECISIONS_SCHEMA.to_owned(),
            output: output.to_owned(),
            paragraphs: Vec::new(),
        }
    }

    /// The saved verdict for `paragraph`, if one applies to its current text.
    pub fn verdict_for(&self, paragraph: &Paragraph) -> Option<&Verdict> {
        let key = paragraph.key();
        self.paragraphs
            .iter()
            .rev()
            .find(|s| s.id == paragraph.id && s.key.as_ref().is_none_or(|k| *k == key))
            .map(|s| &s.verdict)
    }

    /// Saved decisions that no longer match their paragraph (it was translated anew).
    pub fn stale(&self, record: &Record) -> usize {
        self.paragraphs
            .iter()
            .filter(|s| {
                !record
                    .paragraphs
                    .iter()
                    .any(|p| p.id == s.id && s.key.as_ref().is_none_or(|k| *k == p.key()))
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record() -> Record {
        Record {
            schema: RECORD_SCHEMA.to_owned(),
            input: "a.de.md".to_owned(),
            output: "a.en.md".to_owned(),
            encoding: TextEncoding::Utf8 { bom: false },
            line_ending: LineEnding::Lf,
            titles: ("draft".to_owned(), "final".to_owned()),
            to: "en".to_owned(),
            blocks: vec!["# ".into(), "\n\n".into(), "\n".into()],
            paragraphs: vec![
                Paragraph {
                    id: SegmentId(0),
                    german: "Titel".into(),
                    repaired: None,
                    repairs: vec![],
                    protected: vec![],
                    old: Some("Title".into()),
                    new: "Title".into(),
                    notes: vec![],
                    findings: vec![],
                },
                Paragraph {
                    id: SegmentId(1),
                    german: "Er war am hinteren Fuß.".into(),
                    repaired: None,
                    repairs: vec![],
                    protected: vec![],
                    old: Some("He was on the rear foot.".into()),
                    new: "He was on the back foot.".into(),
                    notes: vec![],
                    findings: vec![],
                },
            ],
        }
    }

    #[test]
    fn rebuild_puts_blocks_around_paragraphs() {
        let record = record();
        assert!(record.check().is_ok());
        assert_eq!(record.as_written(), "# Title\n\nHe was on the back foot.\n");
        assert_eq!(record.rebuild(&["Title", "Mine."]), "# Title\n\nMine.\n");
    }

    #[test]
    fn damaged_and_foreign_records_are_refused() {
        let mut record = record();
        record.blocks.pop();
        assert!(matches!(record.check(), Err(RecordError::Shape { .. })));
        record.schema = "klartext.fix/2".into();
        assert!(matches!(record.check(), Err(RecordError::Schema { .. })));
    }

    #[test]
    fn sidecars_sit_in_the_klartext_folder() {
        let output = Path::new("out/sub/a.en.md");
        assert_eq!(
            Record::path_for(output),
            Path::new("out/sub/.klartext/a.en.md.json")
        );
        let decisions = Record::decisions_path_for(output);
        assert_eq!(
            decisions,
            Path::new("out/sub/.klartext/a.en.md.review.json")
        );
        assert!(Record::is_decisions_file(&decisions));
        assert_eq!(
            record().output_path(&Record::path_for(output)),
            Path::new("out/sub/a.en.md")
        );
    }

    #[test]
    fn decisions_apply_only_to_the_text_they_were_made_on() {
        let record = record();
        let mut decisions = Decisions::new("a.en.md");
        decisions.paragraphs.push(Saved {
            id: SegmentId(1),
            key: Some(record.paragraphs[1].key()),
            verdict: Verdict::Reject,
        });
        assert_eq!(
            decisions.verdict_for(&record.paragraphs[1]),
            Some(&Verdict::Reject)
        );
        let mut retranslated = record.clone();
        retranslated.paragraphs[1].new = "He was under pressure.".into();
        assert_eq!(decisions.verdict_for(&retranslated.paragraphs[1]), None);
        assert_eq!(decisions.stale(&retranslated), 1);
        // Without a key (written by hand for --apply), the id is enough.
        decisions.paragraphs[0].key = None;
        assert_eq!(
            decisions.verdict_for(&retranslated.paragraphs[1]),
            Some(&Verdict::Reject)
        );
    }

    #[test]
    fn verdicts_read_and_write_as_tagged_json() {
        let saved = Saved {
            id: SegmentId(2),
            key: None,
            verdict: Verdict::Changes {
                changes: vec![Choice::Accept, Choice::Reject],
            },
        };
        let json = serde_json::to_string(&saved).expect("serialises");
        assert_eq!(
            json,
            r#"{"id":"s2","decision":"changes","changes":["accept","reject"]}"#
        );
        let edit: Saved =
            serde_json::from_str(r#"{"id":"s0","decision":"edit","text":"Hi."}"#).expect("parses");
        assert_eq!(edit.verdict, Verdict::Edit { text: "Hi.".into() });
    }
}
