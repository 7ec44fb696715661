//! The review screen end to end: the real binary in a tmux pane, driven by keys. Without tmux it
//! fails under CI and skips, saying so, elsewhere ([`crate::common::have`]).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{TestEnv, Tool, have};

const TMUX: Tool = Tool {
    program: "tmux",
    install: "apt-get install tmux",
};

const OUTPUT: &str = "# Report\n\nThe company was on the back foot.\n\nThe team delivers – on time.\n\n\
                      Revenue rose to $4 trillion.\n";

/// What `fix` would have left: an output and its record.
fn reviewable(env: &TestEnv) {
    reviewable_as(env, "", "doc.en.md", None);
}

/// An output `name` in `dir` and its record; `finding` (a severity) on its second paragraph.
fn reviewable_as(env: &TestEnv, dir: &str, name: &str, finding: Option<&str>) {
    let paragraph = |id: &str, german: &str, old: &str, new: &str| serde_json::json!({"id": id, "german": german, "old": old, "new": new});
    let mut record = serde_json::json!({
        "schema": "klartext.record/1",
        "input": "doc.de.md",
        "output": name,
        "encoding": "utf-8",
        "line_ending": "lf",
        "titles": ["draft · deepl", "final · openai"],
        "to": "en",
        "blocks": ["# ", "\n\n", "\n\n", "\n\n", "\n"],
        "paragraphs": [
            paragraph("s0", "Bericht", "Report", "Report"),
            paragraph("s1", "Die Firma war am hinteren Fuß.", "The company was on the rear foot.",
                      "The company was on the back foot."),
            paragraph("s2", "Das Team liefert - pünktlich.", "The team delivers - on time .",
                      "The team delivers – on time."),
            paragraph("s3", "Der Umsatz stieg auf 4 Billionen Dollar.",
                      "Sales rose to 4 trillion dollars.", "Revenue rose to $4 trillion."),
        ]
    });
    if let Some(severity) = finding {
        record["paragraphs"][1]["findings"] =
            serde_json::json!([{"severity": severity, "message": "check this one"}]);
    }
    env.write(&format!("{dir}.klartext/{name}.json"), record.to_string());
    env.write(&format!("{dir}{name}"), OUTPUT);
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new(TMUX.program);
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]);
        cmd
    }

    /// Start `klartext review` in a detached 100×30 pane; the exit code lands in `exit.txt`.
    fn start(env: &TestEnv, args: &str) -> Self {
        let socket = format!("klartext-test-{}-{}", std::process::id(), unique_suffix());
        let tmux = Self { socket };
        let dir = env.path("");
        let script = format!(
            "cd '{dir}' && env -i HOME='{dir}' PATH=\"$PATH\" TERM=xterm-256color \
             KLARTEXT_CONFIG_DIR='{dir}/config' KLARTEXT_CACHE_DIR='{dir}/cache' \
             EDITOR='sed -i s/Revenue/Turnover/' '{bin}' review {args}; echo $? > exit.txt; sleep 60",
            dir = dir.display(),
            bin = env!("CARGO_BIN_EXE_klartext"),
        );
        let status = tmux
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                "kt",
                "-x",
                "100",
                "-y",
                "30",
                &script,
            ])
            .status()
            .expect("tmux starts");
        assert!(status.success(), "tmux new-session");
        tmux
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "kt"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "kt", keys])
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Wait until the pane shows `text`.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "waited for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn unique_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 % 1_000_000)
}

fn wait_for_exit(env: &TestEnv) -> String {
    let path = env.path("exit.txt");
    let start = Instant::now();
    while !Path::new(&path).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "review did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(50));
    let code = std::fs::read_to_string(&path)
        .expect("exit code")
        .trim()
        .to_owned();
    std::fs::remove_file(&path).expect("reset");
    code
}

