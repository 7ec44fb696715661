//! Everything that touches the user's files: reading and decoding documents, naming outputs,
//! writing atomically (temporary file in the same folder, then rename), and the one check
//! every file a run writes goes through ([`Outputs`]: the ledger of files klartext wrote, and
//! backups for `--in-place`), so that it never overwrites a file that is not its own.

mod encoding;
mod ledger;
mod lock;
mod outputs;
mod spool;
mod walk;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use encoding::{DecodeError, Decoded, EncodeError, LineEnding, TextEncoding, decode, encode};
pub use ledger::Ledger;
pub use lock::{Busy, Claim, RunLock};
pub use outputs::{Backup, Outputs};
pub use spool::Spool;
pub use walk::{
    DEFAULT_GLOBS, Found, Patterns, Rules, Skipped, WalkError, is_output_name, sidecars, walk,
    walker,
};

/// The run report a batch writes into its output folder.
pub const REPORT_NAME: &str = "klartext-report.json";

use crate::config::Lang;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: no such file", .0.display())]
    NotFound(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} {source}", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: DecodeError,
    },
    #[error("cannot write {}: {source}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: EncodeError,
    },
    #[error("cannot write {}: folder {} does not exist", path.display(), folder.display())]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} already exists and was not written by klartext", .0.display())]
    Exists(PathBuf),
    #[error(
        "{} is being written by another klartext run (process {}: {})",
        .0.path.display(), .0.pid, .0.command
    )]
    Busy(Busy),
}

impl FileError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Exists(_) => Some("pass --force to overwrite it, or choose another -o".into()),
            Self::Busy(_) => Some(
                "wait for it to finish: two runs would send every request twice; or write \
                 elsewhere with -o"
                    .into(),
            ),
            Self::MissingFolder { folder, .. } => {
                Some(format!("create it first: mkdir -p {}", folder.display()))
            }
            Self::Decode {
                source: DecodeError::InvalidUtf8 { .. },
                ..
            } => Some(
                "fix that byte in an editor; if the whole file is Windows-1252, convert it \
                 first: iconv -f windows-1252 -t utf-8"
                    .into(),
            ),
            Self::Decode {
                source: DecodeError::Malformed { .. } | DecodeError::Undecodable,
                ..
            } => Some("klartext reads UTF-8, UTF-16 and Windows-1252 text".into()),
            _ => None,
        }
    }
}

/// Read and decode a document. The path is named in every error.
pub fn read_document(path: &Path) -> Result<Decoded, FileError> {
    let bytes = fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => FileError::NotFound(path.to_owned()),
        _ => FileError::Read {
            path: path.to_owned(),
            source,
        },
    })?;
    decode(&bytes).map_err(|source| FileError::Decode {
        path: path.to_owned(),
        source,
    })
}

/// Encode `text` as `like` was read and write it atomically to `path`.
pub fn write_document(path: &Path, text: &str, like: &Decoded) -> Result<(), FileError> {
    let bytes = encode_for(path, text, like.encoding, like.line_ending)?;
    write_atomic(path, &bytes)
}

/// [`encode`] for the file at `path`, which a failure names.
pub fn encode_for(
    path: &Path,
    text: &str,
    encoding: TextEncoding,
    line_ending: LineEnding,
) -> Result<Vec<u8>, FileError> {
    encode(text, encoding, line_ending).map_err(|source| FileError::Encode {
        path: path.to_owned(),
        source,
    })
}

/// Write through a temporary file in the same folder and rename it into place, so a crash or
/// Ctrl-C never leaves a half-written file. An existing file keeps its permissions; a new one
/// gets the usual 0666 less the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// [`write_atomic`] for content produced by `fill`, streamed to the temporary file (a large
/// report never has to exist in memory as a whole).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), FileError> {
    write_through_temporary(path, fill, Replace::Yes, path)
}

/// Whether an atomic write may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replace {
    Yes,
    /// Fail with [`io::ErrorKind::AlreadyExists`] instead, even when the file appears between
    /// a check and the write.
    No,
}

