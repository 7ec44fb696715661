//! The ledger of outputs klartext wrote: absolute path → hash of the bytes written. A file is
//! "ours" when its current content still hashes to what we recorded, so klartext may replace
//! it; anything else (a file we never wrote, or one the user edited since) needs `--force`.
//! Losing the ledger is safe: klartext then only asks for `--force` more often.
//!
//! It is an append-only log (one `hash<TAB>path` line per write), so a batch of thousands of
//! files costs one short append each; it is compacted when it has grown well past its entries.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::FileError;

const FILE_NAME: &str = "outputs.log";

#[derive(Debug)]
pub struct Ledger {
    file: PathBuf,
    /// Absolute path (UTF-8 only; other paths are simply never "ours") → blake3 hex.
    outputs: BTreeMap<String, String>,
}

impl Ledger {
    /// Open the ledger in `dir` (the cache folder). An unreadable or damaged ledger reads as
    /// what survives of it: it only ever makes klartext more careful.
    pub fn open(dir: &Path) -> Self {
        let file = dir.join(FILE_NAME);
        let text = fs::read_to_string(&file).unwrap_or_default();
        let mut lines = 0;
        let mut outputs = BTreeMap::new();
        for line in text.lines() {
            lines += 1;
            if let Some((hash, path)) = line.split_once('\t') {
                outputs.insert(path.to_owned(), hash.to_owned());
            }
        }
        let ledger = Self { file, outputs };
        if lines > 64 && lines > 2 * ledger.outputs.len() {
            // Best effort: a failed compaction leaves the longer log, which reads the same.
            let _ = ledger.compact();
        }
        ledger
    }

    /// May klartext write `path`? Yes if it does not exist or still holds what we wrote.
    pub fn may_overwrite(&self, path: &Path) -> bool {
        let Ok(bytes) = fs::read(path) else {
            return !path.exists();
        };
        self.wrote(path, &bytes)
    }

    /// Are `bytes` (read from `path`) what klartext last wrote there?
    pub fn wrote(&self, path: &Path, bytes: &[u8]) -> bool {
        key(path)
            .and_then(|k| self.outputs.get(&k))
            .is_some_and(|h| *h == hash(bytes))
    }

    /// Remember that we wrote `bytes` to `path`.
    pub fn record(&mut self, path: &Path, bytes: &[u8]) -> Result<(), FileError> {
        self.record_hash(path, blake3::hash(bytes))
    }

    /// Remember that we wrote bytes with this hash to `path`.
    pub fn record_hash(&mut self, path: &Path, hash: blake3::Hash) -> Result<(), FileError> {
        let Some(key) = key(path) else {
            return Ok(());
        };
        let hash = hash.to_hex().to_string();
        let write_err = |source| FileError::Write {
            path: self.file.clone(),
            source,
        };
        if let Some(dir) = self.file.parent() {
            fs::create_dir_all(dir).map_err(write_err)?;
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .map_err(write_err)?;
        // One write per line, so concurrent runs interleave whole lines.
        log.write_all(format!("{hash}\t{key}\n").as_bytes())
            .map_err(write_err)?;
        self.outputs.insert(key, hash);
        Ok(())
    }

    /// Rewrite the log with one line per output that still exists.
    fn compact(&self) -> Result<(), FileError> {
        let mut text = String::new();
        for (path, hash) in &self.outputs {
            if Path::new(path).exists() {
                text.push_str(&format!("{hash}\t{path}\n"));
            }
        }
        super::write_atomic(&self.file, text.as_bytes())
    }
}

fn key(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    absolute
        .to_str()
        .filter(|p| !p.contains(['\t', '\n']))
        .map(str::to_owned)
}

fn hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_until_edited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("a.en.txt");
        let mut ledger = Ledger::open(&dir.path().join("cache"));
        assert!(ledger.may_overwrite(&out), "absent files are free");
        fs::write(&out, "foreign").expect("write");
        assert!(!ledger.may_overwrite(&out), "not ours");
        ledger.record(&out, b"ours").expect("record");
        fs::write(&out, "ours").expect("write");
        let reopened = Ledger::open(&dir.path().join("cache"));
        assert!(reopened.may_overwrite(&out), "ours after reopening");
        fs::write(&out, "ours, edited").expect("write");
        assert!(!reopened.may_overwrite(&out), "edited by the user");
    }

    #[test]
    fn the_log_is_compacted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("a.en.txt");
        fs::write(&out, "v").expect("write");
        let mut ledger = Ledger::open(&dir.path().join("cache"));
        for i in 0..100 {
            ledger
                .record(&out, format!("v{i}").as_bytes())
                .expect("record");
        }
        let log = dir.path().join("cache").join(FILE_NAME);
        assert_eq!(fs::read_to_string(&log).expect("log").lines().count(), 100);
        let reopened = Ledger::open(&dir.path().join("cache"));
        assert_eq!(fs::read_to_string(&log).expect("log").lines().count(), 1);
        fs::write(&out, "v99").expect("write");
        assert!(reopened.may_overwrite(&out), "the last record wins");
    }
}
