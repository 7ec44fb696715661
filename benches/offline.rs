//! Offline `fix` on a 1 MB German text: decode → segment → repair → diff → render, timed per
//! stage. Run with `cargo bench --bench offline`; prints figures, asserts nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use klartext::diff::{DiffOptions, diff_document};
use klartext::files;
use klartext::pipeline;
use klartext::render::{self, ColorMode, Layout, RenderOptions};
use klartext::segment::Format;

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
        notes: Vec::new(),
    };
    let runs = 7;
    time("decode", runs, || files::decode(&bytes));
    time("segment + repair", runs, || {
        pipeline::repair_document(&text, Format::Plain)
    });
    let doc = pipeline::repair_document(&text, Format::Plain);
    time("diff", runs, || doc.diff(&text, &DiffOptions::default()));
    let diff = doc.diff(&text, &DiffOptions::default());
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
    let total = time("total", runs, || {
        let decoded = files::decode(&bytes).expect("decodes");
        let doc = pipeline::repair_document(&decoded.text, Format::Plain);
        let diff = doc.diff(&decoded.text, &DiffOptions::default());
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
