//! `klartext review PATH`: find the records `fix` saved beside its outputs, restore earlier
//! decisions, then either run the full-screen review (ratatui + crossterm) or, for scripts,
//! apply `--accept-all`, `--reject-all` or `--apply FILE`. Decisions are saved after every
//! change; outputs are written only when the user asks.

use std::io::{self, Stdout, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::{cursor, execute, terminal};
use serde::Serialize;

use crate::cli::args::ReviewArgs;
use crate::cli::printer::Hinted;
use crate::cli::{Context, Status};
use crate::config::View;
use crate::files::{self, Ledger};
use crate::review::record::{FOLDER, SidecarError};
use crate::review::xliff;
use crate::review::{
    Decisions, Doc, Effect, Record, Review, Theme, Verdict, draw, keys, record::RecordError,
};
use crate::term;

/// One output under review.
struct Target {
    output: PathBuf,
}

pub fn run(args: &ReviewArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let records = locate(&args.path, &ctx.cwd)?;
    let mut ledger = Ledger::open(&ctx.settings.cache_dir.value);
    let mut targets = Vec::with_capacity(records.len());
    let mut docs = Vec::with_capacity(records.len());
    for record_path in records {
        let (target, doc) = load(&record_path, &ctx.cwd)?;
        let ours = doc.on_disk == doc.record.as_written()
            || doc.on_disk == doc.text()
            || ledger.may_overwrite(&target.output);
        if !ours && !args.force {
            return Err(Hinted::new(
                format!(
                    "{} was edited since klartext wrote it; review rebuilds it from its record \
                     and would replace those edits",
                    target.output.display()
                ),
                "keep your edits, or pass --force to review it anyway",
            )
            .into());
        }
        targets.push(target);
        docs.push(doc);
    }
    let scripted = args.accept_all || args.reject_all || !args.apply.is_empty();
    if scripted {
        return scripted_review(docs, &targets, args, ctx, &mut ledger, out);
    }
    if !ctx.terminal.stdin_is_tty || !ctx.terminal.stdout_is_tty {
        return Err(Hinted::new(
            "review needs a terminal (stdin and stdout)",
            format!(
                "without one: `klartext review {path} --accept-all` (keep the corrections), \
                 `--reject-all` (keep the drafts) or `--apply DECISIONS.json` (see \
                 `klartext review --help`)",
                path = args.path.display()
            ),
        )
        .into());
    }
    let total: usize = docs
        .iter()
        .map(|d| d.items.iter().filter(|i| i.reviewable()).count())
        .sum();
    if total == 0 {
        ctx.printer
            .note("nothing to review: the draft and the correction agree in every paragraph");
        return Ok(Status::Success);
    }
    interactive(docs, &targets, args, ctx, &mut ledger)
}

/// The records PATH stands for: a folder's (recursively), an output's, or a report's.
pub(crate) fn locate(path: &Path, cwd: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let nothing_hint = "fix saves a record beside each output it translates with a backend \
                        (.klartext/NAME.json); an offline run only repairs the German and leaves \
                        nothing to review";
    if path.is_dir() {
        let mut found = files::sidecars(path, FOLDER);
        found.retain(|p| !Record::is_decisions_file(p));
        if found.is_empty() {
            return Err(Hinted::new(
                format!("{}: no outputs of fix to review", path.display()),
                nothing_hint,
            )
            .into());
        }
        return Ok(found);
    }
    if !path.exists() {
        return Err(Hinted::new(
            format!("{}: no such file or folder", path.display()),
            "give an output of fix (a.en.txt), a folder of them, or a JSON report of fix",
        )
        .into());
    }
    if Record::is_decisions_file(path) {
        return Err(Hinted::new(
            format!("{} holds saved decisions, not an output", path.display()),
            format!(
                "review the output it belongs to, or apply it: klartext review OUTPUT --apply {}",
                path.display()
            ),
        )
        .into());
    }
    if path.extension().is_some_and(|e| e == "json") {
        return from_json(path, cwd);
    }
    let record = Record::path_for(path);
    if !record.is_file() {
        return Err(Hinted::new(
            format!(
                "{}: no review record beside it ({} is missing)",
                path.display(),
                record.display()
            ),
            nothing_hint,
        )
        .into());
    }
    Ok(vec![record])
}

/// A record itself, or a report of fix (`--json`, `klartext-report.json`) naming outputs.
fn from_json(path: &Path, cwd: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema.starts_with("klartext.record") {
        return Ok(vec![path.to_owned()]);
    }
    let Some(files) = value.get("files").and_then(|f| f.as_array()) else {
        anyhow::bail!(Hinted::new(
            format!(
                "{} is neither a report of fix nor a review record",
                path.display()
            ),
            "give an output of fix, a folder of them, or the JSON report fix printed or wrote"
        ));
    };
    let report_dir = path.parent().unwrap_or(Path::new(""));
    let mut records = Vec::new();
    for output in files.iter().filter_map(|f| f.get("output")?.as_str()) {
        let record = candidates(output, cwd, report_dir)
            .map(|o| Record::path_for(&o))
            .find(|r| r.is_file())
            .ok_or_else(|| {
                Hinted::new(
                    format!(
                        "{}: no review record for its output {output}",
                        path.display()
                    ),
                    "run review from the folder fix ran in, or give the output folder instead",
                )
            })?;
        records.push(record);
    }
    if records.is_empty() {
        anyhow::bail!(Hinted::new(
            format!("{}: the report names no written outputs", path.display()),
            "fix writes outputs (and the records review needs) only with a backend"
        ));
    }
    Ok(records)
}

/// Where an output a report names may be: as named from where review runs, as named from the
/// report's folder, and (a folder run's report lies in its output folder, and names outputs as
/// seen from where fix ran) below the report's folder with leading folders of the name left
/// off, so `out/sub/a.en.txt` is found as `REPORT_DIR/sub/a.en.txt`.
fn candidates<'a>(
    output: &'a str,
    cwd: &'a Path,
    report_dir: &'a Path,
) -> impl Iterator<Item = PathBuf> + 'a {
    let named = Path::new(output);
    let tails = named
        .components()
        .enumerate()
        .skip(1)
        .map(move |(n, _)| named.components().skip(n).collect::<PathBuf>())
        .filter(|tail| tail.is_relative())
        .map(move |tail| report_dir.join(tail));
    [cwd.join(named), report_dir.join(named)]
        .into_iter()
        .chain(tails)
}

