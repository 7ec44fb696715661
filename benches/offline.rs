//! Offline `fix` on a 1 MB German text: decode → segment → repair → diff → render, timed per
//! stage; then `klartext diff` of two 1 MB versions and `klartext review` of a 1 MB output.
//! Run with `cargo bench --bench offline`; prints figures, asserts nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use klartext::diff::{DiffOptions, diff_by_index, diff_document};
use klartext::files;
use klartext::render::{self, ColorMode, Layout, RenderOptions};
use klartext::repair;
use klartext::review::{self, Decisions, Doc, Paragraph, Record, Review, Theme, screen};
use klartext::segment::Format;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Paragraphs in the style of a bad machine translation, with the defects `repair` fixes.
const PARAGRAPHS: [&str; 4] = [
    "Der Vorstand erklärte:”Wir werden die Preise  nicht erhöhen.”Danach endete die Sitzung. Die Bewertung von 4 Billionen US-Dollar bleibt ein Ziel.",
    "Die Ära eines einfachen Hardware-und Software-Duopols geht zu Ende, und wir liefern Modelle können-wir haben keine eigenen.",
    "Das Team migriert das.NET Framework auf neue Server,, und die Kunden warten auf „Ergebnisse”. Die Größe der Rechenzentren wächst weiter.",
    "Ein ganz gewöhnlicher Absatz ohne Fehler, der nur zeigt, wie sauberer Text durch die Regeln läuft – ohne dass eine davon feuert.",
];

fn corpus(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 512);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(PARAGRAPHS[i % PARAGRAPHS.len()]);
        text.push_str("\n\n");
        i += 1;
    }
    text
}

/// A second version of `old`: every 7th paragraph deleted, every 11th edited, every 13th split
/// in two, and a new paragraph after every 17th.
fn edited_version(old: &[&str]) -> Vec<String> {
    let mut new = Vec::with_capacity(old.len() + old.len() / 10);
    for (i, p) in old.iter().enumerate() {
        match i {
            i if i % 7 == 3 => {}
            i if i % 11 == 5 => new.push(p.replace("Die ", "Diese ")),
            i if i % 13 == 8 => match p.split_once(". ") {
                Some((a, b)) => {
                    new.push(format!("{a}."));
                    new.push(b.to_owned());
                }
                None => new.push((*p).to_owned()),
            },
            _ => new.push((*p).to_owned()),
        }
        if i % 17 == 16 {
            new.push(format!(
                "Ein neu eingefügter Absatz Nummer {i} ohne Gegenstück."
            ));
        }
    }
    new
}

/// A review record of `old` as drafts, each with a corrected version (two words changed in
/// every other paragraph).
fn review_record(old: &[&str]) -> Record {
    let paragraphs: Vec<Paragraph> = old
        .iter()
        .enumerate()
        .map(|(i, old)| Paragraph {
            id: klartext::segment::SegmentId(i),
            german: (*old).to_owned(),
            repaired: None,
            repairs: Vec::new(),
            protected: Vec::new(),
            old: Some((*old).to_owned()),
            new: if i % 2 == 0 {
                old.replacen("Die ", "Diese ", 1)
                    .replacen(" und ", " sowie ", 1)
            } else {
                (*old).to_owned()
            },
            notes: Vec::new(),
            findings: Vec::new(),
        })
        .collect();
    let mut blocks = vec![String::new()];
    blocks.extend((1..paragraphs.len()).map(|_| "\n\n".to_owned()));
    blocks.push("\n".to_owned());
    Record {
        schema: klartext::review::record::RECORD_SCHEMA.to_owned(),
        input: "bench.de.txt".into(),
        output: "bench.en.txt".into(),
        encoding: files::TextEncoding::Utf8 { bom: false },
        line_ending: files::LineEnding::Lf,
        titles: ("draft".into(), "final".into()),
        to: "en".into(),
        blocks,
        paragraphs,
    }
}

fn time<T>(label: &str, runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "{label:<28} median {:>8.1} ms   min {:>8.1} ms",
        median.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3
    );
    median
}

