//! The HTML report in a real browser: Debian's headless chromium loads a report of the samples
//! at a wide and a narrow window, and a measuring script (added to this test's copy only)
//! checks that nothing scrolls sideways and that, side by side, each band of a pair's sentences
//! starts on the same line in every column. The report of a whole run (50 files of a
//! quota-stopped folder run) is checked the same way, with its summary's statuses and links,
//! and a run of 500 files is timed as it opens.
//! Without `/usr/bin/chromium` it fails under CI and skips, saying so, elsewhere
//! ([`crate::common::have`]).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use klartext::diff::{DiffOptions, DocumentDiff, diff_document};
use klartext::render::report::run::{self, FileRow, FileStatus, RunHead};
use klartext::render::report::{Langs, ReportInput, html};
use klartext::render::{Note, NoteLevel};
use klartext::segment::{Format, segment};
use serde_json::Value;

use crate::batch::run_record;
use crate::common::{TestEnv, Tool, have, sample};
use crate::run_report::{FILES, html_rows, quota_run};

const CHROMIUM: Tool = Tool {
    program: "/usr/bin/chromium",
    install: "apt-get install chromium",
};
const LONG_URL: &str = "https://example.org/archiv/2024/wirtschaft/uebernahmen/kestrel-brightforge/pressemitteilung-zur-vollstaendigen-uebernahme-des-unabhaengigen-studios-mit-allen-anhaengen-und-anlagen.html?quelle=newsletter&kampagne=herbst";
const COMPOUND: &str = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellungsbetriebsgenehmigungsverfahren";

/// Runs after the page is laid out: opens every folded run and measures.
const MEASURE: &str = r#"  for (const d of document.querySelectorAll("details")) d.open = true;
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
"#;

/// Runs once the page is parsed: how long that took, laid out as it opens, in milliseconds
/// since the navigation started, and the number of rows in the summary table.
const MEASURE_LOAD: &str = r#"  void document.body.offsetHeight;
  const verdict = {
    loaded: Math.round(performance.now()),
    rows: document.querySelectorAll("table.files tbody tr").length,
  };
"#;

/// Runs once the page is parsed: times it, reads the summary table, follows the links, then
/// opens every section and measures.
const MEASURE_RUN: &str = r#"  void document.body.offsetHeight;
  const loaded = performance.now();
  const width = window.innerWidth;
  const verdict = {
    width, loaded: Math.round(loaded), rows: [], missing: [], hidden: [], duplicates: 0,
  };
  for (const row of document.querySelectorAll("table.files tbody tr")) {
    verdict.rows.push([row.querySelector("a").textContent, row.querySelector(".status").textContent]);
  }
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  verdict.duplicates = ids.length - new Set(ids).size;
  for (const link of document.querySelectorAll("a[href^='#']")) {
    const id = link.getAttribute("href").slice(1);
    if (!document.getElementById(id)) verdict.missing.push(id);
  }
  // Each row's link leads to a section that shows (closed, its summary line), in view after
  // following it.
  for (const link of document.querySelectorAll("table.files a")) {
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target || target.getBoundingClientRect().height === 0) verdict.hidden.push(link.textContent);
  }
  const last = [...document.querySelectorAll("table.files a")].pop();
  last.click();
  const top = document.getElementById(last.getAttribute("href").slice(1)).getBoundingClientRect().top;
  verdict.followed = { hash: location.hash, top: Math.round(top), height: window.innerHeight };
  verdict.scrollClosed = document.documentElement.scrollWidth;
  for (const d of document.querySelectorAll("details")) d.open = true;
  verdict.scrollOpen = document.documentElement.scrollWidth;
  verdict.overflowing = [...document.querySelectorAll(".cell, .files td, summary")]
    .filter((c) => c.getBoundingClientRect().right > width + 0.5).length;
"#;