/// A record, the saved decisions about its output, and the output as it is now.
fn load(record_path: &Path, cwd: &Path) -> anyhow::Result<(Target, Doc)> {
    let record = Record::read(record_path).map_err(|err| match err {
        SidecarError::NotJson { .. } => {
            Hinted::new(err.to_string(), "run fix again to write a fresh one").into()
        }
        other => anyhow::Error::new(other),
    })?;
    record.check().map_err(|err: RecordError| {
        Hinted::new(
            format!("{} {err}", record_path.display()),
            "run fix again to write a fresh one",
        )
    })?;
    let output = record.output_path(record_path);
    let decoded = files::read_document(&output).map_err(|err| {
        Hinted::new(
            format!("{err}"),
            format!(
                "the output of {} is missing or unreadable; run fix again",
                record.input
            ),
        )
    })?;
    let saved = Decisions::read(&output)
        .map_err(|err| Hinted::new(err.to_string(), "move it away to start this review afresh"))?
        .unwrap_or_else(|| Decisions::new(&record.output));
    let name = output
        .strip_prefix(cwd)
        .unwrap_or(&output)
        .display()
        .to_string();
    let doc = Doc::new(name, record, &saved, decoded.text);
    Ok((Target { output }, doc))
}

fn save_decisions(doc: &Doc, target: &Target) -> anyhow::Result<()> {
    Ok(doc.decisions().save(&target.output)?)
}