fn main() {
    let text = corpus(1 << 20);
    let bytes = text.as_bytes().to_vec();
    let paragraphs = text.matches("\n\n").count();
    println!(
        "offline fix of {:.2} MB German ({paragraphs} paragraphs), 7 runs each",
        bytes.len() as f64 / 1e6
    );
    let opts = RenderOptions {
        width: 100,
        layout: Layout::SideBySide,
        color: ColorMode::Plain,
        titles: ("source".into(), "repaired".into()),
        context: Some(0),
        source: None,
        source_repairs: Vec::new(),
        notes: Vec::new(),
    };
    let runs = 7;
    time("decode", runs, || files::decode(&bytes));
    time("segment + repair", runs, || {
        repair::repair_document(&text, Format::Plain)
    });
    let doc = repair::repair_document(&text, Format::Plain);
    time("diff", runs, || repair_diff(&doc, &text));
    let diff = repair_diff(&doc, &text);
    time("render (side-by-side, 100)", runs, || {
        let mut sink = Vec::with_capacity(4 << 20);
        render::render_diff(&diff, &opts, &mut sink).expect("render to memory");
        sink
    });
    // `klartext diff` of two arbitrary versions: paragraphs aligned by content across deletions,
    // insertions, splits and edits (the costly path; `fix` pairs its own paragraphs by index).
    // Numbered, so that most paragraphs are unique as in a real document.
    let numbered: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, p)| format!("Absatz {i}: {p}"))
        .collect();
    let old: Vec<&str> = numbered.iter().map(String::as_str).collect();
    let edited = edited_version(&old);
    let new: Vec<&str> = edited.iter().map(String::as_str).collect();
    time("diff (aligned by content)", runs, || {
        diff_document(&old, &new, &DiffOptions::default())
    });
    let aligned = diff_document(&old, &new, &DiffOptions::default());
    time("render aligned (s-b-s, 100)", runs, || {
        let mut sink = Vec::with_capacity(4 << 20);
        render::render_diff(&aligned, &opts, &mut sink).expect("render to memory");
        sink
    });
    // `klartext review` of the same pair as one output: load (diff every paragraph), restore,
    // and draw one 200×50 screen.
    let record = review_record(&old);
    let on_disk = record.as_written();
    time("review: open + first screen", runs, || {
        let doc = Doc::new(
            "bench.en.txt".into(),
            record.clone(),
            &Decisions::new("bench.en.txt"),
            on_disk.clone(),
        );
        let review = Review::new(vec![doc], (200, 50), screen::extent);
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
        terminal
            .draw(|frame| review::draw(frame, &review, Theme { color: true }))
            .expect("draws");
        review.len()
    });
    let reviewed = Doc::new(
        "bench.en.txt".into(),
        record.clone(),
        &Decisions::new("bench.en.txt"),
        on_disk,
    );
    let opened = Review::new(vec![reviewed], (200, 50), screen::extent);
    let keys = 100;
    let per_keys = time("review: 100 decisions + draws", runs, || {
        let mut review = opened.clone();
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
        for _ in 0..keys {
            review::keys::press(
                &mut review,
                KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE),
            );
            terminal
                .draw(|frame| review::draw(frame, &review, Theme { color: true }))
                .expect("draws");
        }
        review.counts().accepted
    });
    println!(
        "review: {:.2} ms per key (decide and redraw; saving the decisions file not included), {} paragraphs to review",
        per_keys.as_secs_f64() * 1e3 / keys as f64,
        opened.len()
    );
    let total = time("total", runs, || {
        let decoded = files::decode(&bytes).expect("decodes");
        let doc = repair::repair_document(&decoded.text, Format::Plain);
        let diff = repair_diff(&doc, &decoded.text);
        let mut sink = Vec::with_capacity(4 << 20);
        render::render_diff(&diff, &opts, &mut sink).expect("render to memory");
        render::render_repairs(&doc.segments, &decoded.text, &opts, &mut sink)
            .expect("render to memory");
        sink.len()
    });
    println!(
        "repairs: {}, flags: {}; total {:.0} ms per MB",
        doc.repair_count(),
        doc.flag_count(),
        total.as_secs_f64() * 1e3 / (bytes.len() as f64 / (1 << 20) as f64)
    );
}

/// The diff `fix` shows offline: each paragraph as read against as repaired.
fn repair_diff(doc: &repair::RepairedDocument, source: &str) -> klartext::diff::DocumentDiff {
    let (old, new) = doc.sides(source);
    diff_by_index(&old, &new, &DiffOptions::default())
}
