//! The job records under `OUT/.klartext/jobs/`: one JSON file per provider batch job, written
//! when the provider accepts the job (before any waiting), so an interrupted run, a crash or
//! `--no-wait` never loses track of a job it paid for; a later run finds its lines there by
//! custom id and collects them instead of submitting them again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::backend::batch::BatchApi;
use crate::backend::{BackendError, ErrorKind};
use crate::files::{self, FileError};

pub const SCHEMA: &str = "klartext.job/1";

/// What klartext did with a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Accepted by the provider; its results have not been collected.
    Submitted,
    /// Its results were read and handed to the run (finished lines are in the cache).
    Collected,
    /// The provider refused the job as a whole.
    Failed,
}

/// `error` told for a recorded job the provider answers 404 for (deleted, past its retention,
/// or asked under another account or base URL), as that, with what to do: the record is left
/// for the user to remove, since a wrong base URL answers 404 too and sending the requests
/// again there would pay for them twice. `None` for any other error.
pub fn unknown_job(error: &BackendError, id: &str, record: &Path) -> Option<BackendError> {
    (error.status == Some(404)).then(|| BackendError {
        kind: ErrorKind::Fatal,
        message: format!(
            "the provider does not know batch job {id} ({})",
            error.message
        ),
        hint: Some(format!(
            "if the job was deleted or is past the provider's retention, delete {} and run the \
             same command again to send its requests anew; otherwise check base_url and the API key",
            record.display()
        )),
        ..error.clone()
    })
}

/// One job, as kept on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub schema: String,
    pub backend: String,
    pub api: BatchApi,
    pub model: String,
    pub id: String,
    /// OpenAI: the uploaded input file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_file: Option<String>,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    pub state: RecordState,
    /// The provider's last reported status (`in_progress`, `completed`, `ended`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Each line's custom id → the document (and its segments) it is for.
    pub lines: BTreeMap<String, String>,
}

impl JobRecord {
    pub fn new(
        backend: &str,
        api: BatchApi,
        model: &str,
        submitted: crate::backend::batch::Submitted,
        lines: BTreeMap<String, String>,
    ) -> Self {
        Self {
            schema: SCHEMA.to_owned(),
            backend: backend.to_owned(),
            api,
            model: model.to_owned(),
            id: submitted.id,
            input_file: submitted.input_file,
            submitted_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            state: RecordState::Submitted,
            status: None,
            lines,
        }
    }

    /// How long ago it was submitted, when its time can be read.
    pub fn age(&self) -> Option<std::time::Duration> {
        let at = humantime::parse_rfc3339(&self.submitted_at).ok()?;
        SystemTime::now().duration_since(at).ok()
    }
}

/// The folder of job records of one output.
#[derive(Debug, Clone)]
pub struct JobBook {
    dir: PathBuf,
}

/// A record that could not be read: named, and left alone.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub path: PathBuf,
    pub why: String,
}

impl JobBook {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `OUT/.klartext/jobs` for the output folder `out`.
    pub fn for_output(out: &Path) -> Self {
        Self::new(out.join(".klartext").join("jobs"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every record, oldest first; those that cannot be read are listed apart.
    pub fn load(&self) -> (Vec<JobRecord>, Vec<Unreadable>) {
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, unreadable);
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let read = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<JobRecord>(&bytes).map_err(|e| e.to_string())
                });
            match read {
                Ok(record) if record.schema == SCHEMA => records.push(record),
                Ok(record) => unreadable.push(Unreadable {
                    path,
                    why: format!("schema {} is not {SCHEMA}", record.schema),
                }),
                Err(why) => unreadable.push(Unreadable { path, why }),
            }
        }
        records.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at));
        (records, unreadable)
    }

    /// Write `record` (atomically; the folder is made when missing).
    pub fn save(&self, record: &JobRecord) -> Result<PathBuf, FileError> {
        let path = self.path_of(record);
        std::fs::create_dir_all(&self.dir).map_err(|source| FileError::Write {
            path: path.clone(),
            source,
        })?;
        let mut json = serde_json::to_vec_pretty(record).unwrap_or_default();
        json.push(b'\n');
        files::write_atomic(&path, &json)?;
        Ok(path)
    }

    /// Where `record` is kept.
    pub fn path_of(&self, record: &JobRecord) -> PathBuf {
        let safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        self.dir.join(format!(
            "{}-{}.json",
            safe(&record.backend),
            safe(&record.id)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::batch::Submitted;

    #[test]
    fn a_record_is_kept_and_read_back_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let book = JobBook::for_output(dir.path());
        let lines = BTreeMap::from([("kt-1".to_owned(), "a.txt ¶1–2".to_owned())]);
        let submitted = Submitted {
            id: "batch/1".to_owned(),
            input_file: Some("file-1".to_owned()),
        };
        let record = JobRecord::new("openai", BatchApi::Openai, "gpt", submitted, lines);
        let path = book.save(&record).unwrap();
        assert!(
            path.ends_with(".klartext/jobs/openai-batch_1.json"),
            "{path:?}"
        );
        std::fs::write(book.dir().join("zz.json"), "{").unwrap();
        let (records, unreadable) = book.load();
        assert_eq!(records, vec![record]);
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].path.ends_with("zz.json"));
    }
}
