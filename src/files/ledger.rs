//! The ledger of outputs klartext wrote: absolute path → hash of the bytes written. A file is
//! "ours" when its current content still hashes to what we recorded, so klartext may replace
//! it; anything else (a file we never wrote, or one the user edited since) needs `--force`.
//! Losing the ledger is safe: klartext then only asks for `--force` more often.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::FileError;

const FILE_NAME: &str = "outputs.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Records {
    /// Absolute path (UTF-8 only; other paths are simply never "ours") → blake3 hex.
    outputs: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Ledger {
    file: PathBuf,
    records: Records,
}

impl Ledger {
    /// Open the ledger in `dir` (the cache folder). An unreadable or corrupt ledger is treated
    /// as empty: it only ever makes klartext more careful.
    pub fn open(dir: &Path) -> Self {
        let file = dir.join(FILE_NAME);
        let records = fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self { file, records }
    }

    /// May klartext write `path`? Yes if it does not exist or still holds what we wrote.
    pub fn may_overwrite(&self, path: &Path) -> bool {
        let Ok(bytes) = fs::read(path) else {
            return !path.exists();
        };
        key(path)
            .and_then(|k| self.records.outputs.get(&k))
            .is_some_and(|h| *h == hash(&bytes))
    }

    /// Remember that we wrote `bytes` to `path`, and save the ledger.
    pub fn record(&mut self, path: &Path, bytes: &[u8]) -> Result<(), FileError> {
        let Some(key) = key(path) else {
            return Ok(());
        };
        self.records.outputs.insert(key, hash(bytes));
        if let Some(dir) = self.file.parent() {
            fs::create_dir_all(dir).map_err(|source| FileError::Write {
                path: self.file.clone(),
                source,
            })?;
        }
        let json = serde_json::to_vec_pretty(&self.records).expect("ledger serialises");
        super::write_atomic(&self.file, &json)
    }
}

fn key(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    absolute.to_str().map(str::to_owned)
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
}