/// The paragraphs of one sample, segmented by its format.
fn paragraphs_of(name: &str) -> Vec<String> {
    let path = sample(name);
    let text = std::fs::read_to_string(&path).expect("sample is readable UTF-8");
    let segmented = segment(&text, Format::from_path(&path));
    segmented
        .segments()
        .map(|s| s.text(&text).to_owned())
        .collect()
}

const SAMPLES: [&str; 3] = ["tech-news.de.txt", "interview.de.txt", "cloud-report.de.md"];

/// Paragraphs of all samples, in order, segmented by each file's format.
fn sample_paragraphs() -> Vec<String> {
    SAMPLES
        .iter()
        .flat_map(|name| paragraphs_of(name))
        .collect()
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

/// The diff of two versions of a document, paragraph by paragraph.
fn diff_of(old: &[String], new: &[String]) -> DocumentDiff {
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    diff_document(&old, &new, &DiffOptions::default())
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
    let diff = diff_of(&old, &new);
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

/// `page` with a script added at the end of its body: `measuring` (one of the `MEASURE`
/// bodies, which fills `verdict`), then what appends the verdict for [`measure`] to read.
fn with_script(page: &str, measuring: &str) -> String {
    let at = page.rfind("</body>").expect("the page has a body");
    let script = [
        "<script>\n(() => {\n",
        measuring,
        r#"  const pre = document.createElement("pre");
  pre.id = "verdict";
  pre.textContent = JSON.stringify(verdict);
  document.body.appendChild(pre);
})();
</script>
"#,
    ]
    .concat();
    format!("{}{script}{}", &page[..at], &page[at..])
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
    std::fs::write(&path, with_script(&page, MEASURE)).expect("write the page");

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

fn assert_fits(verdict: &Value, width: u32) {
    for key in ["scrollClosed", "scrollOpen"] {
        let scroll = verdict[key].as_u64().expect("a scroll width");
        assert!(
            scroll <= u64::from(width),
            "sideways scrolling at {width} ({key}): {verdict}"
        );
    }
    assert_eq!(verdict["overflowing"], 0, "{verdict}");
}

/// The report of a 50-file folder run that a quota stopped: the summary lists every file with
/// the status the run record gives it, every link has its target, and nothing scrolls sideways
/// at 1280 or 600 pixels, sections closed or open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_report_of_fifty_files_in_chromium() {
    if !have(&CHROMIUM) {
        return;
    }
    let env = TestEnv::new();
    quota_run(&env, "report.html").await;
    let page = String::from_utf8(env.read("report.html")).expect("UTF-8");
    assert!(!page.contains("<script"), "the report itself has no script");
    let record = run_record(&env);
    let statuses: Vec<(String, String)> = record["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let status = f["status"].as_str().unwrap_or_default().replace('_', " ");
            (f["input"].as_str().unwrap_or_default().to_owned(), status)
        })
        .collect();
    assert_eq!(statuses.len(), FILES);
    assert_eq!(html_rows(&page).len(), FILES);
    let path = env.path("measured.html");
    std::fs::write(&path, with_script(&page, MEASURE_RUN)).expect("write the page");
    for width in [1280, 600] {
        let verdict = measure(env.root(), &path, width);
        println!(
            "chromium at {width}×900: loaded in {} ms",
            verdict["loaded"]
        );
        let mut rows: Vec<(String, String)> =
            serde_json::from_value(verdict["rows"].clone()).expect("rows");
        rows.sort();
        let mut expected = statuses.clone();
        expected.sort();
        assert_eq!(rows, expected, "the summary's statuses at {width}");
        assert_eq!(verdict["missing"], Value::Array(Vec::new()), "{verdict}");
        assert_eq!(verdict["hidden"], Value::Array(Vec::new()), "{verdict}");
        assert_eq!(verdict["duplicates"], 0, "{verdict}");
        let followed = &verdict["followed"];
        let top = followed["top"].as_i64().expect("top");
        let height = followed["height"].as_i64().expect("height");
        assert!(
            followed["hash"]
                .as_str()
                .is_some_and(|h| h.starts_with("#f"))
                && (0..height).contains(&top),
            "the last row's link brings its section into view: {verdict}"
        );
        assert_fits(&verdict, width);
    }
}

