//! Verify judged on real text (`tests/data/real/`): public machine-translated German pages
//! with their human English originals, and restorations of the same German written through
//! klartext's restore prompt. Nobody planted errors in them, so every error-level finding is
//! a false alarm. The table is printed on every `cargo test`; the bounds: no error on the
//! human originals or on the restorations, at most one warning per three pairs.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::*;
use crate::segment::{self, Format};

/// At least this many pairs, as issue 13 asks.
const MIN_PAIRS: usize = 15;

/// One restored paragraph, as `fix --json` reports it (`segments[]`).
#[derive(Deserialize)]
struct Restored {
    source: String,
    final_text: Option<String>,
    draft: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
struct RestoredFile {
    segments: Vec<Restored>,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    errors: usize,
    warnings: usize,
    infos: usize,
    /// The model's own doubts in its notes: shown to the reader, not verify's alarms.
    doubts: usize,
}

impl Tally {
    fn add(&mut self, findings: &[Finding], what: &str, log: &mut Vec<String>) {
        for f in findings {
            match f.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
            if f.severity > Severity::Info {
                log.push(format!(
                    "{what} {:?} {}/{}: {}",
                    f.segment.map(SegmentId::paragraph),
                    f.check.id(),
                    f.rule,
                    f.message
                ));
            }
        }
    }

    fn cells(self) -> String {
        format!("{:>3} {:>3} {:>3}", self.errors, self.warnings, self.infos)
    }

    fn with_doubts(self) -> String {
        format!("{} {:>6}", self.cells(), self.doubts)
    }
}

fn real_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/real")
}

fn paragraphs(text: &str) -> Vec<(String, Vec<std::ops::Range<usize>>)> {
    segment::segment(text, Format::Plain)
        .segments()
        .map(|s| (s.text(text).to_owned(), s.protected.clone()))
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The human original against the German, as `check SOURCE TRANSLATION` runs it.
fn human(dir: &Path, log: &mut Vec<String>) -> (usize, usize, Tally) {
    let german = paragraphs(&read(&dir.join("de.txt")));
    let english = paragraphs(&read(&dir.join("en.txt")));
    let source: Vec<Paragraph> = german
        .iter()
        .map(|(text, protected)| Paragraph { text, protected })
        .collect();
    let output: Vec<&str> = english.iter().map(|(t, _)| t.as_str()).collect();
    let findings = verify_document(&source, &output, Lang::En, None);
    let mut tally = Tally::default();
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    tally.add(
        &findings,
        &format!("{} human", name.unwrap_or_default()),
        log,
    );
    (german.len(), english.len(), tally)
}

/// A restoration (`restored.json`, the `segments` of `fix --json`) against its German, as the
/// pipeline's verify runs it: with the draft and the model's notes.
fn restored(dir: &Path, log: &mut Vec<String>) -> Option<Tally> {
    let path = dir.join("restored.json");
    if !path.exists() {
        return None;
    }
    let file: RestoredFile =
        serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let what = format!("{} restored", name.unwrap_or_default());
    let mut tally = Tally::default();
    for (i, segment) in file.segments.iter().enumerate() {
        let Some(output) = &segment.final_text else {
            continue;
        };
        let id = SegmentId(i);
        let mut findings = verify_source_for_translation(id, &segment.source);
        findings.extend(verify(
            &Pair {
                id,
                source: &segment.source,
                draft: segment.draft.as_deref(),
                output,
                target: Lang::En,
            },
            &Options {
                notes: &segment.notes,
                ..Options::default()
            },
        ));
        // The German's own warnings are about the input, not the restoration.
        findings.retain(|f| f.check != Check::Source);
        tally.add(&findings, &what, log);
        let doubts = model_notes(id, &segment.notes);
        tally.doubts += doubts
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
    }
    Some(tally)
}

#[test]
fn real_pairs_raise_no_false_errors() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(real_dir())
        .expect("tests/data/real is part of the repository")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("de.txt").exists() && p.join("en.txt").exists())
        .collect();
    dirs.sort();
    let mut log = Vec::new();
    let mut table = vec![format!(
        "{:<34} {:>5} {:>5}   human ✗  ⚠  ℹ   restored ✗  ⚠  ℹ  doubts",
        "real pair", "¶ de", "¶ en"
    )];
    let (mut human_total, mut restored_total) = (Tally::default(), Tally::default());
    let mut restorations = 0;
    for dir in &dirs {
        let (de, en, h) = human(dir, &mut log);
        let r = restored(dir, &mut log);
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        table.push(format!(
            "{:<34} {de:>5} {en:>5}   {}        {}",
            name.unwrap_or_default(),
            h.cells(),
            r.map_or_else(|| "  -   -   -      -".to_owned(), Tally::with_doubts)
        ));
        for (total, t) in [(&mut human_total, Some(h)), (&mut restored_total, r)] {
            if let Some(t) = t {
                total.errors += t.errors;
                total.warnings += t.warnings;
                total.infos += t.infos;
                total.doubts += t.doubts;
            }
        }
        restorations += usize::from(r.is_some());
    }
    table.push(format!(
        "{:<34} {:>5} {:>5}   {}        {}   ({} restorations)",
        "total",
        "",
        "",
        human_total.cells(),
        restored_total.with_doubts(),
        restorations
    ));
    // Printed past libtest's capture, so every `cargo test` shows it.
    let _ = writeln!(
        std::io::stderr(),
        "\n{}\n{}",
        table.join("\n"),
        log.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        dirs.len() >= MIN_PAIRS,
        "{} real pairs, at least {MIN_PAIRS} wanted",
        dirs.len()
    );
    assert_eq!(human_total.errors, 0, "false errors on human originals");
    assert_eq!(restored_total.errors, 0, "false errors on restorations");
    assert!(
        human_total.warnings * 3 <= dirs.len(),
        "{} warnings on {} human originals (at most one per three pairs)",
        human_total.warnings,
        dirs.len()
    );
    assert!(
        restored_total.warnings * 3 <= restorations,
        "{} warnings on {restorations} restorations",
        restored_total.warnings
    );
}
