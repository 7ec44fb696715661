//! The cache: an SQLite store of finished segments, keyed by a hash of everything that affects the
//! output ([`KeyParts`]), so that a re-run on unchanged input sends no requests and an interrupted
//! run resumes for free. It is never needed for correctness: a miss is always fine, a row that no
//! longer decodes reads as a miss, and a broken file is reported (never deleted) so the caller can
//! carry on without it. Operations are short and synchronous.

mod key;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

pub use key::{CacheKey, KeyParts};

use crate::glossary::Term;
use crate::quotes::folded;

/// Schema version kept in `PRAGMA user_version`. Version 1 files gain the `terms` column and
/// keep their entries; older files are recreated (it is only a cache); newer ones are left alone.
const SCHEMA_VERSION: i64 = 2;

/// The pass name of a refine decision: the text a paragraph kept when the refine round
/// judged a new answer to it, keyed by its German and the English it went back with
/// ([`CacheKey::refined`]), so the cache knows a paragraph's final English, not only the
/// restore pass's first answer ([`Cache::refined`]).
pub const REFINED: &str = "refined";

/// How long a write waits for another klartext run holding the lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
    DROP TABLE IF EXISTS entries;
    CREATE TABLE entries (
        key BLOB PRIMARY KEY NOT NULL,
        text TEXT NOT NULL,
        literal TEXT,
        notes TEXT NOT NULL,
        pass TEXT NOT NULL,
        backend TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        terms TEXT
    ) WITHOUT ROWID;
";

/// Version 1 to 2: the names and terms a restore reply decided, as JSON; NULL for none.
const ADD_TERMS: &str = "ALTER TABLE entries ADD COLUMN terms TEXT;";

/// One finished result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The result (e.g. restored English, or a draft).
    pub text: String,
    /// A literal rendering returned alongside, if any.
    pub literal: Option<String>,
    pub notes: Vec<String>,
    pub pass: String,
    pub backend: String,
    pub model: String,
    /// Source text, for export as translation memory.
    pub source: String,
    /// Names and terms the model said it rendered in this segment (German → English), so a
    /// later run of the same document learns them from the cache as from a reply.
    pub terms: Vec<Term>,
}

/// A finished entry as exported to a translation memory: [`Cache::each_of_pass`].
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The repaired German, protected spans and all.
    pub source: String,
    pub text: String,
    pub backend: String,
    pub model: String,
    /// When it was cached, in seconds since 1970.
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    pub entries: u64,
    /// Bytes on disk: the database file plus its write-ahead log.
    pub bytes: u64,
    pub path: PathBuf,
    /// (pass, backend, count), sorted by pass then backend.
    pub by_pass: Vec<(String, String, u64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache {} is not a database (corrupt?)", path.display())]
    Corrupt { path: PathBuf },
    #[error("cache {} is locked", path.display())]
    Locked { path: PathBuf },
    #[error("cache {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cache {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "cache {} has schema version {found}; this klartext understands up to {SCHEMA_VERSION}",
        path.display()
    )]
    NewerVersion { path: PathBuf, found: i64 },
    #[error("cache {} is read-only", path.display())]
    ReadOnly { path: PathBuf },
}

impl CacheError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Corrupt { path } => Some(format!(
                "delete {} (klartext rebuilds it), or pass --no-cache",
                path.display()
            )),
            Self::Locked { .. } => {
                Some("another klartext run is using it; wait or pass --no-cache".into())
            }
            Self::NewerVersion { .. } => Some(
                "a newer klartext wrote it; upgrade, pass --no-cache, or delete the file".into(),
            ),
            Self::ReadOnly { path } => {
                Some(format!("make {} and its folder writable", path.display()))
            }
            Self::Io { .. } | Self::Sqlite { .. } => None,
        }
    }

    /// The file or its folder may not be written (or, read-only, not even opened).
    fn is_permission(&self) -> bool {
        match self {
            Self::ReadOnly { .. } => true,
            Self::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
            ),
            _ => false,
        }
    }

    /// Sorts SQLite's result codes into the cases a user can act on.
    fn from_sqlite(path: &Path, source: rusqlite::Error) -> CacheError {
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Self::Corrupt { path },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Locked { path },
            _ => Self::Sqlite { path, source },
        }
    }
}