/// A report of `files` documents, each one of the samples with a light copy edit, as the run
/// report renderer writes it (the page `fix` assembles from its spooled sections).
fn run_page(files: usize) -> String {
    let docs: Vec<(Vec<String>, DocumentDiff)> = SAMPLES
        .iter()
        .map(|name| {
            let old = paragraphs_of(name);
            let new: Vec<String> = old.iter().map(|p| edit(p)).collect();
            let diff = diff_of(&old, &new);
            (old, diff)
        })
        .collect();
    let notes: Vec<Vec<Note>> = vec![vec![Note {
        level: NoteLevel::Warning,
        text: "idiom: „am hinteren Fuß“ means on the back foot".to_owned(),
    }]];
    let rows: Vec<FileRow> = (0..files)
        .map(|n| {
            let status = match n % 25 {
                0 => FileStatus::Failed,
                1 | 2 => FileStatus::NotStarted,
                3..=12 => FileStatus::Flagged,
                _ => FileStatus::Ok,
            };
            FileRow {
                number: n + 1,
                name: format!("in/part{}/bericht-{n:04}.de.txt", n % 7),
                output: Some(format!("out/part{}/bericht-{n:04}.en.txt", n % 7)),
                status,
                why: (status == FileStatus::Failed).then(|| "binary file".to_owned()),
                paragraphs: docs[n % 3].1.pairs.len(),
                changed: 3,
                errors: 0,
                warnings: usize::from(status == FileStatus::Flagged),
                infos: 0,
                doubts: 0,
                backends: "deepl → openai".to_owned(),
                usage: "deepl: 2,339 characters; openai: 1,200 tokens".to_owned(),
            }
        })
        .collect();
    let facts = [("Files".to_owned(), format!("{files} files"))];
    let head = RunHead {
        title: "klartext fix in -o out",
        generator: "klartext test",
        facts: &facts,
    };
    let mut page = Vec::new();
    run::html(
        &head,
        &rows,
        |row, out| {
            let (source, diff) = &docs[(row.number - 1) % 3];
            let input = ReportInput {
                source: Some(("German", source)),
                notes: &notes,
                ..ReportInput::new(diff, ("draft · deepl", "final · openai"), "klartext test")
            };
            let finished = matches!(row.status, FileStatus::Ok | FileStatus::Flagged);
            run::html_section(row, finished.then_some(&input), false, out)
        },
        &mut page,
    )
    .expect("writing to a Vec cannot fail");
    String::from_utf8(page).expect("UTF-8")
}

/// A run of 500 files opens in under a second: the sections are closed, so the browser parses
/// them but lays out only the summary. The time is the page's own `performance.now()` once it
/// is parsed and laid out (about half a second here, 5 MB); the best of three loads, since
/// other builds share the machine. Its links and widths are checked on the 50-file run.
#[test]
fn run_report_of_500_files_opens_in_under_a_second() {
    if !have(&CHROMIUM) {
        return;
    }
    let page = run_page(500);
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("run.html");
    std::fs::write(&path, with_script(&page, MEASURE_LOAD)).expect("write the page");
    let times: Vec<u64> = (0..3)
        .map(|_| {
            let verdict = measure(dir.path(), &path, 1280);
            assert_eq!(verdict["rows"], 500, "{verdict}");
            verdict["loaded"].as_u64().expect("a time")
        })
        .collect();
    let best = times.iter().copied().min().unwrap_or(u64::MAX);
    println!(
        "a run report of 500 files ({} KB) opens in {best} ms (loads: {times:?} ms)",
        page.len() / 1024
    );
    assert!(best < 1000, "{best} ms to open a report of 500 files");
}
