//! What a batch takes from a folder and where `-o` puts results (issue 12, items 4, 6, 12):
//! ignore and hidden-file rules hold as in ripgrep, symlinks are not followed unless asked,
//! and `-o` names a folder when it is one or ends with a slash.

use std::path::Path;

use crate::common::{TestEnv, Tool, have, stderr_of, stdout_of};

const GERMAN: &str = "Er sagte,,Hallo\" zu mir.\n";

/// Every file below `dir`, relative, sorted.
fn files_below(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).expect("below").display().to_string())
        .collect();
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn ignored_and_hidden_files_stay_out_of_a_batch_whatever_the_globs() {
    let env = TestEnv::new();
    env.write("in/a.txt", GERMAN);
    env.write("in/secret.txt", GERMAN);
    env.write("in/private.md", GERMAN);
    env.write("in/.draft.txt", GERMAN);
    env.write("in/.gitignore", "secret.txt\n");
    env.write("in/.ignore", "private.md\n");
    for (out, globs) in [
        ("out", &[][..]),
        ("out-glob", &["--glob", "*.txt", "--glob", "*.md"][..]),
    ] {
        env.cmd()
            .args(["fix", "in", "-o", out])
            .args(globs)
            .assert()
            .success();
        assert_eq!(
            files_below(&env.path(out)),
            ["a.fixed.txt", "klartext-report.json"],
            "with {globs:?}"
        );
    }
    env.cmd()
        .args(["fix", "in", "-o", "all", "--hidden", "--no-ignore"])
        .assert()
        .success();
    assert_eq!(
        files_below(&env.path("all")),
        [
            ".draft.fixed.txt",
            "a.fixed.txt",
            "klartext-report.json",
            "private.fixed.md",
            "secret.fixed.txt"
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_not_followed_unless_asked() {
    let env = TestEnv::new();
    env.write("in/a.txt", GERMAN);
    env.write("outside/secret.txt", GERMAN);
    env.write("outside/more/deep.txt", GERMAN);
    std::os::unix::fs::symlink("../outside/secret.txt", env.path("in/notes.txt")).expect("symlink");
    std::os::unix::fs::symlink("../outside", env.path("in/linkdir")).expect("symlink");
    let output = env
        .cmd()
        .args(["fix", "in", "-o", "out"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        files_below(&env.path("out")),
        ["a.fixed.txt", "klartext-report.json"]
    );
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("2 symlinks not followed") && stderr.contains("--follow"),
        "{stderr}"
    );

    let output = env
        .cmd()
        .args(["fix", "in", "-o", "followed", "--follow"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        files_below(&env.path("followed")),
        [
            "a.fixed.txt",
            "klartext-report.json",
            "linkdir/more/deep.fixed.txt",
            "linkdir/secret.fixed.txt",
            "notes.fixed.txt"
        ]
    );
    let stderr = stderr_of(&output);
    for name in [
        "in/notes.txt",
        "in/linkdir/secret.txt",
        "in/linkdir/more/deep.txt",
    ] {
        assert!(
            stderr.contains(&format!("{name} is a symlink to")) && stderr.contains("outside in"),
            "{name} is not named as read from outside the folder:\n{stderr}"
        );
    }
}

#[test]
fn dash_o_with_a_trailing_slash_or_an_existing_folder_means_a_folder() {
    let env = TestEnv::new();
    env.write("a.de.txt", GERMAN);
    env.write("b.de.txt", GERMAN);
    env.cmd()
        .args(["fix", "a.de.txt", "-o", "new/"])
        .assert()
        .success();
    assert_eq!(files_below(&env.path("new")), ["a.fixed.de.txt"]);
    env.cmd()
        .args(["fix", "a.de.txt", "b.de.txt", "-o", "two/"])
        .assert()
        .success();
    assert_eq!(
        files_below(&env.path("two")),
        ["a.fixed.de.txt", "b.fixed.de.txt"]
    );
    std::fs::create_dir(env.path("existing")).expect("mkdir");
    env.cmd()
        .args(["fix", "a.de.txt", "b.de.txt", "-o", "existing"])
        .assert()
        .success();
    assert_eq!(
        files_below(&env.path("existing")),
        ["a.fixed.de.txt", "b.fixed.de.txt"]
    );
    // Two inputs of the same name cannot share a folder; nothing is written.
    env.write("sub/a.de.txt", GERMAN);
    let output = env
        .cmd()
        .args(["fix", "a.de.txt", "sub/a.de.txt", "-o", "clash/"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("would both be written into clash/"),
        "{}",
        stderr_of(&output)
    );
    assert!(!env.path("clash").exists());
    // Without a slash, a missing path is still one output file.
    env.cmd()
        .args(["fix", "a.de.txt", "-o", "single.txt"])
        .assert()
        .success();
    assert_eq!(
        env.read("single.txt"),
        "Er sagte,Hallo\" zu mir.\n".as_bytes()
    );
}

/// The files a batch takes are the ones ripgrep itself lists (`rg --files`, as a user would
/// check), narrowed to the default globs: ignore files at several levels, negations, hidden
/// files and folders, git's exclude file, symlinks. Judged by the real tool, not by our
/// reading of its rules. (ripgrep's own `-g` overrides ignore rules; klartext's `--glob` only
/// narrows, so the comparison is with the unfiltered listing.)
#[test]
fn a_batch_takes_what_ripgrep_lists() {
    const RG: Tool = Tool {
        program: "rg",
        install: "apt-get install ripgrep",
    };
    if !have(&RG) {
        return;
    }
    let env = TestEnv::new();
    for path in [
        "in/a.txt",
        "in/b.md",
        "in/notes.rtf",
        "in/secret.txt",
        "in/keep.log.txt",
        "in/.hidden.txt",
        "in/.dot/inside.md",
        "in/sub/c.txt",
        "in/sub/draft.md",
        "in/sub/deeper/d.md",
        "in/sub/deeper/skip.txt",
        "in/build/out.txt",
        "in/excluded.md",
        "in/sub/again.txt",
    ] {
        env.write(path, GERMAN);
    }
    env.write(
        "in/.gitignore",
        "secret.txt\nbuild/\n*.log.txt\n!keep.log.txt\n",
    );
    env.write("in/sub/.gitignore", "draft.md\n");
    env.write("in/sub/deeper/.ignore", "skip.txt\n");
    env.write("in/sub/.ignore", "!again.txt\nagain.txt\n");
    env.write("in/.git/info/exclude", "excluded.md\n");
    env.write("outside/far.txt", GERMAN);
    #[cfg(unix)]
    std::os::unix::fs::symlink("../outside/far.txt", env.path("in/link.txt")).expect("symlink");

    let rg = std::process::Command::new("rg")
        .args(["--files", "--no-require-git", "--no-config", "in"])
        .current_dir(env.root())
        .output()
        .expect("rg runs");
    let mut listed: Vec<String> = stdout_of(&rg)
        .lines()
        .filter(|l| l.ends_with(".txt") || l.ends_with(".md"))
        .map(str::to_owned)
        .collect();
    listed.sort();
    let out = env
        .cmd()
        .args(["fix", "in", "--dry-run", "--json"])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut taken: Vec<String> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["input"].as_str().map(str::to_owned))
        .collect();
    taken.sort();
    assert!(listed.contains(&"in/keep.log.txt".to_owned()), "{listed:?}");
    assert_eq!(taken, listed, "klartext (left) and rg --files (right)");
}
