//! The command line as clap sees it: raw arguments, no I/O. Doc comments are the `--help`.

use std::path::PathBuf;

use clap::builder::{PathBufValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use super::pager::Paging;
use crate::config::{ColorChoice, Lang, Literal, Overrides, View};

const ABOUT: &str = "Turn garbled, machine-translated German into clean, faithful English, and \
                     show exactly what changed.";

const AFTER_HELP: &str = "\
Examples:
  klartext fix samples/tech-news.de.txt       repair offline and show the diff
  klartext fix article.de.txt -o clean.de.txt write the repaired German
  klartext diff draft.en.txt final.en.txt     side-by-side prose diff of two files
  klartext review article.en.txt              accept or reject the corrections, in the terminal
  klartext config show                        every setting and where it came from

Exit codes: 0 success, 1 differences (diff) or error-level findings, 2 failure.
Configuration: klartext config path; see the README's \"Configuration\" section.";

#[derive(Debug, Parser)]
#[command(name = "klartext", version, about = ABOUT, after_help = AFTER_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colour [env: KLARTEXT_COLOR; NO_COLOR turns it off]
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what klartext does: -v encodings, cache hits and the model's notes per
    /// paragraph; -vv also the glossary files read
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Ignore the user and project config files (defaults, environment and flags still apply)
    #[arg(long, global = true)]
    pub no_config: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Repair machine-translated German and show what changed
    #[command(after_help = FIX_HELP)]
    Fix(FixArgs),
    /// Side-by-side prose diff of two text files
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Accept, reject or edit the corrections of `fix` in the terminal, then write the result
    #[command(after_help = REVIEW_HELP)]
    Review(ReviewArgs),
    /// Check a German text, or a translation of it, for what was lost or invented (offline)
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Show the configuration and where each value comes from
    #[command(subcommand, after_help = CONFIG_HELP)]
    Config(ConfigCommand),
    /// List the configured backends; --check calls each one once
    #[command(after_help = BACKENDS_HELP)]
    Backends {
        /// Make one minimal authenticated call per backend and report what answered
        #[arg(long)]
        check: bool,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// The provider batch jobs of `fix --batch-api` for an output folder, and where they are
    #[command(after_help = JOBS_HELP)]
    Jobs {
        /// The output folder (its .klartext/jobs/ holds the records) [default: .]
        #[arg(value_name = "OUT")]
        folder: Option<std::path::PathBuf>,
        /// Cancel every job not yet collected (lines already done stay done and are collected
        /// by the next run)
        #[arg(long)]
        cancel: bool,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// The cache of finished paragraphs: what is in it, or empty it
    #[command(subcommand, after_help = CACHE_HELP)]
    Cache(CacheCommand),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to generate completions for
        #[arg(value_enum)]
        shell: Shell,
    },
}

const FIX_HELP: &str = "\
With a backend configured (or OPENAI_API_KEY / ANTHROPIC_API_KEY set, with DEEPL_API_KEY for a
literal draft), fix repairs the German offline, has the model restore the English original,
writes NAME.en.txt and shows draft against final. Finished paragraphs are cached, so a re-run
sends only what changed.

Without a backend (or with --offline), fix repairs the German typography that machine
translation breaks (glued quotes, mixed quote glyphs, hyphen glue, clause dashes, doubled spaces
and punctuation), flags suspicious spots (headings fused onto paragraphs), and shows the source
against the repaired German. It then writes a file only with -o or --in-place.

Examples:
  klartext fix samples/tech-news.de.txt
  klartext fix article.de.txt --dry-run         what would be sent, and roughly how many tokens
  klartext fix article.de.txt                   writes article.en.txt (with a backend)
  klartext fix article.de.txt --offline -o article.fixed.de.txt
  klartext fix article.de.txt -o out/          writes out/article.fixed.de.txt
  klartext fix notes.txt --in-place            keeps notes.txt.bak
  klartext fix in/ -o out/                     a whole folder, mirrored under out/
  klartext fix in/ -o out/ --glob '*.md' --exclude 'drafts/' --jobs 8
  klartext fix in/ -o out/ --report run.html   one page of the whole run, file by file
  klartext fix --json a.de.txt b.de.md         a JSON report for scripts
  cat a.txt | klartext fix - > a.fixed.txt     stdin to stdout