/// Write `path` through a temporary file, which gets the permissions of `like` when that
/// exists (the file it replaces, or the input a backup copies).
fn write_through_temporary(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    replace: Replace,
    like: &Path,
) -> Result<(), FileError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(FileError::MissingFolder {
            path: path.to_owned(),
            folder: folder.to_owned(),
        });
    }
    let write_err = |source| FileError::Write {
        path: path.to_owned(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".klartext-").suffix(".tmp");
    // A new file gets the permissions any other program would give it (0666 less the umask),
    // not the temporary file's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(folder).map_err(write_err)?;
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out).map_err(write_err)?;
        out.flush().map_err(write_err)?;
    }
    if let Ok(meta) = fs::metadata(like) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(write_err)?;
    }
    tmp.as_file().sync_all().map_err(write_err)?;
    match replace {
        Replace::Yes => tmp.persist(path).map_err(|e| write_err(e.error))?,
        Replace::No => tmp
            .persist_noclobber(path)
            .map_err(|e| write_err(e.error))?,
    };
    Ok(())
}

/// The default output name for an input: a `.de` language tag becomes the target's tag
/// (`a.de.txt` → `a.en.txt`); otherwise the tag goes before the extension (`c.txt` →
/// `c.en.txt`). German output (`--to de`) is tagged `fixed` beside the language tag instead
/// (`a.de.txt` → `a.fixed.de.txt`), so it never names the input itself.
pub fn output_path(input: &Path, to: Lang) -> PathBuf {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".to_owned());
    let mut parts: Vec<&str> = name.split('.').collect();
    let tag_at = parts
        .iter()
        .skip(1)
        .rposition(|p| p.eq_ignore_ascii_case("de"))
        .map(|i| i + 1);
    // A dotfile's leading dot does not start an extension: `.notes.txt` has `txt`.
    let stem_parts = if parts[0].is_empty() { 2 } else { 1 };
    let ext_at = if parts.len() > stem_parts {
        parts.len() - 1
    } else {
        parts.len()
    };
    match (to, tag_at) {
        (Lang::En, Some(i)) => parts[i] = "en",
        (Lang::En, None) => parts.insert(ext_at, "en"),
        (Lang::De, Some(i)) => parts.insert(i, "fixed"),
        (Lang::De, None) => parts.insert(ext_at, "fixed"),
    }
    input.with_file_name(parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        let en = |p: &str| output_path(Path::new(p), Lang::En);
        assert_eq!(en("a.de.txt"), Path::new("a.en.txt"));
        assert_eq!(en("dir/b.de.md"), Path::new("dir/b.en.md"));
        assert_eq!(en("c.txt"), Path::new("c.en.txt"));
        assert_eq!(en("notes.DE.txt"), Path::new("notes.en.txt"));
        assert_eq!(en("README"), Path::new("README.en"));
        assert_eq!(en(".hidden"), Path::new(".hidden.en"));
        assert_eq!(en(".notes.txt"), Path::new(".notes.en.txt"));
        assert_eq!(en("deutsch.txt"), Path::new("deutsch.en.txt"));
        let de = |p: &str| output_path(Path::new(p), Lang::De);
        assert_eq!(de("a.de.txt"), Path::new("a.fixed.de.txt"));
        assert_eq!(de("c.txt"), Path::new("c.fixed.txt"));
    }

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let leftovers = fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_get_the_usual_mode_and_existing_files_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("plain.txt");
        fs::write(&plain, b"x").expect("plain write");
        let ours = dir.path().join("ours.txt");
        write_atomic(&ours, b"x").expect("atomic write");
        assert_eq!(mode(&ours), mode(&plain), "as any program would create it");
        fs::set_permissions(&ours, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomic(&ours, b"y").expect("rewrite");
        assert_eq!(mode(&ours), 0o640);
    }

    #[test]
    fn missing_folder_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope/out.txt");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(matches!(err, FileError::MissingFolder { .. }));
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
