//! The one per-document path, the same for a single file and for every file of a folder:
//! read → segment and repair → (offline) verify the German, or (`--dry-run`) plan the
//! requests, or (API passes) draft, restore and verify → the result text and what `review`
//! needs later. Small documents of a run go through it as a pack (`process_pack`, see `pack`):
//! their API passes share requests, everything else is each document's own. Nothing here
//! writes or prints: the caller decides where a result goes.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::engine::Engine;
use super::plan::PassPlan;
use super::translated::{FailureKind, SegmentResult, Translated};
use crate::config::Lang;
use crate::files::{self, Decoded, FileError};
use crate::repair::{RepairedDocument, repair_document};
use crate::review::record::{FindingNote, Paragraph, Record};
use crate::segment::Format;
use crate::verify::{self, Check, Finding, Severity};

/// One input of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub origin: Origin,
    /// Below the folder it was found in (mirrored under an output folder); the file name for
    /// a file given by itself.
    pub relative: PathBuf,
}

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Stdin,
}

impl Input {
    pub fn file(path: PathBuf, relative: PathBuf) -> Self {
        Self {
            origin: Origin::File(path),
            relative,
        }
    }

    pub fn stdin() -> Self {
        Self {
            origin: Origin::Stdin,
            relative: PathBuf::from("stdin"),
        }
    }

    /// The path, for a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(path) => Some(path),
            Origin::Stdin => None,
        }
    }

    /// As messages and reports name it.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::File(path) => path.display().to_string(),
            Origin::Stdin => "stdin".to_owned(),
        }
    }

    /// Markdown or plain text, by the file name (stdin is plain text).
    pub fn format(&self) -> Format {
        self.path().map_or(Format::Plain, Format::from_path)
    }
}

/// How a document is processed; the same for every document of a run.
#[derive(Clone)]
pub struct Processing {
    /// The API passes; `None` repairs the German only.
    pub engine: Option<Arc<Engine>>,
    /// Plan the requests instead of sending them.
    pub dry_run: bool,
    /// The output language of the API passes.
    pub to: Lang,
}

/// What one document became.
#[derive(Debug)]
pub struct Outcome {
    pub decoded: Decoded,
    pub repaired: RepairedDocument,
    pub work: Work,
}

/// What was done beyond the repairs.
#[derive(Debug)]
pub enum Work {
    /// Only whitespace: nothing to do.
    Empty,
    /// Offline: verify's warnings about the German (without the "repairable offline" notes:
    /// those repairs were just made).
    Repaired { findings: Vec<Finding> },
    /// `--dry-run`: what would be sent, and verify's warnings about the German (what the run
    /// would report before any English exists).
    Planned {
        plans: Vec<PassPlan>,
        findings: Vec<Finding>,
    },
    /// Through the API passes. `record` (what `review` needs) when every segment finished.
    Translated {
        translated: Translated,
        record: Option<Box<Record>>,
    },
}

impl Outcome {
    /// The finished text: the repaired German offline, the translation when every segment
    /// finished; `None` when there is nothing to write.
    pub fn text(&self) -> Option<String> {
        match &self.work {
            Work::Empty | Work::Planned { .. } => None,
            Work::Repaired { .. } => Some(self.repaired.text.clone()),
            Work::Translated { translated, .. } => {
                translated.document(&self.repaired, &self.decoded.text)
            }
        }
    }

    /// Every finding, in segment order.
    pub fn findings(&self) -> Vec<&Finding> {
        match &self.work {
            Work::Repaired { findings } | Work::Planned { findings, .. } => {
                findings.iter().collect()
            }
            Work::Translated { translated, .. } => translated.findings().collect(),
            Work::Empty => Vec::new(),
        }
    }

    /// Nothing of it was sent, yet it is not finished (Ctrl-C, or every backend stopped):
    /// every segment without a result has one of those reasons.
    pub fn never_sent(&self) -> bool {
        let failed = self.failed();
        !failed.is_empty()
            && failed.iter().all(|s| {
                s.error
                    .as_ref()
                    .is_some_and(|e| e.kind == FailureKind::NotSent)
            })
    }

