//! `klartext backends [--check]`: what is configured, which pass uses it, where each setting
//! came from; with `--check`, one minimal authenticated call per backend.

use std::io::Write;

use serde::Serialize;

use crate::backend::Backend;
use crate::cli::{Context, Status};
use crate::config::{BackendSettings, Secret, Settings, redact_url};

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    kind: String,
    passes: Vec<&'static str>,
    url: String,
    url_source: String,
    model: Option<String>,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<Check>,
}

#[derive(Debug, Serialize)]
struct Check {
    ok: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

pub fn run(check: bool, json: bool, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let settings = &ctx.settings;
    if settings.backends.is_empty() {
        ctx.printer.note("no backends are configured");
        ctx.printer
            .hint("add [backends.NAME] and [passes] to the config (README, \"Configuration\")");
        return Ok(Status::Success);
    }
    let runtime = crate::cli::runtime()?;
    let mut rows = Vec::new();
    for backend in settings.backends.values() {
        let mut row = describe(backend, settings);
        if check {
            row.check = Some(runtime.block_on(check_one(backend)));
        }
        rows.push(row);
    }
    let failed = rows
        .iter()
        .filter(|r| r.check.as_ref().is_some_and(|c| !c.ok))
        .count();
    if json {
        super::print_json(
            &serde_json::json!({"schema": "klartext.backends/1", "backends": rows}),
            out,
        )?;
    } else {
        print(&rows, out)?;
    }
    Ok(if failed > 0 {
        Status::Failure
    } else {
        Status::Success
    })
}

fn describe(backend: &BackendSettings, settings: &Settings) -> Row {
    let passes = [
        ("draft", &settings.passes.draft),
        ("restore", &settings.passes.restore),
    ]
    .into_iter()
    .filter(|(_, names)| {
        names
            .as_ref()
            .is_some_and(|n| n.value.contains(&backend.name))
    })
    .map(|(pass, _)| pass)
    .collect();
    let (url, url_source) = match &backend.base_url {
        Some(url) => (redact_url(&url.value).into(), url.source.to_string()),
        None => (
            backend
                .endpoint()
                .unwrap_or("(chosen by the key)")
                .to_owned(),
            "default".to_owned(),
        ),
    };
    let key = match (&backend.api_key, &backend.api_key_env) {
        (Some(key), _) => format!("{} ({})", Secret::MASK, key.source),
        (None, Some(var)) => format!("not set (${})", var.value),
        (None, None) => "none".to_owned(),
    };
    Row {
        name: backend.name.clone(),
        kind: backend.kind.value.to_string(),
        passes,
        url,
        url_source,
        model: backend.model.as_ref().map(|m| m.value.clone()),
        key,
        check: None,
    }
}

async fn check_one(settings: &BackendSettings) -> Check {
    let result = match Backend::new(settings) {
        Ok(backend) => backend.check().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(message) => Check {
            ok: true,
            message,
            hint: None,
        },
        Err(e) => Check {
            ok: false,
            hint: e.hint(),
            message: e.to_string(),
        },
    }
}

fn print(rows: &[Row], out: &mut dyn Write) -> anyhow::Result<()> {
    // With --check: one line per backend, its state first.
    if rows.iter().all(|r| r.check.is_some()) {
        for row in rows {
            let Some(check) = &row.check else { continue };
            let passes = if row.passes.is_empty() {
                String::new()
            } else {
                format!(", {}", row.passes.join(", "))
            };
            let state = if check.ok { "ok" } else { "FAILED" };
            let hint = check
                .hint
                .as_ref()
                .map(|h| format!(" · hint: {h}"))
                .unwrap_or_default();
            let message = crate::render::sanitize(&check.message);
            writeln!(
                out,
                "{state:<6} {} ({}{passes}): {message}{hint}",
                row.name, row.kind
            )?;
        }
        return Ok(());
    }
    for row in rows {
        let passes = if row.passes.is_empty() {
            "no pass".to_owned()
        } else {
            row.passes.join(", ")
        };
        writeln!(out, "{} ({}) · {passes}", row.name, row.kind)?;
        writeln!(out, "  url    {}  ({})", row.url, row.url_source)?;
        if let Some(model) = &row.model {
            writeln!(out, "  model  {model}")?;
        }
        writeln!(out, "  key    {}", row.key)?;
    }
    Ok(())
}
