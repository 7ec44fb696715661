//! Tokens sent per paragraph token on a folder of twenty small articles (2–6 short paragraphs
//! each, `tests/support/articles.rs`): what `klartext fix in/ -o out/ --dry-run --json` plans
//! for the restore pass (a chat backend, no draft pass, so the restore also writes the literal
//! rendering), with small documents packed into shared requests (the default) and with
//! `pack_documents = false` (one document per request, as before packing). The target is
//! ≤ 2.5. A dry run sends nothing: the counts are klartext's estimates (`estimate_tokens`), the
//! same the run budgets its batches by, so the figure is exact for this build and needs no
//! provider. Run with `cargo bench --bench tokens`; asserts nothing. `KLARTEXT_BIN=path` plans
//! with another build instead (an older one knows no `pack_documents` and sends each document
//! alone either way).

#[path = "../tests/support/articles.rs"]
mod articles;

use std::path::Path;
use std::process::Command;

const TARGET: f64 = 2.5;

fn main() {
    let root = tempfile::tempdir().expect("temporary folder");
    let root = root.path();
    articles::write_folder(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        &root.join("in"),
    );
    let german: usize = (0..20)
        .map(|n| articles::article(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"), n).len())
        .sum();
    println!("20 small articles, {german} bytes of German; restore pass, estimated tokens");
    println!(
        "{:<28} {:>9} {:>11} {:>11} {:>22}",
        "", "requests", "sent", "paragraphs", "per paragraph token"
    );
    for (label, pack) in [
        ("packed (default)", true),
        ("one document per request", false),
    ] {
        let plan = dry_run(root, pack);
        let figure = plan["per_paragraph_token"].as_f64().unwrap_or(f64::NAN);
        let count = |key: &str| plan[key].as_u64().unwrap_or_default();
        let figure = if figure.is_nan() {
            count("estimated_input") as f64 / count("source_input").max(1) as f64
        } else {
            figure
        };
        println!(
            "{label:<28} {:>9} {:>11} {:>11} {:>16.2} {}",
            count("requests"),
            count("estimated_input"),
            count("source_input"),
            figure,
            if figure <= TARGET {
                format!("≤ {TARGET}")
            } else {
                format!("> {TARGET}")
            }
        );
    }
}

/// The restore pass's plan for the folder, summed over its files.
fn dry_run(root: &Path, pack: bool) -> serde_json::Value {
    let binary =
        std::env::var("KLARTEXT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_klartext").to_owned());
    let config = if binary == env!("CARGO_BIN_EXE_klartext") {
        format!("pack_documents = {pack}\n")
    } else {
        String::new()
    };
    std::fs::write(
        root.join(".klartext.toml"),
        format!(
            "[passes]\nrestore = \"local\"\nrefine = 0\n[backends.local]\nkind = \"openai\"\n\
             model = \"m\"\nbase_url = \"http://127.0.0.1:9/v1\"\n{config}"
        ),
    )
    .expect("config");
    let out = Command::new(binary)
        .current_dir(root)
        .env_clear()
        .env("HOME", root)
        .env("KLARTEXT_CONFIG_DIR", root.join("config"))
        .env("KLARTEXT_CACHE_DIR", root.join("cache"))
        .args([
            "fix",
            "in",
            "-o",
            "out",
            "--dry-run",
            "--json",
            "--fail-on",
            "never",
        ])
        .output()
        .expect("klartext runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--dry-run --json: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let restore = |plans: &serde_json::Value| {
        plans
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["pass"] == "restore")
            .cloned()
    };
    if let Some(plan) = restore(&report["plan"]) {
        return plan;
    }
    // An older build: the files' plans, added up.
    let mut sum = serde_json::json!({"requests": 0, "estimated_input": 0, "source_input": 0});
    for file in report["files"].as_array().into_iter().flatten() {
        if let Some(plan) = restore(&file["plan"]) {
            for key in ["requests", "estimated_input", "source_input"] {
                let total =
                    sum[key].as_u64().unwrap_or_default() + plan[key].as_u64().unwrap_or_default();
                sum[key] = total.into();
            }
        }
    }
    sum
}
