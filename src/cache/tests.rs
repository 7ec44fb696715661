use std::time::Instant;

use serde_json::json;

use super::*;

fn entry(pass: &str, backend: &str, text: &str) -> Entry {
    Entry {
        text: text.into(),
        literal: Some("The report became yesterday published.".into()),
        notes: vec!["\"Bericht\" read as report".into()],
        pass: pass.into(),
        backend: backend.into(),
        model: "model-a".into(),
        source: "Der Bericht wurde gestern veröffentlicht.".into(),
        terms: Vec::new(),
    }
}

fn key(source: &str) -> CacheKey {
    let params = json!({"target": "en-GB"});
    CacheKey::new(&KeyParts {
        pass: "restore",
        backend: "openai",
        kind: "openai",
        model: "model-a",
        prompt_hash: "p1",
        params: &params,
        source,
    })
}

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join(Cache::FILE_NAME)).expect("test database opens")
}

#[test]
fn put_then_get_round_trips_and_misses_are_none() {
    let cache = Cache::open_in_memory().unwrap();
    let e = entry("restore", "openai", "The report was published yesterday.");
    assert_eq!(cache.get(&key("a")).unwrap(), None);
    cache.put(&key("a"), &e).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));
    assert_eq!(cache.get(&key("b")).unwrap(), None);
    assert_eq!(cache.path(), None);
}

#[test]
fn put_replaces_an_entry() {
    let cache = Cache::open_in_memory().unwrap();
    cache
        .put(&key("a"), &entry("restore", "openai", "first"))
        .unwrap();
    let second = Entry {
        literal: None,
        notes: vec![],
        ..entry("restore", "openai", "second")
    };
    cache.put(&key("a"), &second).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), Some(second));
    assert_eq!(cache.stats().unwrap().entries, 1);
}

#[test]
fn entries_survive_reopening_and_carry_a_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("nested/cache");
    let e = entry("draft", "deepl", "The report was published yesterday.");
    {
        let cache = Cache::open(&folder).unwrap();
        assert_eq!(cache.path(), Some(folder.join(Cache::FILE_NAME).as_path()));
        cache.put(&key("a"), &e).unwrap();
    }
    let cache = Cache::open(&folder).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));

    let (created_at, key_len): (i64, i64) = raw(&folder)
        .query_row("SELECT created_at, length(key) FROM entries", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(created_at > 1_700_000_000, "created_at {created_at}");
    assert_eq!(key_len, 32);
}

#[test]
fn put_many_stores_all_and_stats_count_by_pass_and_backend() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let items = vec![
        (key("1"), entry("restore", "openai", "one")),
        (key("2"), entry("restore", "openai", "two")),
        (key("3"), entry("draft", "deepl", "three")),
        (key("4"), entry("restore", "anthropic", "four")),
    ];
    cache.put_many(&items).unwrap();
    for (k, e) in &items {
        assert_eq!(cache.get(k).unwrap().as_ref(), Some(e));
    }
    let stats = cache.stats().unwrap();
    assert_eq!(stats.entries, 4);
    assert_eq!(stats.path, dir.path().join(Cache::FILE_NAME));
    assert!(stats.bytes > 0);
    assert_eq!(
        stats.by_pass,
        [
            ("draft".into(), "deepl".into(), 1),
            ("restore".into(), "anthropic".into(), 1),
            ("restore".into(), "openai".into(), 2),
        ]
    );
}

#[test]
fn clear_removes_everything_and_reports_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let items: Vec<_> = (0..50)
        .map(|i| {
            (
                key(&i.to_string()),
                entry("restore", "openai", &"x".repeat(500)),
            )
        })
        .collect();
    cache.put_many(&items).unwrap();
    let before = cache.stats().unwrap().bytes;
    assert_eq!(cache.clear().unwrap(), 50);
    let after = cache.stats().unwrap();
    assert_eq!((after.entries, after.by_pass.len()), (0, 0));
    assert!(after.bytes < before, "{} !< {before}", after.bytes);
    assert_eq!(cache.get(&key("0")).unwrap(), None);
    assert_eq!(cache.clear().unwrap(), 0);
}