Folders: hidden files, .gitignore and .ignore rules are honoured as in ripgrep (--hidden,
--no-ignore to opt out; --glob only narrows), symlinks are not followed unless --follow, files
named like outputs (a.en.txt) are skipped, progress shows on a terminal, a summary and OUT/klartext-report.json end the run.
Ctrl-C stops sending, keeps every finished file and exits 130; the same command resumes.

Output names: a.de.txt -> a.en.txt, b.de.md -> b.en.md, c.txt -> c.en.txt. An existing output
that klartext did not write is never replaced without --force.";

const REVIEW_HELP: &str = "\
Each paragraph shows the literal draft against the correction. Keys: a accept, r reject (keep
the draft), s skip, e edit in $EDITOR, m decide per change instead of per paragraph, b bulk
(accept all punctuation-only changes, ...), z undo, w write, q quit, ? all keys. Decisions are
saved as you go (beside the output, in .klartext/NAME.review.json), so a review can be left and
resumed; running fix again keeps them for paragraphs that come out the same. Nothing is written
until you press w (or choose to write when quitting); paragraphs left pending keep the
correction.

Without a terminal, or for scripts:
  klartext review out/ --accept-all            keep every correction (the output as fix wrote it)
  klartext review a.en.txt --reject-all        keep every draft
  klartext review a.en.txt --apply mine.json   decisions from a file, in the saved format:
      {\"schema\": \"klartext.decisions/1\", \"output\": \"a.en.txt\", \"paragraphs\": [
        {\"id\": \"s2\", \"decision\": \"reject\"},
        {\"id\": \"s5\", \"decision\": \"edit\", \"text\": \"My own sentence.\"}]}
  klartext review a.en.txt --apply run.xlf    the targets of fix's XLIFF report (--report run.xlf)
      as edited in a CAT tool: the correction accepts, the draft rejects, other text is an edit

PATH is an output of fix (a.en.txt), a folder of them, or a JSON report of fix (a folder run's
OUT/klartext-report.json opens that run). Of several outputs, those that need attention come
first: with errors, then with warnings or the model's doubts, then with changes; f lists them
with how much of each is decided, Enter opens one. fix saves what review needs beside each
output it translates with a backend (.klartext/NAME.json); an offline run only repairs the
German and leaves nothing to review.

Examples:
  klartext review article.en.txt
  klartext review english/                     every output below the folder, errors first
  klartext review english/ --accept-all --json";

const DIFF_HELP: &str = "\
Both files are split into paragraphs the same way (Markdown by extension) and compared word by
word. Exit code: 0 identical, 1 different, 2 error.

Examples:
  klartext diff draft.en.txt final.en.txt
  klartext diff --view inline --width 80 a.txt b.txt
  klartext diff --json old.md new.md
  klartext diff a.txt b.txt --report changes.html   a page to share (also .md, .json)
  klartext diff a.txt b.txt --format unified --context 1";

const CHECK_HELP: &str = "\
Without a translation, check warns about the German itself: number-scale false friends
(Billionen), glued or unbalanced quotes, headings fused onto paragraphs, fragments, omissions.
With a translation (from klartext, DeepL, Google or a person), it also checks every paragraph
pair: numbers and their scale, names and tokens, German left in the English, echoes, model
commentary, truncation, quotes, glossary terms. Exit code: 0 clean, 1 findings at or above
--fail-on, 2 failure.

Examples:
  klartext check article.de.txt
  klartext check article.de.txt article.en.txt
  klartext check article.de.txt article.en.txt --json --fail-on warning";

const CONFIG_HELP: &str = "\
Precedence, lowest first: built-in defaults, NO_COLOR and provider variables, the user file,
the project file .klartext.toml, KLARTEXT_* variables, flags.

Examples:
  klartext config show
  klartext config show --json
  klartext config path";

const BACKENDS_HELP: &str = "\
Examples:
  klartext backends                 which backend runs which pass, and where each setting came from
  klartext backends --check         one small authenticated call each: is the key right, is the model there?
  klartext backends --check --json";

const JOBS_HELP: &str = "\
`fix --batch-api` records each job it submits under OUT/.klartext/jobs/ before it waits; this
lists them with the provider's status (for jobs not yet collected). Running the same fix
command again collects finished jobs and submits nothing twice.

Examples:
  klartext jobs english/            the jobs of the run that writes english/
  klartext jobs english/ --cancel   cancel the running ones (done lines are kept)
  klartext jobs english/ --json";

const CACHE_HELP: &str = "\
Every finished paragraph is cached, keyed by everything that affects it (pass, backend, model,
prompt, parameters, context, text), so a re-run sends only what changed.

Examples:
  klartext cache stats
  klartext cache stats --json
  klartext cache clear
  klartext cache export --tmx memory.tmx
  klartext cache export --tmx memory.tmx --reviewed out/";

const COMPLETIONS_HELP: &str = "\
Examples:
  klartext completions bash > ~/.local/share/bash-completion/completions/klartext
  klartext completions zsh > ~/.zfunc/_klartext
  klartext completions fish > ~/.config/fish/completions/klartext.fish";

/// How a diff is shown; shared by `fix` and `diff`.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// Diff layout: side-by-side needs at least 70 columns; auto picks stacked below that
    #[arg(long, value_enum, value_name = "VIEW")]
    pub view: Option<View>,

    /// Output width in columns [default: $COLUMNS, else the terminal, else 80]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(20..=1000))]
    pub width: Option<u16>,

    /// Show unchanged paragraphs in full instead of folding them into one line
    #[arg(long, conflicts_with = "context")]
    pub full: bool,

    /// Show this many unchanged paragraphs around each change (the rest are folded)
    #[arg(long, value_name = "N")]
    pub context: Option<usize>,

    /// Page the diff: auto = when stdout is a terminal [pager: $KLARTEXT_PAGER, $PAGER, less -FRX]
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub paging: Paging,

    /// Also write the diff as a report: FILE.html (one self-contained page), FILE.md
    /// (CriticMarkup) or FILE.json; fix over several files writes one report of the whole run;
    /// fix also writes FILE.tmx (a translation memory of its finished paragraphs) and FILE.xlf
    /// (XLIFF 1.2 for CAT tools; `review --apply` reads it back)
    #[arg(
        long,
        value_name = "FILE",
        value_parser = PathBufValueParser::new().try_map(ReportPath::new)
    )]
    pub report: Option<ReportPath>,
}