    /// The segments without a result.
    pub fn failed(&self) -> Vec<&SegmentResult> {
        match &self.work {
            Work::Translated { translated, .. } => translated.failed().collect(),
            _ => Vec::new(),
        }
    }

    /// What `review` needs of it (and an XLIFF report holds): when every segment finished.
    pub fn record(&self) -> Option<&Record> {
        match &self.work {
            Work::Translated {
                record: Some(record),
                ..
            } => Some(record),
            _ => None,
        }
    }

    pub fn translated(&self) -> Option<&Translated> {
        match &self.work {
            Work::Translated { translated, .. } => Some(translated),
            _ => None,
        }
    }
}

/// Why a document could not be processed at all.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    File(#[from] FileError),
    /// Ctrl-C or a stopped run came before it.
    #[error("{0}: not started ({1})")]
    NotStarted(String, &'static str),
    #[error("{0}: {1}")]
    Crashed(String, String),
}

impl DocumentError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::File(e) => e.hint(),
            Self::NotStarted(..) | Self::Crashed(..) => None,
        }
    }
}

/// A document as read, segmented and repaired: what the run packs by (see `pack`).
pub type Read = Result<(Decoded, RepairedDocument), DocumentError>;

/// Process one document.
pub async fn process_document(input: &Input, how: &Processing) -> Result<Outcome, DocumentError> {
    let read = read(input).await;
    let mut done = process_pack(vec![(input.clone(), read)], how).await;
    done.pop().map_or_else(
        || Err(DocumentError::NotStarted(input.name(), "nothing to do")),
        |d| d.1,
    )
}

/// Read, segment and repair one document.
pub async fn read(input: &Input) -> Read {
    // File work runs on the blocking pool, so the requests of other documents keep flowing.
    let read = input.clone();
    tokio::task::spawn_blocking(move || {
        let decoded = read_input(&read)?;
        let repaired = repair_document(&decoded.text, read.format());
        Ok::<_, FileError>((decoded, repaired))
    })
    .await
    .map_err(|join| DocumentError::Crashed(input.name(), join.to_string()))?
    .map_err(DocumentError::from)
}

/// A document read, with its work when it needs no API pass (`None`: the passes decide).
type Prepared = (Decoded, RepairedDocument, Option<Work>);

/// Process documents already read as one pack: their API passes share requests (each document
/// keeps its own context and results); everything else is done for each on its own.
pub async fn process_pack(
    docs: Vec<(Input, Read)>,
    how: &Processing,
) -> Vec<(Input, Result<Outcome, DocumentError>)> {
    let mut out: Vec<(Input, Result<Prepared, DocumentError>)> = Vec::with_capacity(docs.len());
    for (input, read) in docs {
        let read = read.map(|(decoded, repaired)| {
            let work = if decoded.text.trim().is_empty() {
                Some(Work::Empty)
            } else if how.engine.is_none() {
                Some(Work::Repaired {
                    findings: german_findings(&repaired, &decoded.text),
                })
            } else {
                None // the API passes, below
            };
            (decoded, repaired, work)
        });
        out.push((input, read));
    }
    if let Some(engine) = &how.engine {
        let pending: Vec<usize> = (0..out.len())
            .filter(|&i| matches!(&out[i].1, Ok((_, _, None))))
            .collect();
        let works = {
            let docs: Vec<(&RepairedDocument, &str)> = pending
                .iter()
                .filter_map(|&i| match &out[i].1 {
                    Ok((decoded, repaired, _)) => Some((repaired, decoded.text.as_str())),
                    Err(_) => None,
                })
                .collect();
            // Batch mode names the documents in its job records (a pack's segment ids say
            // which: `d2.s0` is the second's).
            let names: Vec<String> = pending.iter().map(|&i| out[i].0.name()).collect();
            crate::backend::ORIGIN
                .scope(names.join(" + "), api_work(engine, &docs, how.dry_run))
                .await
        };
        for (i, work) in pending.into_iter().zip(works) {
            if let Ok((_, _, slot)) = &mut out[i].1 {
                *slot = Some(work);
            }
        }
    }
    out.into_iter()
        .map(|(input, read)| {
            let outcome = read.map(|(decoded, repaired, work)| Outcome {
                work: work.unwrap_or(Work::Empty),
                decoded,
                repaired,
            });
            let outcome = outcome.map(|mut outcome| {
                if let Work::Translated { translated, record } = &mut outcome.work
                    && translated.failed().next().is_none()
                {
                    *record = Some(Box::new(self::record(
                        &input,
                        &outcome.repaired,
                        &outcome.decoded,
                        translated,
                        how.to,
                    )));
                }
                outcome
            });
            (input, outcome)
        })
        .collect()
}

