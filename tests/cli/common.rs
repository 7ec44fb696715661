use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A temporary working folder with its own HOME, config and cache folders.
pub struct TestEnv {
    root: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(root.path().join("config")).expect("config folder");
        Self { root }
    }

    /// The temporary folder itself (snapshots replace it with a placeholder).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent folder");
        }
        std::fs::write(&path, bytes).expect("write fixture");
        path
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).expect("read output")
    }

    /// The same environment for a child process the test manages itself (signals).
    pub fn std_cmd(&self) -> std::process::Command {
        self.hermetic(std::process::Command::new(env!("CARGO_BIN_EXE_klartext")))
    }

    /// `klartext` as a user that file permissions apply to. Root writes read-only files
    /// anyway, so when the tests run as root (a container) it runs as `nobody` through
    /// `setpriv`, and the temporary folder is opened to it (it can read, not write, what the
    /// test wrote). `None`: setpriv is missing and the test is skipped (failed under CI, see
    /// [`have`]).
    #[cfg(unix)]
    pub fn unprivileged_cmd(&self) -> Option<Command> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(self.root()).expect("the temporary folder");
        if meta.uid() != 0 {
            return Some(self.cmd());
        }
        if !have(&SETPRIV) {
            return None;
        }
        std::fs::set_permissions(self.root(), std::fs::Permissions::from_mode(0o755))
            .expect("open the temporary folder to nobody");
        let mut cmd = std::process::Command::new(locate(SETPRIV.program)?);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_klartext"));
        Some(Command::from_std(self.hermetic(cmd)))
    }

    /// `cmd` with a cleared environment but for this test's folders, run inside the temporary
    /// folder.
    fn hermetic(&self, mut cmd: std::process::Command) -> std::process::Command {
        cmd.current_dir(self.root.path())
            .env_clear()
            .env("HOME", self.root.path())
            .env("KLARTEXT_CONFIG_DIR", self.path("config"))
            .env("KLARTEXT_CACHE_DIR", self.path("cache"))
            .env("COLUMNS", "100");
        cmd
    }

    /// `klartext` with a cleared environment, run inside the temporary folder.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }
}

/// A file in the repository's `samples/` folder.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Display width of the widest line, escapes included (tests run without colour).
pub fn widest_line(text: &str) -> usize {
    text.lines()
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

/// A program from the system that a test drives, and how to install it.
pub struct Tool {
    /// A command name looked up on `PATH`, or a path to the program.
    pub program: &'static str,
    /// What to run to install it, for the message.
    pub install: &'static str,
}

/// Whether `tool` is there, for a test that cannot run without it. A missing tool must not let
/// the test pass silently: under CI (`CI` set and not `false`/`0`/empty, as insta reads it and
/// `.ci/run` exports it) it fails the test, naming the tool and its install command; elsewhere
/// it returns `false` after printing `skipped: needs …` straight to the process's stderr, which
/// libtest does not capture, so the skip shows in a plain `cargo test`. Not `#[ignore]`: that
/// is decided at compile time, and an ignored test runs nowhere by default, CI included.
pub fn have(tool: &Tool) -> bool {
    if found(tool.program) {
        return true;
    }
    let need = format!("needs {} ({})", tool.program, tool.install);
    assert!(
        !in_ci(),
        "{need}: it is not installed, and CI must run this test"
    );
    // A skip notice that cannot be written is no reason to fail the test.
    let _ = writeln!(std::io::stderr(), "skipped: {need}");
    false
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

fn found(program: &str) -> bool {
    locate(program).is_some()
}

/// Where `program` is: itself when it is a path, else its file on `PATH`.
fn locate(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Runs a program as another user (util-linux).
#[cfg(unix)]
const SETPRIV: Tool = Tool {
    program: "setpriv",
    install: "apt-get install util-linux",
};
