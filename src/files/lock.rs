//! A run's hold on what it will write, so that two runs never write the same outputs at once:
//! each would send every request, and find the other's files "not written by klartext".
//!
//! A run registers its outputs (files, or a whole output folder) in a file of its own under
//! `CACHE/runs/`, which it keeps locked for as long as it runs. A run whose outputs overlap a
//! live run's stops before it reads or sends anything, naming the other process. A run that
//! died leaves its file unlocked (the system drops the lock with the process), and the next
//! run removes it. A short lock on `runs/.lock` makes looking and registering one step.
//!
//! The registry is a convenience, not a guarantee: where it cannot be kept (a read-only
//! cache, a file system without locks), runs go on unguarded, as they would without it.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::FileError;

const FOLDER: &str = "runs";
const REGISTRY_LOCK: &str = ".lock";
const EXTENSION: &str = "run";

/// Something a run will write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    File(PathBuf),
    /// A folder and everything below it (`-o OUT` for a folder).
    Folder(PathBuf),
}

impl Claim {
    fn path(&self) -> &Path {
        match self {
            Self::File(p) | Self::Folder(p) => p,
        }
    }

    /// The same claim with an absolute path that names each file one way (symlinked folders
    /// resolved where they exist).
    fn resolved(&self) -> Self {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        match self {
            Self::Folder(p) => Self::Folder(p.canonicalize().unwrap_or_else(|_| absolute(p))),
            Self::File(p) => {
                let path = absolute(p);
                let resolved = match (path.parent(), path.file_name()) {
                    (Some(parent), Some(name)) => parent.canonicalize().ok().map(|p| p.join(name)),
                    _ => None,
                };
                Self::File(resolved.unwrap_or(path))
            }
        }
    }

    fn overlaps(&self, other: &Claim) -> bool {
        match (self, other) {
            (Self::File(a), Self::File(b)) => a == b,
            (Self::Folder(d), Self::File(f)) | (Self::File(f), Self::Folder(d)) => f.starts_with(d),
            (Self::Folder(a), Self::Folder(b)) => a.starts_with(b) || b.starts_with(a),
        }
    }

    fn line(&self) -> Option<String> {
        let (tag, path) = match self {
            Self::File(p) => ('F', p),
            Self::Folder(p) => ('D', p),
        };
        let path = path.to_str()?;
        (!path.contains('\n')).then(|| format!("{tag}\t{path}"))
    }

    fn parse(line: &str) -> Option<Self> {
        let (tag, path) = line.split_once('\t')?;
        match tag {
            "F" => Some(Self::File(PathBuf::from(path))),
            "D" => Some(Self::Folder(PathBuf::from(path))),
            _ => None,
        }
    }
}

/// Another run holds what this one would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// This run's output, as it was given.
    pub path: PathBuf,
    pub pid: u32,
    /// The other run's command line.
    pub command: String,
}

/// The hold on a run's outputs; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    /// The registration file, kept open and locked, and where it is.
    held: Option<(File, PathBuf)>,
}

impl RunLock {
    /// Register `claims` under `cache_dir` for this process (`command` names it to others),
    /// or say which live run holds one of them.
    pub fn take(cache_dir: &Path, claims: &[Claim], command: &str) -> Result<RunLock, FileError> {
        let unguarded = RunLock { held: None };
        if claims.is_empty() {
            return Ok(unguarded);
        }
        let folder = cache_dir.join(FOLDER);
        let Some(registry) = Registry::open(&folder) else {
            return Ok(unguarded);
        };
        let resolved: Vec<Claim> = claims.iter().map(Claim::resolved).collect();
        if let Some(busy) = registry.find_overlap(claims, &resolved) {
            return Err(FileError::Busy(busy));
        }
        let mut text = format!("{}\n{}\n", std::process::id(), one_line(command));
        for line in resolved.iter().filter_map(Claim::line) {
            text.push_str(&line);
            text.push('\n');
        }
        Ok(RunLock {
            held: registry.register(&text),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let Some((file, path)) = self.held.take() else {
            return;
        };
        // Removed while still locked and under the registry's lock, so no other run takes
        // this file for a live one's or for a dead one's in between.
        let registry = path.parent().and_then(Registry::open);
        let _ = fs::remove_file(&path);
        drop(file);
        drop(registry);
    }
}

/// `runs/` with its lock held.
struct Registry {
    folder: PathBuf,
    lock: File,
}

impl Registry {
    fn open(folder: &Path) -> Option<Registry> {
        fs::create_dir_all(folder).ok()?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(folder.join(REGISTRY_LOCK))
            .ok()?;
        lock.lock().ok()?;
        Some(Registry {
            folder: folder.to_owned(),
            lock,
        })
    }

    /// The first live run holding one of `claims`; dead runs' files are removed on the way.
    fn find_overlap(&self, claims: &[Claim], resolved: &[Claim]) -> Option<Busy> {
        let entries = fs::read_dir(&self.folder).ok()?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != EXTENSION) {
                continue;
            }
            let Ok(mut file) = File::open(&path) else {
                continue;
            };
            match file.try_lock() {
                Ok(()) => {
                    // Its process is gone.
                    let _ = fs::remove_file(&path);
                    continue;
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(_)) => continue,
            }
            let mut text = String::new();
            if file.read_to_string(&mut text).is_err() {
                continue;
            }
            let mut lines = text.lines();
            let pid = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
            let command = lines.next().unwrap_or_default().to_owned();
            let theirs: Vec<Claim> = lines.filter_map(Claim::parse).collect();
            let hit = resolved
                .iter()
                .position(|ours| theirs.iter().any(|t| t.overlaps(ours)));
            if let Some(i) = hit {
                return Some(Busy {
                    path: claims[i].path().to_owned(),
                    pid,
                    command,
                });
            }
        }
        None
    }

