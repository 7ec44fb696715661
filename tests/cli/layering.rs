//! The pure core stays pure: nothing in `verify`, `repair`, `diff`, `segment` or the review's
//! state (its session, decisions model, actions and history) reaches for the pipeline, the
//! backends, the command layer, the async runtime or the terminal. Read from the sources, so a
//! new import that breaks the layering fails here before it spreads.

use std::path::{Path, PathBuf};

const PURE: [&str; 12] = [
    "tmx",
    "verify",
    "repair",
    "diff",
    "segment",
    "review/state.rs",
    "review/state",
    "review/doc.rs",
    "review/action.rs",
    "review/history.rs",
    "review/record.rs",
    "review/xliff.rs",
];
const FORBIDDEN: [&str; 5] = [
    "crate::pipeline",
    "crate::backend",
    "crate::cli",
    "tokio",
    "crossterm",
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("readable folder").flatten() {
            rust_files(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn the_pure_core_imports_no_io_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for module in PURE {
        let path = src.join(module);
        let path = if path.exists() {
            path
        } else {
            src.join(format!("{module}.rs"))
        };
        assert!(
            path.exists(),
            "{} is gone: update this list",
            path.display()
        );
        rust_files(&path, &mut files);
    }
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("UTF-8 source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if let Some(name) = FORBIDDEN.iter().find(|f| code.contains(*f)) {
                found.push(format!("{}:{}: {name}", file.display(), n + 1));
            }
        }
    }
    assert!(files.len() > 30, "read {} files", files.len());
    assert!(
        found.is_empty(),
        "the pure core imports:\n{}",
        found.join("\n")
    );
}