/// `--report FILE`, its format told by the extension when the arguments are parsed, so that a
/// name klartext cannot write is refused before any work is done.
#[derive(Debug, Clone)]
pub struct ReportPath {
    pub path: PathBuf,
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Markdown,
    Json,
    /// A translation memory (TMX 1.4b) of the run's finished paragraphs: `fix` only.
    Tmx,
    /// XLIFF 1.2 (`.xlf`, `.xliff`), written by fix only: it needs the translation's record.
    Xliff,
}

impl ReportPath {
    fn new(path: PathBuf) -> Result<Self, String> {
        const KNOWN: &str = "name it FILE.html, FILE.md, FILE.json, or (fix) FILE.tmx or FILE.xlf";
        let Some(extension) = path.extension() else {
            return Err(format!(
                "cannot tell the report format: the name has no extension; {KNOWN}"
            ));
        };
        let format = match extension.to_string_lossy().to_ascii_lowercase().as_str() {
            "html" | "htm" => ReportFormat::Html,
            "md" | "markdown" => ReportFormat::Markdown,
            "json" => ReportFormat::Json,
            "tmx" => ReportFormat::Tmx,
            "xlf" | "xliff" => ReportFormat::Xliff,
            _ => {
                return Err(format!(
                    "cannot tell the report format from .{}; {KNOWN}",
                    extension.to_string_lossy()
                ));
            }
        };
        Ok(Self { path, format })
    }
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Files or folders to fix; `-` reads stdin and writes the result to stdout
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write the result to this file (one input), or into this folder under the output name;
    /// for folders the tree is mirrored below it
    #[arg(short, long, value_name = "PATH", conflicts_with = "in_place")]
    pub output: Option<PathBuf>,

