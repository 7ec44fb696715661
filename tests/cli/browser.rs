//! The HTML report in a real browser: Debian's headless chromium loads a report of the samples
//! at a wide and a narrow window, and a measuring script (added to this test's copy only)
//! checks that nothing scrolls sideways and that, side by side, each band of a pair's sentences
//! starts on the same line in every column.
//! Without `/usr/bin/chromium` it fails under CI and skips, saying so, elsewhere
//! ([`crate::common::have`]).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use klartext::diff::{DiffOptions, diff_document};
use klartext::render::report::{Langs, ReportInput, html};
use klartext::render::{Note, NoteLevel};
use klartext::segment::{Format, segment};
use serde_json::Value;

use crate::common::{Tool, have, sample};

const CHROMIUM: Tool = Tool {
    program: "/usr/bin/chromium",
    install: "apt-get install chromium",
};
const LONG_URL: &str = "https://example.org/archiv/2024/wirtschaft/uebernahmen/kestrel-brightforge/pressemitteilung-zur-vollstaendigen-uebernahme-des-unabhaengigen-studios-mit-allen-anhaengen-und-anlagen.html?quelle=newsletter&kampagne=herbst";
const COMPOUND: &str = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellungsbetriebsgenehmigungsverfahren";

/// Runs after the page is laid out: opens every folded run, measures, then appends the verdict.
const MEASURE: &str = r#"<script>
(() => {
  for (const d of document.querySelectorAll("details")) d.open = true;
  const width = window.innerWidth;
  const verdict = {
    width,
    scrollWidth: document.documentElement.scrollWidth,
    sections: 0, columns: 0, rows: 0, misaligned: [], overflowing: [],
  };
  for (const section of document.querySelectorAll("section.pair")) {
    verdict.sections += 1;
    const sides = [...section.querySelectorAll(":scope > .cols > .side")];
    const columns = sides.map((side) => [...side.querySelectorAll(":scope > .cell")]);
    const lefts = new Set(columns.map((cells) => Math.round(cells[0].getBoundingClientRect().left)));
    verdict.columns = Math.max(verdict.columns, lefts.size);
    const rows = Math.max(...columns.map((cells) => cells.length));
    verdict.rows = Math.max(verdict.rows, rows);
    // Side by side, the n-th cells of all columns are one band: they start on the same line.
    for (let row = 0; lefts.size > 1 && row < rows; row++) {
      const tops = new Set(columns.map((cells) => cells[row] && Math.round(cells[row].getBoundingClientRect().top)));
      if (tops.size !== 1) verdict.misaligned.push(`${section.id} row ${row + 1}`);
    }
    for (const box of [...sides, ...columns.flat()]) {
      const rect = box.getBoundingClientRect();
      if (box.scrollWidth > box.clientWidth + 1 || rect.right > width + 0.5) {
        verdict.overflowing.push(section.id);
      }
    }
  }
  const pre = document.createElement("pre");
  pre.id = "verdict";
  pre.textContent = JSON.stringify(verdict);
  document.body.appendChild(pre);
})();
</script>
"#;

/// Paragraphs of all samples, in order, segmented by each file's format.
fn sample_paragraphs() -> Vec<String> {
    let mut paragraphs = Vec::new();
    for name in ["tech-news.de.txt", "interview.de.txt", "cloud-report.de.md"] {
        let path = sample(name);
        let text = std::fs::read_to_string(&path).expect("sample is readable UTF-8");
        let segmented = segment(&text, Format::from_path(&path));
        paragraphs.extend(segmented.segments().map(|s| s.text(&text).to_owned()));
    }
    paragraphs
}

/// A light copy edit, as a reviewer would make it.
fn edit(paragraph: &str) -> String {
    paragraph
        .replace(",,", ",")
        .replace("..", ".")
        .replace("Wolke", "Cloud")
        .replace("am hinteren Fuß", "im Hintertreffen")
        .replace("-und ", "- und ")
        .replace("das.NET", "das .NET")
        .replace("2024", "2025")
}

