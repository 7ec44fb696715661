//! `klartext check SOURCE [TRANSLATION]`: verify's checks on existing files, so they also audit
//! translations made elsewhere. Exit 0 clean, 1 findings at or above `--fail-on`, 2 failure.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::cli::args::{CheckArgs, FailOn};
use crate::cli::{Context, Status};
use crate::config::Lang;
use crate::files;
use crate::glossary::Glossary;
use crate::render::sanitize;
use crate::segment::{self, Format, SegmentId};
use crate::verify::{self, Finding, Options, Pair, Rendered, Severity};

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    source: String,
    translation: Option<String>,
    paragraphs: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    findings: &'a [Finding],
}

pub fn run(args: &CheckArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let source = files::read_document(&args.source)?;
    let texts = |path: &Path, text: &str| -> Vec<(String, Vec<std::ops::Range<usize>>)> {
        segment::segment(text, Format::from_path(path))
            .segments()
            .map(|s| (s.text(text).to_owned(), s.protected.clone()))
            .collect()
    };
    let german = texts(&args.source, &source.text);
    let mut glossary = Glossary::default();
    for path in &args.glossary {
        glossary = glossary.merge(Glossary::load(path)?);
    }
    let mut findings = Vec::new();
    match &args.translation {
        None => {
            for (i, (text, _)) in german.iter().enumerate() {
                findings.extend(verify::verify_source(SegmentId(i), text));
            }
        }
        Some(path) => {
            let translation = files::read_document(path)?;
            let output = texts(path, &translation.text);
            findings.extend(verify::verify_counts(german.len(), output.len()));
            let target = if args.german { Lang::De } else { Lang::En };
            for (i, ((de, protected), (out, _))) in german.iter().zip(&output).enumerate() {
                findings.extend(verify::verify(
                    &Pair {
                        id: SegmentId(i),
                        source: de,
                        draft: None,
                        output: out,
                        target,
                    },
                    &Options {
                        glossary: Some(&glossary),
                        protected,
                    },
                ));
            }
            if target == Lang::En {
                let rendered: Vec<Rendered> = german
                    .iter()
                    .zip(&output)
                    .enumerate()
                    .map(|(i, ((de, _), (out, _)))| Rendered {
                        id: SegmentId(i),
                        source: de,
                        output: out,
                        terms: &[],
                    })
                    .collect();
                findings.extend(verify::verify_consistency(&rendered, Some(&glossary)));
            }
        }
    }
    let count = |level| findings.iter().filter(|f| f.severity == level).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if args.json {
        super::print_json(
            &Report {
                schema: "klartext.check/1",
                source: args.source.display().to_string(),
                translation: args.translation.as_ref().map(|p| p.display().to_string()),
                paragraphs: german.len(),
                errors,
                warnings,
                infos,
                findings: &findings,
            },
            out,
        )?;
    } else if !ctx.printer.is_quiet() {
        for finding in &findings {
            writeln!(out, "{}", describe(finding))?;
        }
        let found = crate::count::nonzero(&[
            (errors, "error", "errors"),
            (warnings, "warning", "warnings"),
            (infos, "note", "notes"),
        ]);
        ctx.printer.note(&format!(
            "{}: {} in {}",
            args.source.display(),
            found.as_deref().unwrap_or("nothing found"),
            crate::count::counted(german.len(), "paragraph", "paragraphs")
        ));
    }
    Ok(if fails(&findings, args.fail_on) {
        Status::Differences
    } else {
        Status::Success
    })
}

/// `¶ 3 ✗ quantity/wrong-scale: …`
pub fn describe(finding: &Finding) -> String {
    let place = match finding.segment {
        Some(id) => format!("¶ {}", id.paragraph()),
        None => "document".to_owned(),
    };
    let marker = match finding.severity {
        Severity::Error => "✗",
        Severity::Warning => "⚠",
        Severity::Info => "ℹ",
    };
    sanitize(&format!(
        "{place} {marker} {}/{}: {}",
        finding.check.id(),
        finding.rule,
        finding.message
    ))
    .into_owned()
}

/// Whether findings reach the `--fail-on` level.
pub fn fails(findings: &[Finding], fail_on: FailOn) -> bool {
    let worst = verify::worst(findings);
    match fail_on {
        FailOn::Never => false,
        FailOn::Warning => worst >= Some(Severity::Warning),
        FailOn::Error => worst >= Some(Severity::Error),
    }
}