    /// In folders, take files matching this glob (repeatable) [default: *.txt, *.md]
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,

    /// In folders, skip files and folders matching this glob (repeatable), e.g. 'drafts/'
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// In folders, take hidden files and folders too
    #[arg(long)]
    pub hidden: bool,

    /// In folders, do not honour .gitignore, .ignore and .git/info/exclude
    #[arg(long)]
    pub no_ignore: bool,

    /// In folders, follow symlinks (files reached outside the folder are named in a warning)
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// At most this many requests in flight for the whole run (each backend also has its own
    /// `concurrency`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,

    /// Replace each input with its result, keeping NAME.bak
    #[arg(long)]
    pub in_place: bool,

    /// With --in-place: do not keep NAME.bak
    #[arg(long, requires = "in_place")]
    pub no_backup: bool,

    /// Overwrite an existing output that klartext did not write
    #[arg(long)]
    pub force: bool,

    /// Target language: en = restored English, de = corrected German only
    #[arg(long, value_enum, value_name = "LANG")]
    pub to: Option<Lang>,

    /// Print a JSON report on stdout instead of the diff
    #[arg(long)]
    pub json: bool,

    /// Show what would be sent (paragraphs, requests, estimated tokens) and send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Run only the offline German repairs, even when a backend is configured
    #[arg(long, conflicts_with = "dry_run")]
    pub offline: bool,

    /// Exit 1 when verify finds something at least this serious (the output is still written)
    #[arg(long, value_enum, default_value = "error", value_name = "LEVEL")]
    pub fail_on: FailOn,

    /// Send a paragraph with an error-level finding back to the restore model with the
    /// findings, up to N times; the new text is kept only if it resolves them [default: 1, or
    /// passes.refine]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=3))]
    pub refine: Option<u8>,

    /// Do not send flagged paragraphs back (--refine 0)
    #[arg(long, conflicts_with = "refine")]
    pub no_refine: bool,

    /// Stop sending before the run's estimated spend would pass AMOUNT (in the currency of the
    /// prices; finished paragraphs are kept) [default: max_cost, or no limit]
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub max_cost: Option<f64>,

    /// Where the literal beside the result comes from: auto = the draft pass, else the restore
    /// model; none = no literal (fewer output tokens; the view shows the repaired German)
    /// [default: passes.literal, or auto]
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub literal: Option<Literal>,

    /// Neither read nor write the cache of finished paragraphs
    #[arg(long)]
    pub no_cache: bool,

    /// Send the chat requests as provider batch jobs (OpenAI Batch, Anthropic Message
    /// Batches): half the price, results within 24 h. Jobs are recorded under
    /// OUT/.klartext/jobs/; the same command again collects them and submits nothing twice
    #[arg(long, conflicts_with_all = ["offline", "jobs"])]
    pub batch_api: bool,

    /// With --batch-api: submit (and collect what has finished), then exit 75 without
    /// waiting; run the same command again later to go on
    #[arg(long, requires = "batch_api")]
    pub no_wait: bool,

    /// A glossary (TOML or CSV, German term -> English term), on top of glossary.toml or
    /// glossary.csv in the config folder and the working folder
    #[arg(long, value_name = "FILE")]
    pub glossary: Vec<PathBuf>,

    /// A translation memory (TMX): a paragraph whose German it has takes its English without
    /// a request (still verified); on top of `memory` in the config; the first file wins
    #[arg(long, value_name = "FILE.tmx")]
    pub memory: Vec<PathBuf>,

    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// An output of fix (a.en.txt), a folder of outputs, or a JSON report of fix
    pub path: PathBuf,

    /// Accept every correction and write the outputs (no terminal needed)
    #[arg(long, conflicts_with_all = ["reject_all", "apply"])]
    pub accept_all: bool,

    /// Reject every correction, keeping the drafts, and write the outputs
    #[arg(long, conflicts_with = "apply")]
    pub reject_all: bool,