fn report() -> (String, usize) {
    let mut old = sample_paragraphs();
    old.push(format!(
        "Die vollständige Mitteilung steht unter {LONG_URL} und nennt den {COMPOUND} ausdrücklich."
    ));
    let mut new: Vec<String> = old.iter().map(|p| edit(p)).collect();
    if let Some(last) = new.last_mut() {
        *last = last
            .replace("herbst", "winter")
            .replace("ausdrücklich", "namentlich");
    }
    new.push("Ein neuer Schlussabsatz fasst den Bericht zusammen.".to_owned());
    let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
    let new_refs: Vec<&str> = new.iter().map(String::as_str).collect();
    let diff = diff_document(&old_refs, &new_refs, &DiffOptions::default());
    let source = old.clone();
    let mut notes = vec![Vec::new(); diff.pairs.len()];
    notes[1].push(Note {
        level: NoteLevel::Warning,
        text: "idiom: „am hinteren Fuß“ means on the back foot".to_owned(),
    });
    notes[old.len() - 1].push(Note {
        level: NoteLevel::Error,
        text: format!("link changed: {LONG_URL}"),
    });
    let input = ReportInput {
        source: Some(("Deutsch (Quelle)", &source)),
        notes: &notes,
        langs: Langs {
            old: Some("de"),
            new: Some("de"),
            source: Some("de"),
        },
        ..ReportInput::new(&diff, ("entwurf.txt", "lektoriert.txt"), "klartext test")
    };
    let mut page = Vec::new();
    html(&input, &mut page).expect("writing to a Vec cannot fail");
    let page = String::from_utf8(page).expect("the page is UTF-8");
    (page, diff.pairs.len())
}

/// Loads `page` at `width`×900 and returns the measuring script's verdict.
fn measure(dir: &Path, page: &Path, width: u32) -> Value {
    let profile = tempfile::tempdir_in(dir).expect("profile folder");
    let dom = dir.join(format!("dom-{width}.html"));
    let log = dir.join(format!("chromium-{width}.log"));
    let mut child = Command::new(CHROMIUM.program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},900"))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .env("HOME", profile.path())
        .env("XDG_CONFIG_HOME", profile.path())
        .env("XDG_CACHE_HOME", profile.path())
        .stdin(Stdio::null())
        .stdout(File::create(&dom).expect("DOM file"))
        .stderr(File::create(&log).expect("log file"))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            // Only our own child, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s at width {width}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dumped = std::fs::read_to_string(&dom).unwrap_or_default();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "chromium failed at {width}: {stderr}");
    let verdict = dumped
        .split_once("<pre id=\"verdict\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(json, _)| {
            json.replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .unwrap_or_else(|| panic!("no verdict in the DOM at {width}: {stderr}"));
    serde_json::from_str(&verdict).expect("the verdict is JSON")
}

#[test]
fn report_wraps_and_lines_up_in_chromium() {
    if !have(&CHROMIUM) {
        return;
    }
    let (page, pairs) = report();
    assert!(!page.contains("<script"), "html() itself adds no script");
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("report.html");
    let at = page.rfind("</body>").expect("the page has a body");
    let measured = format!("{}{MEASURE}{}", &page[..at], &page[at..]);
    std::fs::write(&path, measured).expect("write the page");

    for (width, columns) in [(1280, 3), (600, 1)] {
        let verdict = measure(dir.path(), &path, width);
        println!("chromium at {width}×900: {verdict}");
        assert_eq!(verdict["sections"], pairs, "{verdict}");
        assert_eq!(verdict["columns"], columns, "grid at {width}: {verdict}");
        let rows = verdict["rows"].as_u64().expect("rows");
        assert!(
            rows > 1,
            "some pair has several bands of sentences: {verdict}"
        );
        let scroll = verdict["scrollWidth"].as_u64().expect("scrollWidth");
        let inner = verdict["width"].as_u64().expect("width");
        assert!(scroll <= inner, "sideways scrolling at {width}: {verdict}");
        assert_eq!(
            verdict["overflowing"],
            Value::Array(Vec::new()),
            "{verdict}"
        );
        assert_eq!(verdict["misaligned"], Value::Array(Vec::new()), "{verdict}");
    }
}