    /// Write this run's registration and keep it locked; `None` if that fails.
    fn register(&self, text: &str) -> Option<(File, PathBuf)> {
        let name = format!(
            "{}-{:08x}.{EXTENSION}",
            std::process::id(),
            fastrand::u32(..)
        );
        let path = self.folder.join(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .ok()?;
        let written = file
            .lock()
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.flush());
        if written.is_err() {
            let _ = fs::remove_file(&path);
            return None;
        }
        Some((file, path))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.lock.unlock();
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &Path) -> Claim {
        Claim::File(p.to_owned())
    }

    #[test]
    fn claims_overlap_by_file_and_by_folder() {
        let a = Path::new("/w/out/a.en.txt");
        assert!(file(a).overlaps(&file(a)));
        assert!(!file(a).overlaps(&file(Path::new("/w/out/b.en.txt"))));
        assert!(Claim::Folder("/w/out".into()).overlaps(&file(a)));
        assert!(file(a).overlaps(&Claim::Folder("/w/out".into())));
        assert!(!Claim::Folder("/w/output".into()).overlaps(&file(a)));
        assert!(Claim::Folder("/w/out/sub".into()).overlaps(&Claim::Folder("/w/out".into())));
        assert!(!Claim::Folder("/w/out2".into()).overlaps(&Claim::Folder("/w/out".into())));
    }

    #[test]
    fn a_live_run_holds_its_outputs_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let out = dir.path().join("out");
        fs::create_dir(&out).expect("mkdir");
        let first = RunLock::take(
            &cache,
            &[Claim::Folder(out.clone())],
            "klartext fix in -o out",
        )
        .expect("free");
        let other = [file(&dir.path().join("elsewhere.txt"))];
        drop(RunLock::take(&cache, &other, "klartext fix x").expect("no overlap"));

        // The same file, named through a relative path and `..`, is the same claim.
        let inside = out.join("sub").join("..").join("a.en.txt");
        let err = RunLock::take(&cache, &[file(&inside)], "klartext fix a").unwrap_err();
        let FileError::Busy(busy) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(busy.pid, std::process::id());
        assert_eq!(busy.command, "klartext fix in -o out");
        assert_eq!(busy.path, inside);
        let message = err.to_string();
        assert!(message.contains("another klartext run"), "{message}");
        assert!(message.contains("klartext fix in -o out"), "{message}");

        drop(first);
        RunLock::take(&cache, &[file(&inside)], "klartext fix a").expect("released");
        let left: Vec<_> = fs::read_dir(cache.join(FOLDER))
            .expect("runs")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
            .collect();
        assert!(left.is_empty(), "registrations removed: {left:?}");
    }

    #[test]
    fn a_dead_runs_registration_is_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let out = dir.path().join("out.txt");
        let folder = cache.join(FOLDER);
        fs::create_dir_all(&folder).expect("mkdir");
        let stale = folder.join("1-00000000.run");
        let claim = file(&out).resolved().line().expect("a line");
        fs::write(&stale, format!("1\nklartext fix\n{claim}\n")).expect("write");
        let lock = RunLock::take(&cache, &[file(&out)], "klartext fix").expect("not held");
        assert!(!stale.exists());
        drop(lock);
    }

    #[test]
    fn without_a_registry_runs_go_on_unguarded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("cache");
        fs::write(&blocker, "a file").expect("write");
        let claims = [file(&dir.path().join("out.txt"))];
        let _first = RunLock::take(&blocker, &claims, "klartext").expect("unguarded");
        RunLock::take(&blocker, &claims, "klartext").expect("unguarded too");
    }
}