    /// Apply the decisions in FILE (the format review saves, or an XLIFF file that fix wrote
    /// with --report FILE.xlf and a CAT tool edited) and write the outputs; repeat for several
    /// outputs
    #[arg(long, value_name = "FILE")]
    pub apply: Vec<PathBuf>,

    /// Review and replace outputs even if they were edited since klartext wrote them
    #[arg(long)]
    pub force: bool,

    /// With --accept-all, --reject-all or --apply: print a JSON summary per output
    #[arg(long)]
    pub json: bool,

    /// Starting layout (t switches): side-by-side needs at least 70 columns
    #[arg(long, value_enum)]
    pub view: Option<View>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old version
    pub old: PathBuf,
    /// The new version
    pub new: PathBuf,

    /// Print the change model as JSON instead of the diff
    #[arg(long)]
    pub json: bool,

    /// The layout chosen by --view, or a unified diff (one paragraph per line) for patch tools
    #[arg(long, value_enum, default_value = "view", value_name = "FORMAT")]
    pub format: DiffFormat,

    #[command(flatten)]
    pub display: DisplayArgs,

    /// Overwrite a --report file that klartext did not write
    #[arg(long)]
    pub force: bool,
}

/// What `klartext diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// The layout of --view (side by side, stacked or inline)
    View,
    /// A unified diff, one paragraph per line, for tools
    Unified,
}

/// How serious a finding must be to make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The German text
    pub source: PathBuf,
    /// Its translation (paragraph for paragraph); without it only the German is checked
    pub translation: Option<PathBuf>,

    /// The translation is corrected German (as `fix --to de` writes), not English
    #[arg(long)]
    pub german: bool,

    /// A glossary (TOML or CSV) whose terms the translation must use
    #[arg(long, value_name = "FILE")]
    pub glossary: Vec<PathBuf>,

    /// Exit 1 when a finding is at least this serious
    #[arg(long, value_enum, default_value = "error", value_name = "LEVEL")]
    pub fail_on: FailOn,

    /// Print the findings as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting with its value and where it came from (secrets redacted)
    #[command(
        after_help = "Examples:\n  klartext config show\n  klartext config show --json | jq '.values[] | select(.source != \"default\")'\n  KLARTEXT_COLOR=never klartext config show"
    )]
    Show {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Where klartext looks for configuration files, and the cache folder
    #[command(
        after_help = "Examples:\n  klartext config path\n  KLARTEXT_CONFIG_DIR=~/dotfiles/klartext klartext config path"
    )]
    Path,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Entries per pass and backend, and the size on disk
    Stats {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove every entry (the next run sends everything again)
    Clear,
    /// Write every finished paragraph as a translation memory (TMX 1.4b) for CAT tools
    Export {
        /// The TMX file to write
        #[arg(long, value_name = "FILE")]
        tmx: PathBuf,
        /// Take the English of the outputs under OUT (a folder or an output of fix) as
        /// reviewed with `klartext review`: their paragraphs with review decisions replace the
        /// cache's, marked x-review (repeatable)
        #[arg(long, value_name = "OUT")]
        reviewed: Vec<PathBuf>,
        /// Overwrite FILE when klartext did not write it
        #[arg(long)]
        force: bool,
    },
}

impl Cli {
    /// The flags that override configured values.
    pub fn overrides(&self) -> Overrides {
        let (to, display) = match &self.command {
            Command::Fix(a) => (a.to, Some(&a.display)),
            Command::Diff(a) => (None, Some(&a.display)),
            _ => (None, None),
        };
        Overrides {
            to,
            view: display.and_then(|d| d.view),
            color: self.color,
            width: display.and_then(|d| d.width),
            no_config: self.no_config,
        }
    }
}

/// `--max-cost`: an amount of money, 0 or more.
fn parse_amount(value: &str) -> Result<f64, String> {
    value
        .trim()
        .trim_start_matches('$')
        .parse::<f64>()
        .ok()
        .filter(|amount| amount.is_finite() && *amount >= 0.0)
        .ok_or_else(|| format!("`{value}` is not an amount; use a number of 0 or more, e.g. 2.50"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