#[test]
fn review_in_a_real_terminal_accept_reject_edit_write_and_resume() {
    if !have(&TMUX) {
        return;
    }
    let env = TestEnv::new();
    reviewable(&env);

    let tmux = Tmux::start(&env, "doc.en.md");
    let first = tmux.wait_for("review 1/3");
    assert!(
        first.contains("The company was on the rear foot."),
        "{first}"
    );
    tmux.keys("a");
    tmux.wait_for("✓1 ✗0");
    tmux.keys("r");
    tmux.wait_for("✓1 ✗1");
    // The third paragraph through the editor ($EDITOR is a sed script).
    tmux.keys("e");
    tmux.wait_for("✎1");
    tmux.keys("w");
    tmux.wait_for("wrote 1 file");
    tmux.keys("q");
    assert_eq!(wait_for_exit(&env), "0");
    let written = String::from_utf8(env.read("doc.en.md")).expect("UTF-8");
    assert_eq!(
        written,
        "# Report\n\nThe company was on the back foot.\n\nThe team delivers - on time .\n\n\
         Turnover rose to $4 trillion.\n"
    );
    drop(tmux);

    // Coming back: the decisions are there; change one, resize, quit without writing.
    let tmux = Tmux::start(&env, "doc.en.md");
    let again = tmux.wait_for("✓1 ✗1 ✎1");
    assert!(again.contains("Every paragraph is decided"), "{again}");
    tmux.keys("Escape");
    tmux.wait_for("review 1/3");
    tmux.keys("}");
    tmux.keys("}");
    tmux.wait_for("review 3/3");
    tmux.keys("a");
    tmux.wait_for("✓2 ✗1 ✎0");
    let status = tmux
        .cmd()
        .args(["resize-window", "-t", "kt", "-x", "60", "-y", "20"])
        .status()
        .expect("resize");
    assert!(status.success());
    tmux.wait_for("Not written yet");
    tmux.keys("Escape");
    tmux.wait_for("final · openai");
    let narrow = tmux.screen();
    assert!(
        narrow
            .lines()
            .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 60),
        "{narrow}"
    );
    tmux.keys("q");
    tmux.wait_for("quit?");
    tmux.keys("q");
    assert_eq!(wait_for_exit(&env), "0");
    assert_eq!(
        String::from_utf8(env.read("doc.en.md")).expect("UTF-8"),
        written,
        "quitting without writing leaves the output alone"
    );
    let saved = String::from_utf8(env.read(".klartext/doc.en.md.review.json")).expect("UTF-8");
    assert!(
        !saved.contains("Turnover"),
        "the replaced edit is gone from the saved decisions"
    );
}

#[test]
fn a_folder_is_reviewed_errors_first_with_a_file_list() {
    if !have(&TMUX) {
        return;
    }
    let env = TestEnv::new();
    reviewable_as(&env, "out/", "one.en.md", None);
    reviewable_as(&env, "out/", "two.en.md", Some("error"));

    let tmux = Tmux::start(&env, "out");
    // The file with the error first, though it comes second by name.
    tmux.wait_for("out/two.en.md · file 1/2 · 0/3 decided");
    tmux.keys("a");
    tmux.wait_for("out/two.en.md · file 1/2 · 1/3 decided");
    tmux.keys("f");
    let list = tmux.wait_for("Enter opens");
    assert!(list.contains("▸ ✗ out/two.en.md"), "{list}");
    assert!(list.contains("± out/one.en.md"), "{list}");
    tmux.keys("Down");
    tmux.wait_for("▸ ± out/one.en.md");
    tmux.keys("Enter");
    tmux.wait_for("out/one.en.md · file 2/2 · 0/3 decided");
    tmux.keys("Q");
    assert_eq!(wait_for_exit(&env), "130");
    // The decision was saved beside its own output.
    let saved = String::from_utf8(env.read("out/.klartext/two.en.md.review.json")).expect("UTF-8");
    assert!(saved.contains("accept"), "{saved}");
}
