//! The one check every file a run of `fix` writes goes through: outputs, reports, an input
//! rewritten in place and its backup. A file klartext did not write (as the [`Ledger`] knows)
//! is never replaced without `--force`; a backup never replaces anything, `--force` or not,
//! since a free name costs nothing. Every write is atomic and recorded in the ledger, so the
//! next run knows the file as klartext's.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{FileError, Ledger, Replace, write_through_temporary};

/// How many numbered backups (`NAME.1.bak` …) are tried before giving up.
const BACKUP_NAMES: usize = 100;

pub struct Outputs {
    ledger: Ledger,
    /// `--force`: replace files klartext did not write.
    force: bool,
    /// The first failure to record a write in the ledger, told once at the end of the run.
    unrecorded: Option<FileError>,
}

/// What `--in-place` kept of the input as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backup {
    /// Copied to `path`: `NAME.bak`, or the first free `NAME.N.bak` when that name was
    /// `taken` by another file.
    Written {
        path: PathBuf,
        taken: Option<PathBuf>,
    },
    /// Nothing new to keep: the input held klartext's own earlier result (the backup from
    /// before that run stays as it is), or exactly what `path` already holds.
    Kept { path: Option<PathBuf> },
}

impl Outputs {
    pub fn new(ledger: Ledger, force: bool) -> Self {
        Self {
            ledger,
            force,
            unrecorded: None,
        }
    }

    /// May `path` be written? Yes if it does not exist, holds what klartext wrote, or
    /// `--force` was given.
    pub fn check(&self, path: &Path) -> Result<(), FileError> {
        if self.force || self.ledger.may_overwrite(path) {
            Ok(())
        } else {
            Err(FileError::Exists(path.to_owned()))
        }
    }

    /// Write `bytes` to `path` after [`check`](Self::check)ing it.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), FileError> {
        self.write_with(path, |out| out.write_all(bytes))
    }

    /// [`write`](Self::write) for content produced by `fill`, streamed.
    pub fn write_with(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), FileError> {
        self.check(path)?;
        let mut hasher = blake3::Hasher::new();
        write_through_temporary(
            path,
            |out| {
                let mut out = Hashing {
                    inner: out,
                    hasher: &mut hasher,
                };
                fill(&mut out)
            },
            Replace::Yes,
            path,
        )?;
        self.remember(path, hasher.finalize());
        Ok(())
    }

    /// Replace the input at `path` with `bytes` (`--in-place`), keeping what it held first
    /// unless `backup` is false. The input is the user's own file, so it needs no `--force`.
    pub fn rewrite_input(
        &mut self,
        path: &Path,
        bytes: &[u8],
        backup: bool,
    ) -> Result<Option<Backup>, FileError> {
        let kept = if backup {
            Some(self.backup(path)?)
        } else {
            None
        };
        super::write_atomic(path, bytes)?;
        self.remember(path, blake3::hash(bytes));
        Ok(kept)
    }

    /// Keep the input at `path` as it is now, beside it, without replacing any file.
    fn backup(&self, path: &Path) -> Result<Backup, FileError> {
        let bytes = fs::read(path).map_err(|source| FileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let first = backup_name(path, 0);
        if self.ledger.wrote(path, &bytes) {
            // What came before klartext is in the backup of that run; klartext's own result
            // is not worth a second one (and must not replace the first).
            return Ok(Backup::Kept {
                path: first.exists().then_some(first),
            });
        }
        for n in 0..BACKUP_NAMES {
            let candidate = backup_name(path, n);
            if fs::read(&candidate).is_ok_and(|held| held == bytes) {
                return Ok(Backup::Kept {
                    path: Some(candidate),
                });
            }
            let written =
                write_through_temporary(&candidate, |out| out.write_all(&bytes), Replace::No, path);
            match written {
                Ok(()) => {
                    return Ok(Backup::Written {
                        path: candidate,
                        taken: (n > 0).then_some(first),
                    });
                }
                Err(FileError::Write { source, .. })
                    if source.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        Err(FileError::Exists(backup_name(path, BACKUP_NAMES - 1)))
    }

    /// The first write this run could not record in the ledger, if any: klartext will not
    /// know those files as its own, and a later run asks for `--force` to replace them.
    pub fn take_unrecorded(&mut self) -> Option<FileError> {
        self.unrecorded.take()
    }

    fn remember(&mut self, path: &Path, hash: blake3::Hash) {
        if let Err(err) = self.ledger.record_hash(path, hash) {
            self.unrecorded.get_or_insert(err);
        }
    }
}

/// `NAME.bak`, then `NAME.1.bak`, `NAME.2.bak`, …
fn backup_name(path: &Path, n: usize) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    match n {
        0 => name.push(".bak"),
        n => name.push(format!(".{n}.bak")),
    }
    path.with_file_name(name)
}

/// A writer that hashes what passes through, for the ledger.
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    hasher: &'a mut blake3::Hasher,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(dir: &Path, force: bool) -> Outputs {
        Outputs::new(Ledger::open(&dir.join("cache")), force)
    }

    #[test]
    fn a_file_klartext_did_not_write_needs_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        fs::write(&report, "mine").expect("write");
        let mut plain = outputs(dir.path(), false);
        let err = plain.write(&report, b"ours").unwrap_err();
        assert!(matches!(err, FileError::Exists(_)), "{err:?}");
        assert_eq!(fs::read(&report).expect("read"), b"mine");
        outputs(dir.path(), true)
            .write_with(&report, |out| out.write_all(b"ours, streamed"))
            .expect("forced");
        // Recorded with the hash of what was streamed: klartext's now.
        let mut again = outputs(dir.path(), false);
        again.write(&report, b"ours again").expect("ours");
        assert!(again.take_unrecorded().is_none());
    }

    #[test]
    fn backups_never_replace_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("a.txt");
        fs::write(&input, "original").expect("write");
        fs::write(dir.path().join("a.txt.bak"), "keep").expect("write");
        fs::write(dir.path().join("a.txt.1.bak"), "keep too").expect("write");
        let mut forced = outputs(dir.path(), true);
        let kept = forced
            .rewrite_input(&input, b"first", true)
            .expect("rewrite");
        assert_eq!(
            kept,
            Some(Backup::Written {
                path: dir.path().join("a.txt.2.bak"),
                taken: Some(dir.path().join("a.txt.bak")),
            })
        );
        assert_eq!(
            fs::read(dir.path().join("a.txt.bak")).expect("read"),
            b"keep"
        );
        assert_eq!(
            fs::read(dir.path().join("a.txt.2.bak")).expect("read"),
            b"original"
        );
        // Its own result needs no second backup.
        let kept = forced
            .rewrite_input(&input, b"second", true)
            .expect("rewrite");
        assert_eq!(
            kept,
            Some(Backup::Kept {
                path: Some(dir.path().join("a.txt.bak"))
            })
        );
        assert_eq!(fs::read(&input).expect("read"), b"second");
        assert!(!dir.path().join("a.txt.3.bak").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_backup_is_as_private_as_its_input() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("secret.txt");
        fs::write(&input, "private").expect("write");
        fs::set_permissions(&input, fs::Permissions::from_mode(0o600)).expect("chmod");
        outputs(dir.path(), false)
            .rewrite_input(&input, b"done", true)
            .expect("rewrite");
        let mode = fs::metadata(dir.path().join("secret.txt.bak"))
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