pub struct Cache {
    conn: Connection,
    /// `None` for an in-memory cache.
    path: Option<PathBuf>,
    /// The file (or its folder) cannot be written: entries are read, new ones are dropped.
    read_only: bool,
}

/// How a cache file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadWrite,
    ReadOnly,
}

impl Cache {
    pub const FILE_NAME: &'static str = "cache.sqlite";

    /// Opens (creating the folder and file) `dir/cache.sqlite`. A cache this process may read
    /// but not write (a read-only file or folder) opens read-only: see [`Cache::is_read_only`].
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        Self::open_with_timeout(dir, BUSY_TIMEOUT)
    }

    /// [`Cache::open`] with a chosen lock wait, so tests need not wait five seconds.
    pub(crate) fn open_with_timeout(dir: &Path, busy: Duration) -> Result<Cache, CacheError> {
        let path = dir.join(Self::FILE_NAME);
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
                path: path.clone(),
                source,
            })?;
        }
        match Self::open_file(&path, Access::ReadWrite, busy) {
            Err(err) if err.is_permission() => {
                // Keep the first error when reading fails too (no file yet, say): it says why.
                Self::open_file(&path, Access::ReadOnly, busy).map_err(|_| err)
            }
            opened => opened,
        }
    }

    /// Opens the file at `path` as `access` says. A file SQLite could open only for reading
    /// is read-only however it was asked for.
    pub(crate) fn open_file(
        path: &Path,
        access: Access,
        busy: Duration,
    ) -> Result<Cache, CacheError> {
        let flags = match access {
            Access::ReadWrite => OpenFlags::default(),
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        };
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| CacheError::from_sqlite(path, e))?;
        let read_only = conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| CacheError::from_sqlite(path, e))?;
        let cache = Cache {
            conn,
            path: Some(path.to_owned()),
            read_only,
        };
        match cache.prepare(busy) {
            Ok(()) => Ok(cache),
            // A database in WAL mode is read through its shared-memory file, which a read-only
            // folder cannot hold. Nothing can write to the file there either, so SQLite may
            // read it as unchanging.
            Err(err) if read_only && err.is_permission() => Self::open_immutable(path, busy),
            Err(err) => Err(err),
        }
    }

    fn open_immutable(path: &Path, busy: Duration) -> Result<Cache, CacheError> {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let conn = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| CacheError::from_sqlite(path, e))?;
        let cache = Cache {
            conn,
            path: Some(path.to_owned()),
            read_only: true,
        };
        cache.prepare(busy)?;
        Ok(cache)
    }

    pub fn open_in_memory() -> Result<Cache, CacheError> {
        let conn = Connection::open_in_memory()
            .map_err(|e| CacheError::from_sqlite(Path::new(":memory:"), e))?;
        let cache = Cache {
            conn,
            path: None,
            read_only: false,
        };
        cache.prepare(BUSY_TIMEOUT)?;
        Ok(cache)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Entries are read but not added: [`Cache::put`] and [`Cache::put_many`] do nothing, and
    /// [`Cache::clear`] fails.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn get(&self, key: &CacheKey) -> Result<Option<Entry>, CacheError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT text, literal, notes, pass, backend, model, source, terms
                 FROM entries WHERE key = ?1",
            )
            .map_err(|e| self.error(e))?;
        let row = stmt
            .query_row([&key.as_bytes()[..]], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, Option<String>>(7)?,
                ))
            })
            .optional();
        let (text, literal, notes, pass, backend, model, source, terms) = match row {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            // A row of the wrong shape (edited by hand, say) is a miss; the next put replaces it.
            Err(
                rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::FromSqlConversionFailure(..),
            ) => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let Ok(notes) = serde_json::from_str(&notes) else {
            return Ok(None);
        };
        let terms = match terms {
            None => Vec::new(),
            Some(terms) => match serde_json::from_str(&terms) {
                Ok(terms) => terms,
                Err(_) => return Ok(None),
            },
        };
        Ok(Some(Entry {
            text,
            literal,
            notes,
            pass,
            backend,
            model,
            source,
            terms,
        }))
    }

    /// Inserts or replaces one entry (nothing, when read-only).
    pub fn put(&self, key: &CacheKey, entry: &Entry) -> Result<(), CacheError> {
        if self.read_only {
            return Ok(());
        }
        self.insert(key, entry, unix_now())
    }

    /// Inserts or replaces many entries in one transaction (all or none; none when read-only).
    pub fn put_many(&self, items: &[(CacheKey, Entry)]) -> Result<(), CacheError> {
        if self.read_only {
            return Ok(());
        }
        // IMMEDIATE takes the write lock up front, so a busy database waits in the busy handler
        // instead of failing halfway when a read lock cannot be upgraded.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        let now = unix_now();
        for (key, entry) in items {
            self.insert(key, entry, now)?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    pub fn stats(&self) -> Result<Stats, CacheError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT pass, backend, COUNT(*) FROM entries
                 GROUP BY pass, backend ORDER BY pass, backend",
            )
            .map_err(|e| self.error(e))?;
        let by_pass = stmt
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get::<_, i64>(2)?.max(0) as u64,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<(String, String, u64)>, _>>())
            .map_err(|e| self.error(e))?;
        Ok(Stats {
            entries: by_pass.iter().map(|(_, _, n)| n).sum(),
            bytes: self.bytes()?,
            path: self.display_path().to_owned(),
            by_pass,
        })
    }

    /// Where the refine round took a paragraph with German `german` that first read `english`:
    /// the decision entry whose text it ended with, following one decision per round; `None`
    /// when no round changed it (never sent back, or the first text kept).
    pub fn refined(&self, german: &str, english: &str) -> Result<Option<Entry>, CacheError> {
        let mut last: Option<Entry> = None;
        // At most three rounds; a few more steps in case of a chain from several runs.
        for _ in 0..8 {
            let text = last.as_ref().map_or(english, |e| e.text.as_str());
            match self.get(&CacheKey::refined(german, text))? {
                // A kept first text may have been made straight after the cache: the same.
                Some(next) if folded(&next.text) != folded(text) => last = Some(next),
                _ => break,
            }
        }
        Ok(last)
    }

    /// Every entry of `pass`, oldest first, as a translation memory wants it; `each` returns
    /// whether to go on. Rows of the wrong shape are skipped, as [`Cache::get`] misses them.
    pub fn each_of_pass(
        &self,
        pass: &str,
        mut each: impl FnMut(Exported) -> bool,
    ) -> Result<(), CacheError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, text, backend, model, created_at FROM entries
                 WHERE pass = ?1 ORDER BY created_at, source, key",
            )
            .map_err(|e| self.error(e))?;
        let mut rows = stmt.query([pass]).map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let read = (|| {
                Ok::<_, rusqlite::Error>(Exported {
                    source: row.get(0)?,
                    text: row.get(1)?,
                    backend: row.get(2)?,
                    model: row.get(3)?,
                    created_at: row.get(4)?,
                })
            })();
            let Ok(entry) = read else { continue };
            if !each(entry) {
                break;
            }
        }
        Ok(())
    }

    /// Removes every entry and gives the space back; returns the number of rows removed.
    pub fn clear(&self) -> Result<u64, CacheError> {
        if self.read_only {
            return Err(CacheError::ReadOnly {
                path: self.display_path().to_owned(),
            });
        }
        let removed = self
            .conn
            .execute("DELETE FROM entries", [])
            .map_err(|e| self.error(e))?;
        self.conn
            .execute_batch("VACUUM")
            .map_err(|e| self.error(e))?;
        if self.path.is_some() {
            // Empty the write-ahead log too, so the space shows up as freed right away.
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|e| self.error(e))?;
        }
        Ok(removed as u64)
    }

    /// Checks the schema version and creates or recreates the table when needed. Reads first and
    /// writes only when something must change, so opening never waits for another run's lock.
    fn prepare(&self, busy: Duration) -> Result<(), CacheError> {
        self.conn.busy_timeout(busy).map_err(|e| self.error(e))?;
        // The first read of the file: a file that is not SQLite fails here as NOTADB.
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.error(e))?;
        if found > SCHEMA_VERSION {
            return Err(CacheError::NewerVersion {
                path: self.display_path().to_owned(),
                found,
            });
        }
        if self.read_only {
            // Nothing to set up, and nothing that may be: an older file holds no usable entry.
            if found < SCHEMA_VERSION {
                return Err(CacheError::ReadOnly {
                    path: self.display_path().to_owned(),
                });
            }
            return Ok(());
        }
        if self.path.is_some() {
            // WAL lets one run read while another writes; the mode is stored in the file. Where
            // the file system cannot do WAL, SQLite keeps its old mode, which is fine too.
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
                .map_err(|e| self.error(e))?;
            // In WAL mode NORMAL never corrupts the file; a power cut may lose the last few
            // entries, which a re-run simply fetches again. Saves an fsync per batch.
            self.conn
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| self.error(e))?;
        }
        // A small page cache: lookups are by key, and memory must not grow with the corpus.
        self.conn
            .pragma_update(None, "cache_size", -256)
            .map_err(|e| self.error(e))?;
        if found < SCHEMA_VERSION {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                    .map_err(|e| self.error(e))?;
            // Another run may have upgraded the file while this one waited for the lock.
            let found: i64 = tx
                .pragma_query_value(None, "user_version", |row| row.get(0))
                .map_err(|e| self.error(e))?;
            if found < SCHEMA_VERSION {
                let change = if found == 1 { ADD_TERMS } else { SCHEMA };
                tx.execute_batch(change).map_err(|e| self.error(e))?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                    .map_err(|e| self.error(e))?;
            }
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    fn insert(&self, key: &CacheKey, entry: &Entry, created_at: i64) -> Result<(), CacheError> {
        let notes = serde_json::to_string(&entry.notes).expect("a list of strings serializes");
        let terms = (!entry.terms.is_empty())
            .then(|| serde_json::to_string(&entry.terms).expect("a list of terms serializes"));
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO entries
                 (key, text, literal, notes, pass, backend, model, source, created_at, terms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(|e| self.error(e))?;
        stmt.execute(params![
            &key.as_bytes()[..],
            entry.text,
            entry.literal,
            notes,
            entry.pass,
            entry.backend,
            entry.model,
            entry.source,
            created_at,
            terms,
        ])
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    fn bytes(&self) -> Result<u64, CacheError> {
        let Some(path) = &self.path else {
            let pages: i64 = self
                .conn
                .pragma_query_value(None, "page_count", |row| row.get(0))
                .map_err(|e| self.error(e))?;
            let size: i64 = self
                .conn
                .pragma_query_value(None, "page_size", |row| row.get(0))
                .map_err(|e| self.error(e))?;
            return Ok((pages.max(0) * size.max(0)) as u64);
        };
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let mut total = 0;
        for file in [path.as_path(), Path::new(&wal)] {
            match std::fs::metadata(file) {
                Ok(meta) => total += meta.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CacheError::Io {
                        path: file.to_owned(),
                        source,
                    });
                }
            }
        }
        Ok(total)
    }

    fn display_path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(":memory:"))
    }

    fn error(&self, source: rusqlite::Error) -> CacheError {
        CacheError::from_sqlite(self.display_path(), source)
    }
}

/// `path` as the path of an SQLite `file:` URI: characters with a meaning there escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '?' | '#' | '%' => out.push_str(&format!("%{:02X}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out
}

/// Now, in seconds since 1970 (0 for a clock before it).
pub fn unix_now() -> i64 {
    // A clock before 1970 is not worth an error: created_at is informational.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
