//! `klartext config show|path`.

use std::io::Write;

use crate::cli::args::ConfigCommand;
use crate::cli::{Context, Status};
use crate::render::display_width;

pub fn run(command: &ConfigCommand, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let settings = &ctx.settings;
    match command {
        ConfigCommand::Show { json: true } => super::print_json(
            &serde_json::json!({
                "schema": "klartext.config/1",
                "values": settings.show(),
            }),
            out,
        )?,
        ConfigCommand::Show { json: false } => {
            let rows = settings.show();
            let key_width = rows
                .iter()
                .map(|r| display_width(&r.key))
                .max()
                .unwrap_or(0);
            let value_width = rows
                .iter()
                .map(|r| display_width(&r.value))
                .max()
                .unwrap_or(0)
                .min(48);
            for row in rows {
                let pad_key = key_width - display_width(&row.key);
                let pad_value = value_width.saturating_sub(display_width(&row.value));
                writeln!(
                    out,
                    "{}{} = {}{}  ({})",
                    row.key,
                    " ".repeat(pad_key),
                    row.value,
                    " ".repeat(pad_value),
                    row.source
                )?;
            }
        }
        ConfigCommand::Path => {
            let state = |p: &std::path::Path| {
                if settings.loaded_files.iter().any(|l| l == p) {
                    "loaded"
                } else {
                    "not present"
                }
            };
            writeln!(
                out,
                "user file:    {} ({})",
                settings.user_file.display(),
                state(&settings.user_file)
            )?;
            writeln!(
                out,
                "project file: {} ({})",
                settings.project_file.display(),
                state(&settings.project_file)
            )?;
            writeln!(out, "cache folder: {}", settings.cache_dir.value.display())?;
        }
    }
    Ok(Status::Success)
}