#[test]
fn garbage_file_is_corrupt_named_and_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(Cache::FILE_NAME);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &garbage).unwrap();

    let err = Cache::open(dir.path())
        .err()
        .expect("garbage must not open");
    assert!(
        matches!(&err, CacheError::Corrupt { path } if *path == file),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("not a database"), "{message}");
    assert!(err.hint().unwrap().contains("--no-cache"));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        garbage,
        "the cache must never delete it"
    );
}

#[test]
fn a_held_write_lock_reports_locked_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open_with_timeout(dir.path(), Duration::from_millis(100)).unwrap();
    cache
        .put(&key("a"), &entry("restore", "openai", "one"))
        .unwrap();

    let other = raw(dir.path());
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    other
        .execute(
            "DELETE FROM entries WHERE key = ?1",
            [&key("b").as_bytes()[..]],
        )
        .unwrap();

    // Opening and reading still work while another run writes (WAL).
    let second = Cache::open_with_timeout(dir.path(), Duration::from_millis(100)).unwrap();
    assert!(second.get(&key("a")).unwrap().is_some());

    let started = Instant::now();
    let err = cache
        .put(&key("b"), &entry("restore", "openai", "two"))
        .unwrap_err();
    assert!(matches!(err, CacheError::Locked { .. }), "{err:?}");
    let err = cache
        .put_many(&[(key("c"), entry("restore", "openai", "three"))])
        .unwrap_err();
    assert!(matches!(err, CacheError::Locked { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("locked"));
    assert!(err.hint().unwrap().contains("another klartext run"));

    other.execute_batch("COMMIT").unwrap();
    cache
        .put(&key("b"), &entry("restore", "openai", "two"))
        .unwrap();
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Cache::open(dir.path()).unwrap());
    raw(dir.path())
        .pragma_update(None, "user_version", 7)
        .unwrap();
    let err = Cache::open(dir.path())
        .err()
        .expect("newer schema must not open");
    assert!(
        matches!(err, CacheError::NewerVersion { found: 7, .. }),
        "{err:?}"
    );
    assert!(err.hint().is_some());
}

#[test]
fn an_older_schema_is_recreated() {
    let dir = tempfile::tempdir().unwrap();
    raw(dir.path())
        .execute_batch(
            "CREATE TABLE entries (key TEXT PRIMARY KEY, value TEXT);
             INSERT INTO entries VALUES ('k', 'v');",
        )
        .unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    assert_eq!(cache.stats().unwrap().entries, 0);
    let e = entry("restore", "openai", "one");
    cache.put(&key("a"), &e).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));
    let version: i64 = raw(dir.path())
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_row_that_no_longer_decodes_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    cache
        .put(&key("a"), &entry("restore", "openai", "one"))
        .unwrap();
    cache
        .put(&key("b"), &entry("restore", "openai", "two"))
        .unwrap();
    let conn = raw(dir.path());
    conn.execute(
        "UPDATE entries SET notes = 'not json' WHERE key = ?1",
        [&key("a").as_bytes()[..]],
    )
    .unwrap();
    conn.execute(
        "UPDATE entries SET text = x'00ff' WHERE key = ?1",
        [&key("b").as_bytes()[..]],
    )
    .unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), None);
    assert_eq!(cache.get(&key("b")).unwrap(), None);
}

#[test]
fn a_folder_that_cannot_be_created_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let err = Cache::open(&blocker.join("cache"))
        .err()
        .expect("must fail");
    assert!(matches!(err, CacheError::Io { .. }), "{err:?}");
}

#[test]
fn a_read_only_cache_reads_and_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = entry("restore", "openai", "one");
    drop({
        let cache = Cache::open(dir.path()).unwrap();
        cache.put(&key("a"), &e).unwrap();
        cache
    });
    let file = dir.path().join(Cache::FILE_NAME);
    let before = std::fs::read(&file).unwrap();
    let cache = Cache::open_file(&file, Access::ReadOnly, BUSY_TIMEOUT).unwrap();
    assert!(cache.is_read_only());
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));
    cache
        .put(&key("b"), &entry("restore", "openai", "two"))
        .unwrap();
    cache
        .put_many(&[(key("c"), entry("restore", "openai", "three"))])
        .unwrap();
    assert_eq!(cache.get(&key("b")).unwrap(), None, "not added");
    assert_eq!(cache.stats().unwrap().entries, 1);
    let err = cache.clear().unwrap_err();
    assert!(matches!(err, CacheError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    drop(cache);
    assert_eq!(std::fs::read(&file).unwrap(), before, "left as it was");
}

#[test]
fn a_read_only_cache_without_its_shared_memory_file_is_read_as_unchanging() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("odd ?#% name");
    let e = entry("restore", "openai", "one");
    Cache::open(&folder).unwrap().put(&key("a"), &e).unwrap();
    let file = folder.join(Cache::FILE_NAME);
    let cache = Cache::open_immutable(&file, BUSY_TIMEOUT).unwrap();
    assert!(cache.is_read_only());
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));
}

