//! Twenty small German articles for the token-economy checks (`--dry-run`'s tokens per
//! paragraph token, the packing test and `benches/tokens.rs`): each 2–6 short paragraphs of
//! 2–3 sentences: one written here with the typical faults of machine-translated English (its
//! company, numbers and year differ in every paragraph, so no two paragraphs are alike), then
//! one or two sentences of the project's own samples (`samples/`). Deterministic.

use std::path::Path;

/// The sentences of the samples, in order: split after `.`, `!` or `?` followed by a space,
/// without headings, short fragments and Markdown lines.
fn sentences(samples: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for name in ["tech-news.de.txt", "interview.de.txt", "cloud-report.de.md"] {
        let text = std::fs::read_to_string(samples.join(name)).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with(['#', '|', '-', '>', '*', '`', '[', '!']) {
                continue;
            }
            let mut rest = line;
            while !rest.is_empty() {
                let end = rest
                    .match_indices(['.', '!', '?'])
                    .map(|(i, _)| i + 1)
                    .find(|&i| rest[i..].starts_with(' ') || i == rest.len())
                    .unwrap_or(rest.len());
                let sentence = rest[..end].trim();
                if sentence.chars().count() >= 40 && !sentence.contains("](") {
                    found.push(sentence.to_owned());
                }
                rest = rest[end..].trim_start();
            }
        }
    }
    found
}

/// Sentences in the manner of machine-translated English news, with the faults klartext
/// repairs (number scale, calques, "als", translated names).
const OPENERS: [&str; 6] = [
    "Die Firma {co} meldete im {q}. Quartal einen Umsatz von {x} Milliarden US-Dollar, als Rivalen aufholen.",
    "{co} ist am hinteren Fuß, nachdem der Kopilot-Dienst im Jahr {y} nur {x} Millionen Nutzer erreichte.",
    "Laut dem Rand will {co} bis {y} rund {x} Billionen Dollar in Rechenzentren investieren.",
    "Der Chef von {co} sagte, das könnte die Schleusen öffnen für {x} neue Partner im {q}. Quartal.",
    "Als {co} im Jahr {y} die Preise um {x} Prozent erhöhte, wechselten viele Kunden zu Openai.",
    "Analysten sagen, dass {co} mit {x} Milliarden Euro Schulden keinen Raum für Fehler hat.",
];

const COMPANIES: [&str; 7] = [
    "Kestrel",
    "Brightforge",
    "Nordlicht Systeme",
    "Velora",
    "Quantix",
    "Halden Cloud",
    "Orbis",
];

/// Article `n` of the folder: `2 + n % 5` paragraphs, each an opener (its values made from
/// `n` and the paragraph) and 1 or 2 consecutive sample sentences.
pub fn article(samples: &Path, n: usize) -> String {
    let all = sentences(samples);
    assert!(all.len() > 20, "the samples have sentences: {}", all.len());
    let mut at = (n * 7) % all.len();
    let mut paragraphs = Vec::new();
    for p in 0..2 + n % 5 {
        let opener = OPENERS[(n + p) % OPENERS.len()]
            .replace("{co}", COMPANIES[(n * 3 + p) % COMPANIES.len()])
            .replace("{q}", &(1 + (n + p) % 4).to_string())
            .replace("{x}", &format!("{},{}", 2 + n, p + 1))
            .replace("{y}", &(2015 + n).to_string());
        let take = 1 + (n + p) % 2;
        let mut paragraph = vec![opener];
        paragraph.extend((0..take).map(|k| all[(at + k) % all.len()].clone()));
        at += take;
        paragraphs.push(paragraph.join(" "));
    }
    paragraphs.join("\n\n") + "\n"
}

/// Write the twenty articles as `DIR/article-NN.de.txt`.
pub fn write_folder(samples: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).expect("folder");
    for n in 0..20 {
        std::fs::write(
            dir.join(format!("article-{n:02}.de.txt")),
            article(samples, n),
        )
        .expect("write");
    }
}