/// Write one output with its verdicts applied. `false`: it already held them.
fn write_output(
    doc: &mut Doc,
    target: &Target,
    force: bool,
    ledger: &mut Ledger,
) -> anyhow::Result<bool> {
    let text = doc.text();
    if text == doc.on_disk {
        return Ok(false);
    }
    // Whatever changed the file since the review began is not silently replaced.
    let now = files::read_document(&target.output)?;
    if now.text != doc.on_disk && !force {
        anyhow::bail!(Hinted::new(
            format!(
                "{} changed on disk during the review; not replaced",
                target.output.display()
            ),
            "your decisions are saved: reopen the review, or pass --force to replace it",
        ));
    }
    let bytes = files::encode_for(
        &target.output,
        &text,
        doc.record.encoding,
        doc.record.line_ending,
    )?;
    files::write_atomic(&target.output, &bytes)?;
    // Not fatal: without the ledger entry a later run merely asks for --force.
    let _ = ledger.record(&target.output, &bytes);
    doc.on_disk = text;
    Ok(true)
}

#[derive(Serialize)]
struct Summary {
    output: String,
    reviewed: usize,
    accepted: usize,
    rejected: usize,
    edited: usize,
    mixed: usize,
    pending: usize,
    written: bool,
}

fn summary(doc: &Doc, written: bool) -> Summary {
    let counts = doc.counts();
    Summary {
        output: doc.name.clone(),
        reviewed: counts.total,
        accepted: counts.accepted,
        rejected: counts.rejected,
        edited: counts.edited,
        mixed: counts.mixed,
        pending: counts.pending,
        written,
    }
}