/// The API passes over a pack (or, `--dry-run`, their plan): one work per document.
async fn api_work(engine: &Engine, docs: &[(&RepairedDocument, &str)], dry_run: bool) -> Vec<Work> {
    if dry_run {
        let repaired: Vec<&RepairedDocument> = docs.iter().map(|(doc, _)| *doc).collect();
        let plans = engine.plan_pack(&repaired);
        return docs
            .iter()
            .zip(plans)
            .map(|((doc, text), plans)| Work::Planned {
                plans,
                findings: doc
                    .segmented
                    .segments()
                    .flat_map(|s| verify::verify_source_for_translation(s.id(), s.text(text)))
                    .collect(),
            })
            .collect();
    }
    engine
        .translate_pack(docs)
        .await
        .into_iter()
        .map(|translated| Work::Translated {
            translated,
            record: None,
        })
        .collect()
}

fn read_input(input: &Input) -> Result<Decoded, FileError> {
    match &input.origin {
        Origin::File(path) => files::read_document(path),
        Origin::Stdin => {
            let path = PathBuf::from("stdin");
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|source| FileError::Read {
                    path: path.clone(),
                    source,
                })?;
            files::decode(&bytes).map_err(|source| FileError::Decode { path, source })
        }
    }
}

/// Verify's warnings about the German of every segment.
fn german_findings(doc: &RepairedDocument, source: &str) -> Vec<Finding> {
    doc.segmented
        .segments()
        .flat_map(|s| verify::verify_source(s.id(), s.text(source)))
        .filter(|f| f.severity > Severity::Info)
        .collect()
}

/// What `review` needs to revisit this output later: every paragraph's German, draft and
/// result, and the text around the paragraphs. The output's name is filled in when it is
/// written.
fn record(
    input: &Input,
    doc: &RepairedDocument,
    decoded: &Decoded,
    translated: &Translated,
    to: Lang,
) -> Record {
    let sides = translated.sides(to);
    let mut marks = doc.marks();
    let paragraphs = translated
        .segments
        .iter()
        .enumerate()
        .zip(sides.old.iter().zip(&sides.new))
        .map(|((i, s), (old, new))| Paragraph {
            id: s.id,
            german: s.source.clone(),
            repaired: (s.repaired != s.source).then(|| s.repaired.clone()),
            repairs: marks.get_mut(i).map(std::mem::take).unwrap_or_default(),
            protected: doc
                .segments
                .get(i)
                .map(|r| r.protected.clone())
                .unwrap_or_default(),
            old: old.map(str::to_owned),
            new: (*new).to_owned(),
            notes: s.notes.clone(),
            findings: s
                .findings
                .iter()
                .filter(|f| f.severity > Severity::Info || f.check == Check::Model)
                .map(FindingNote::from)
                .collect(),
        })
        .collect();
    Record::new(
        &input.name(),
        decoded,
        sides.titles,
        to,
        doc.segmented.blocks_around_segments(&decoded.text),
        paragraphs,
    )
}