#[test]
fn terms_round_trip() {
    let cache = Cache::open_in_memory().unwrap();
    let e = Entry {
        terms: vec![Term::new("Kopilot", "Copilot")],
        ..entry("restore", "openai", "Copilot helps.")
    };
    cache.put(&key("a"), &e).unwrap();
    assert_eq!(cache.get(&key("a")).unwrap(), Some(e));
}

#[test]
fn a_version_1_file_keeps_its_entries_and_gains_terms() {
    let dir = tempfile::tempdir().unwrap();
    let conn = raw(dir.path());
    conn.execute_batch(
        "CREATE TABLE entries (
            key BLOB PRIMARY KEY NOT NULL, text TEXT NOT NULL, literal TEXT, notes TEXT NOT NULL,
            pass TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL, source TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        PRAGMA user_version = 1;",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO entries VALUES (?1, 'A draft.', NULL, '[]', 'draft', 'deepl', '', 'Ein Entwurf.', 1)",
        [&key("a").as_bytes()[..]],
    )
    .unwrap();
    drop(conn);
    let cache = Cache::open(dir.path()).unwrap();
    let kept = cache
        .get(&key("a"))
        .unwrap()
        .expect("the old entry is kept");
    assert_eq!((kept.text.as_str(), kept.terms.len()), ("A draft.", 0));
    let e = Entry {
        terms: vec![Term::new("Der Rand", "The Verge")],
        ..entry("restore", "openai", "The Verge reports.")
    };
    cache.put(&key("b"), &e).unwrap();
    assert_eq!(cache.get(&key("b")).unwrap(), Some(e));
    let version: i64 = raw(dir.path())
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn each_of_pass_lists_one_pass_oldest_first_and_stops_when_told() {
    let cache = Cache::open_in_memory().unwrap();
    cache
        .put(&key("a"), &entry("draft", "deepl", "The report became."))
        .unwrap();
    cache
        .put(
            &key("b"),
            &entry("restore", "openai", "The report was published."),
        )
        .unwrap();
    let mut seen = Vec::new();
    cache
        .each_of_pass("restore", |e| {
            seen.push(e);
            true
        })
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].text, "The report was published.");
    assert_eq!(seen[0].source, "Der Bericht wurde gestern veröffentlicht.");
    assert_eq!(
        (seen[0].backend.as_str(), seen[0].model.as_str()),
        ("openai", "model-a")
    );
    assert!(seen[0].created_at > 0);
    let mut calls = 0;
    cache
        .each_of_pass("draft", |_| {
            calls += 1;
            false
        })
        .unwrap();
    assert_eq!(calls, 1);
}

#[test]
fn refine_decisions_chain_to_the_final_english_whatever_the_quotes() {
    let cache = Cache::open_in_memory().unwrap();
    let german = "Er sagte „4 Billionen“.";
    let decide = |before: &str, kept: &str| {
        cache
            .put(
                &CacheKey::refined(german, before),
                &Entry {
                    source: german.into(),
                    ..entry(REFINED, "openai", kept)
                },
            )
            .unwrap();
    };
    let first = "He said “4 billion”.";
    assert_eq!(cache.refined(german, first).unwrap(), None, "never refined");
    // Round one went back with the text made straight (`quotes = "straight"`).
    decide("He said \"4 billion\".", "He said “4 trillion” and more.");
    decide("He said “4 trillion” and more.", "He said “4 trillion”.");
    let last = cache.refined(german, first).unwrap().expect("refined");
    assert_eq!(last.text, "He said “4 trillion”.");
    // A kept first version (made straight) is no change.
    let other = "He said “four billion”.";
    decide("He said \"four billion\".", "He said \"four billion\".");
    assert_eq!(cache.refined(german, other).unwrap(), None);
}