/// `--accept-all`, `--reject-all`, `--apply FILE`.
fn scripted_review(
    mut docs: Vec<Doc>,
    targets: &[Target],
    args: &ReviewArgs,
    ctx: &Context,
    ledger: &mut Ledger,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    if args.accept_all || args.reject_all {
        let verdict = if args.accept_all {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        for doc in &mut docs {
            doc.decide_all(&verdict);
        }
    }
    for file in &args.apply {
        apply_file(file, &mut docs, ctx)?;
    }
    let mut summaries = Vec::with_capacity(docs.len());
    let mut failed = 0;
    for (doc, target) in docs.iter_mut().zip(targets) {
        save_decisions(doc, target)?;
        match write_output(doc, target, args.force, ledger) {
            Ok(written) => {
                let s = summary(doc, written);
                if !args.json {
                    ctx.printer.note(&format!(
                        "{}: {} accepted, {} rejected, {} edited{}{} · {}",
                        s.output,
                        s.accepted,
                        s.rejected,
                        s.edited,
                        if s.mixed > 0 {
                            format!(", {} mixed", s.mixed)
                        } else {
                            String::new()
                        },
                        if s.pending > 0 {
                            format!(", {} pending (kept the correction)", s.pending)
                        } else {
                            String::new()
                        },
                        if written {
                            "written"
                        } else {
                            "already up to date"
                        }
                    ));
                }
                summaries.push(s);
            }
            Err(err) => {
                ctx.printer.error(&err);
                failed += 1;
            }
        }
    }
    if args.json {
        super::print_json(&summaries, out)?;
    }
    Ok(if failed > 0 {
        Status::Failure
    } else {
        Status::Success
    })
}

/// Decisions from a file in the saved format, matched to an output by its `output` name, or
/// from an XLIFF file (`fix --report FILE.xlf`, edited in a CAT tool).
fn apply_file(file: &Path, docs: &mut [Doc], ctx: &Context) -> anyhow::Result<()> {
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlf") || e.eq_ignore_ascii_case("xliff"))
    {
        return apply_xliff(file, docs, ctx);
    }
    let decisions = match Decisions::read_file(file) {
        Ok(Some(decisions)) => decisions,
        Ok(None) => anyhow::bail!("{}: no such file", file.display()),
        Err(err @ SidecarError::NotJson { .. }) => {
            anyhow::bail!(Hinted::new(
                err.to_string(),
                "see `klartext review --help` for the format",
            ))
        }
        Err(err) => return Err(err.into()),
    };
    let single = docs.len() == 1;
    let Some(doc) = docs
        .iter_mut()
        .find(|d| d.record.output == decisions.output || (single && decisions.output.is_empty()))
    else {
        anyhow::bail!(Hinted::new(
            format!(
                "{}: no output named {:?} is under review",
                file.display(),
                decisions.output
            ),
            "set \"output\" to the output's file name (a.en.txt)",
        ));
    };
    let Doc { record, items, .. } = doc;
    for saved in &decisions.paragraphs {
        let Some(index) = record.paragraphs.iter().position(|p| p.id == saved.id) else {
            anyhow::bail!(
                "{}: {} has no paragraph {}",
                file.display(),
                record.output,
                saved.id
            );
        };
        let paragraph = &record.paragraphs[index];
        if saved.key.as_ref().is_some_and(|k| *k != paragraph.key()) {
            ctx.printer.warn(&format!(
                "{}: {} was translated anew since this decision; skipped",
                file.display(),
                saved.id
            ));
            continue;
        }
        let item = &mut items[index];
        if let Verdict::Changes { changes } = &saved.verdict
            && changes.len() != item.pair.change_count()
        {
            anyhow::bail!(
                "{}: {} has {} changes, the file decides {}",
                file.display(),
                saved.id,
                item.pair.change_count(),
                changes.len()
            );
        }
        item.verdict = saved.verdict.clone();
    }
    Ok(())
}

/// The targets of an XLIFF file as decisions: its `<file original>` names the input fix read,
/// each `<trans-unit id>` a paragraph. Every unit is checked before any is applied: one whose
/// inline codes were removed or altered refuses the whole file.
fn apply_xliff(file: &Path, docs: &mut [Doc], ctx: &Context) -> anyhow::Result<()> {
    // Any encoding a CAT tool saves in (UTF-16 with a byte order mark, say), as for documents.
    let text = crate::files::read_document(file)?.text;
    let units = xliff::read(&text).map_err(|err| {
        Hinted::new(
            format!("{} {err}", file.display()),
            "give the XLIFF file fix wrote with --report FILE.xlf, as your CAT tool saved it",
        )
    })?;
    let originals: std::collections::BTreeSet<&str> =
        units.iter().map(|u| u.file.as_str()).collect();
    let single = docs.len() == 1 && originals.len() == 1;
    let mut decided = Vec::new();
    let mut skipped = 0;
    for unit in &units {
        let Some(d) = docs
            .iter()
            .position(|d| d.record.input == unit.file || single)
        else {
            skipped += 1;
            continue;
        };
        let record = &docs[d].record;
        let Some(index) = record
            .paragraphs
            .iter()
            .position(|p| p.id.to_string() == unit.id)
        else {
            anyhow::bail!(Hinted::new(
                format!(
                    "{}: {} has no paragraph {:?} (a trans-unit id)",
                    file.display(),
                    record.input,
                    unit.id
                ),
                "the XLIFF belongs to another run of fix: write it again with --report",
            ));
        };
        let verdict = xliff::verdict(&record.paragraphs[index], unit).map_err(|err| {
            Hinted::new(
                format!(
                    "{}: file {}, unit {}: {err}; nothing was applied",
                    file.display(),
                    unit.file,
                    unit.id
                ),
                "put the inline code back as it was (CAT tools show it as a tag), or copy the \
                 source's tags into the target",
            )
        })?;
        decided.push((d, index, verdict));
    }
    if decided.is_empty() {
        anyhow::bail!(Hinted::new(
            format!(
                "{}: none of its files is under review ({})",
                file.display(),
                originals.into_iter().collect::<Vec<_>>().join(", ")
            ),
            "review the outputs fix wrote in the same run as the XLIFF",
        ));
    }
    let (mut accepted, mut rejected, mut edited, mut open) = (0, 0, 0, 0);
    for (d, index, verdict) in decided {
        match &verdict {
            Some(Verdict::Accept) => accepted += 1,
            Some(Verdict::Reject) => rejected += 1,
            Some(_) => edited += 1,
            None => open += 1,
        }
        if let Some(verdict) = verdict {
            docs[d].items[index].verdict = verdict;
        }
    }
    ctx.printer.note(&format!(
        "{}: applied {accepted} accepted, {rejected} rejected, {edited} edited; {open} left \
         undecided (no target, or a state that still asks for review){}",
        file.display(),
        if skipped > 0 {
            format!("; {skipped} units of files not under review skipped")
        } else {
            String::new()
        }
    ));
    Ok(())
}

type Screen = Terminal<CrosstermBackend<Stdout>>;

fn enter() -> io::Result<Screen> {
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), terminal::EnterAlternateScreen)?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

fn leave() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

