//! `klartext jobs [OUT] [--cancel]`: the batch jobs `fix --batch-api` recorded for an output
//! folder, with the provider's status for those not yet collected; `--cancel` cancels those.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::backend::Backend;
use crate::backend::batch::JobStatus;
use crate::cli::{Context, Status};
use crate::count::{counted, plural};
use crate::pipeline::jobs::{JobBook, JobRecord, RecordState, unknown_job};

#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    record: &'a JobRecord,
    /// The provider's answer now (jobs not yet collected).
    #[serde(skip_serializing_if = "Option::is_none")]
    now: Option<JobStatus>,
    /// Why the provider could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cancelled: bool,
}

pub fn run(
    folder: Option<&Path>,
    cancel: bool,
    json: bool,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let folder = folder.unwrap_or_else(|| Path::new("."));
    if !folder.is_dir() {
        anyhow::bail!(crate::cli::printer::Hinted::new(
            format!("{}: no such folder", folder.display()),
            "name the output folder of `klartext fix … -o OUT --batch-api`"
        ));
    }
    let book = JobBook::for_output(folder);
    let (records, unreadable) = book.load();
    for bad in &unreadable {
        ctx.printer.warn(&format!(
            "cannot read the job record {}: {}",
            bad.path.display(),
            bad.why
        ));
    }
    let runtime = crate::cli::runtime()?;
    let mut rows: Vec<Row> = Vec::with_capacity(records.len());
    let mut failed = 0;
    let mut gone = Vec::new();
    for record in &records {
        let mut row = Row {
            record,
            now: None,
            error: None,
            cancelled: false,
        };
        if record.state == RecordState::Submitted {
            let asked = backend(record, ctx).and_then(|backend| {
                runtime
                    .block_on(async {
                        if cancel {
                            backend.cancel_job(&record.id).await
                        } else {
                            backend.job_status(&record.id).await
                        }
                    })
                    .map_err(
                        |e| match unknown_job(&e, &record.id, &book.path_of(record)) {
                            Some(unknown) => {
                                let message = unknown.message.clone();
                                gone.push(unknown);
                                message
                            }
                            None => e.to_string(),
                        },
                    )
            });
            match asked {
                Ok(status) => {
                    row.cancelled = cancel;
                    row.now = Some(status);
                }
                Err(why) => {
                    failed += 1;
                    row.error = Some(why);
                }
            }
        }
        rows.push(row);
    }
    if json {
        super::print_json(
            &serde_json::json!({"schema": "klartext.jobs/1", "folder": folder, "jobs": rows}),
            out,
        )?;
    } else if rows.is_empty() {
        ctx.printer.note(&format!(
            "no batch jobs are recorded in {}",
            book.dir().display()
        ));
    } else {
        print(&rows, out)?;
        let open = rows
            .iter()
            .filter(|r| r.record.state == RecordState::Submitted)
            .count()
            - gone.len();
        for unknown in &gone {
            if let Some(hint) = &unknown.hint {
                ctx.printer.hint(hint);
            }
        }
        if open > 0 && !cancel {
            ctx.printer.hint(&format!(
                "{} not collected: run the same `klartext fix … -o {}` again to collect {}",
                counted(open, "job is", "jobs are"),
                folder.display(),
                plural(open, "it", "them")
            ));
        }
    }
    Ok(if failed > 0 || !unreadable.is_empty() {
        Status::Failure
    } else {
        Status::Success
    })
}

/// The configured backend a record names, ready to ask its provider.
fn backend(record: &JobRecord, ctx: &Context) -> Result<Backend, String> {
    let settings = ctx.settings.backends.get(&record.backend).ok_or_else(|| {
        format!(
            "backend {} is not configured any more (add [backends.{}] back to ask about it)",
            record.backend, record.backend
        )
    })?;
    Backend::new(settings).map_err(|e| e.to_string())
}

fn print(rows: &[Row], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<34} {:<12} {:>8} {:<10} STATUS",
        "JOB", "BACKEND", "REQUESTS", "AGE"
    )?;
    for row in rows {
        let record = row.record;
        let age = record.age().map_or_else(
            || "?".to_owned(),
            |a| {
                let a = std::time::Duration::from_secs(a.as_secs() / 60 * 60);
                if a.is_zero() {
                    "<1m".to_owned()
                } else {
                    humantime::format_duration(a).to_string()
                }
            },
        );
        let status = match (&row.now, &row.error, record.state) {
            (Some(now), _, _) => {
                let failed = if now.failed > 0 {
                    format!(", {} failed", now.failed)
                } else {
                    String::new()
                };
                let verb = if row.cancelled { "cancel asked: " } else { "" };
                format!(
                    "{verb}{} {}/{}{failed}",
                    now.status, now.succeeded, now.total
                )
            }
            (None, Some(error), _) => format!("unknown: {error}"),
            (None, None, RecordState::Collected) => "collected".to_owned(),
            (None, None, RecordState::Failed) => "refused by the provider".to_owned(),
            (None, None, RecordState::Submitted) => "submitted".to_owned(),
        };
        writeln!(
            out,
            "{:<34} {:<12} {:>8} {:<10} {status}",
            record.id,
            record.backend,
            record.lines.len(),
            age
        )?;
    }
    Ok(())
}