fn interactive(
    docs: Vec<Doc>,
    targets: &[Target],
    args: &ReviewArgs,
    ctx: &Context,
    ledger: &mut Ledger,
) -> anyhow::Result<Status> {
    let theme = Theme {
        color: term::use_color(ctx.settings.color.value, &ctx.env, true),
    };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
    let mut screen = enter().context("cannot take over the terminal")?;
    let size = screen.size().context("cannot read the terminal size")?;
    let mut review = Review::new(
        docs,
        (size.width, size.height),
        crate::review::screen::extent,
    );
    // Reviewing needs a view: `none` means the default here.
    review.view = match args.view.unwrap_or(ctx.settings.view.value) {
        View::None => View::Auto,
        view => view,
    };
    let outcome = event_loop(&mut screen, &mut review, targets, args, ctx, ledger, theme);
    leave();
    let aborted = outcome?;
    let counts = review.counts();
    let unwritten = review.unwritten().len();
    ctx.printer.note(&format!(
        "review: {} accepted, {} rejected, {} edited, {} pending{}",
        counts.accepted,
        counts.rejected,
        counts.edited,
        counts.pending,
        match unwritten {
            0 => String::new(),
            1 => "; 1 output not written (decisions saved: review again to write)".to_owned(),
            n => format!("; {n} outputs not written (decisions saved: review again to write)"),
        }
    ));
    Ok(if aborted {
        Status::Interrupted
    } else {
        Status::Success
    })
}

/// Runs until the user quits; `true` when they aborted.
fn event_loop(
    screen: &mut Screen,
    review: &mut Review,
    targets: &[Target],
    args: &ReviewArgs,
    ctx: &Context,
    ledger: &mut Ledger,
    theme: Theme,
) -> anyhow::Result<bool> {
    loop {
        screen.draw(|frame| draw(frame, review, theme))?;
        let mut effect = match event::read()? {
            Event::Key(key) if key.kind == KeyEventKind::Press => keys::press(review, key),
            Event::Resize(columns, rows) => {
                review.resize(columns, rows);
                Effect::None
            }
            _ => Effect::None,
        };
        // An edit leads to a save: effects are handled until none is left.
        loop {
            effect = match effect {
                Effect::None => break,
                Effect::Save(docs) => {
                    for d in docs {
                        if let Err(err) = save_decisions(&review.docs[d], &targets[d]) {
                            review.message = Some(format!("could not save decisions: {err:#}"));
                        }
                    }
                    Effect::None
                }
                Effect::Edit { doc, item, text } => {
                    leave();
                    let result = edit(&text, ctx);
                    *screen = enter()?;
                    screen.clear()?;
                    review.edited(doc, item, result)
                }
                Effect::Write { then_quit } => {
                    let mut written = 0;
                    let mut failure = None;
                    for d in review.unwritten() {
                        match write_output(&mut review.docs[d], &targets[d], args.force, ledger) {
                            Ok(true) => written += 1,
                            Ok(false) => {}
                            Err(err) => failure = Some(format!("{err:#}")),
                        }
                    }
                    let ok = failure.is_none();
                    review.written(failure.map_or(Ok(written), Err));
                    if then_quit && ok {
                        return Ok(false);
                    }
                    Effect::None
                }
                Effect::Quit => return Ok(false),
                Effect::Abort => return Ok(true),
            };
        }
    }
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, on a temporary file holding `text`.
fn edit(text: &str, ctx: &Context) -> Result<String, String> {
    let editor = ctx
        .env
        .get("VISUAL")
        .or_else(|| ctx.env.get("EDITOR"))
        .filter(|e| !e.trim().is_empty())
        .unwrap_or("vi")
        .to_owned();
    let mut file = tempfile::Builder::new()
        .prefix("klartext-paragraph-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("cannot create a file to edit: {e}"))?;
    io::Write::write_all(&mut file, format!("{text}\n").as_bytes())
        .map_err(|e| format!("cannot write the file to edit: {e}"))?;
    // Through the shell, so EDITOR may carry arguments (`code --wait`), as git allows.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .map_err(|e| format!("cannot start the editor `{editor}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`{editor}` exited with {status}; the edit was not kept"
        ));
    }
    std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read the edited text: {e}"))
}
