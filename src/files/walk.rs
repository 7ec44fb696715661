//! Finding the inputs of a batch: walk folders the way ripgrep and fd do (hidden files and
//! `.gitignore`/`.ignore` rules honoured, symlinks not followed), keep the files that match the
//! include globs and none of the excludes, and skip files that are klartext's own outputs. A
//! glob only narrows what the rules let through: it never brings back an ignored or hidden
//! file.

use std::path::{Path, PathBuf};

use ignore::overrides::{Override, OverrideBuilder};
use ignore::{DirEntry, WalkBuilder};

/// What a batch takes from a folder, unless told otherwise.
pub const DEFAULT_GLOBS: [&str; 2] = ["*.txt", "*.md"];

/// An input found in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The path below the folder walked, mirrored under the output folder.
    pub relative: PathBuf,
    /// Where the file really is, when a followed symlink led outside the folder walked.
    pub outside: Option<PathBuf>,
}

/// A file or folder the walk passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Named like a klartext output (`a.en.txt`, `a.fixed.de.txt`, `a.txt.bak`).
    Output(PathBuf),
    /// A symlink, not followed without `--follow`.
    Symlink(PathBuf),
    /// A symlink loop, an unreadable folder, a broken link.
    Unreadable(String),
}

/// The rules of the walk beyond the globs; the defaults are ripgrep's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// Take hidden files and folders too (`--hidden`).
    pub hidden: bool,
    /// Do not honour `.gitignore`, `.ignore` and git's exclude files (`--no-ignore`).
    pub no_ignore: bool,
    /// Follow symlinks (`--follow`); a file reached through one that lies outside the folder
    /// walked is still taken, and reported in [`Found::outside`].
    pub follow: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", root.display())]
pub struct WalkError {
    pub root: PathBuf,
    pub message: String,
}

/// The include and exclude patterns, as gitignore-style globs relative to each folder.
#[derive(Debug, Clone)]
pub struct Patterns {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Default for Patterns {
    fn default() -> Self {
        Self {
            include: DEFAULT_GLOBS.iter().map(|g| (*g).to_owned()).collect(),
            exclude: Vec::new(),
        }
    }
}

impl Patterns {
    /// `globs` as one matcher relative to `root`, each prefixed with `prefix` (`!` makes an
    /// override glob exclude).
    fn matcher(root: &Path, globs: &[String], prefix: &str) -> Result<Override, WalkError> {
        let error = |e: ignore::Error| WalkError {
            root: root.to_owned(),
            message: format!("bad pattern: {e}"),
        };
        let mut builder = OverrideBuilder::new(root);
        for glob in globs {
            builder.add(&format!("{prefix}{glob}")).map_err(error)?;
        }
        builder.build().map_err(error)
    }

    /// Whether `path` (inside `root`) is excluded: used to allow an output folder inside an
    /// input folder when the user excluded it.
    pub fn excludes(&self, root: &Path, path: &Path) -> bool {
        let mut builder = OverrideBuilder::new(root);
        for glob in &self.exclude {
            if builder.add(glob).is_err() {
                return false;
            }
        }
        builder
            .build()
            .is_ok_and(|m| m.matched(path, true).is_whitelist())
    }
}

/// Walk `root` (sorted by name, so runs are reproducible) and return the inputs and what was
/// skipped: [`walker`], collected.
pub fn walk(
    root: &Path,
    patterns: &Patterns,
    rules: Rules,
) -> Result<(Vec<Found>, Vec<Skipped>), WalkError> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for step in walker(root, patterns, rules)? {
        match step {
            Ok(f) => found.push(f),
            Err(s) => skipped.push(s),
        }
    }
    Ok((found, skipped))
}

/// The walk of `root` (sorted by name, so runs are reproducible), each input or skip as it is
/// found, so a run can start on the first files while the walk goes on; the patterns are
/// checked before anything is walked. Ignore and hidden-file rules come first, as in ripgrep
/// (the excludes are applied with them); the include globs then narrow what is left, so they
/// never resurrect a file the rules hid. Symlinks are reported and passed over unless
/// `rules.follow`; a followed loop is reported, never followed twice.
pub fn walker(
    root: &Path,
    patterns: &Patterns,
    rules: Rules,
) -> Result<impl Iterator<Item = Result<Found, Skipped>> + Send + use<>, WalkError> {
    // Override globs that only exclude leave everything else to the ignore rules; an override
    // that includes would whitelist ignored and hidden files.
    let excludes = Patterns::matcher(root, &patterns.exclude, "!")?;
    let includes = Patterns::matcher(root, &patterns.include, "")?;
    let honour = !rules.no_ignore;
    let walker = WalkBuilder::new(root)
        .hidden(!rules.hidden)
        .git_ignore(honour)
        .git_global(honour)
        .git_exclude(honour)
        .require_git(false)
        .ignore(honour)
        .parents(honour)
        .follow_links(rules.follow)
        .overrides(excludes)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    let root = root.to_owned();
    let real_root = root.canonicalize().unwrap_or_else(|_| root.clone());
    Ok(walker.filter_map(move |entry| {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return Some(Err(Skipped::Unreadable(e.to_string()))),
        };
        let is_link = entry.path_is_symlink() && entry.depth() > 0;
        if is_link && !rules.follow {
            return Some(Err(Skipped::Symlink(entry.into_path())));
        }
        if !is_file(&entry) {
            return None;
        }
        let path = entry.into_path();
        let relative = path.strip_prefix(&root).unwrap_or(&path).to_owned();
        if !includes.is_empty() && !includes.matched(&relative, false).is_whitelist() {
            return None;
        }
        if is_output_name(&path) {
            return Some(Err(Skipped::Output(path)));
        }
        let outside = if rules.follow {
            path.canonicalize()
                .ok()
                .filter(|real| !real.starts_with(&real_root))
        } else {
            None
        };
        Some(Ok(Found {
            path,
            relative,
            outside,
        }))
    }))
}

/// The JSON files inside every folder named `folder` below `root` (the `.klartext` folders
/// that hold review records beside outputs), sorted. Everything is looked at, hidden and
/// ignored files included, since outputs are often ignored; symlinks are not followed.
pub fn sidecars(root: &Path, folder: &str) -> Vec<PathBuf> {
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(false)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    walker
        .flatten()
        .filter(is_file)
        .map(DirEntry::into_path)
        .filter(|p| {
            let in_folder = p
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == folder);
            in_folder && p.extension().is_some_and(|e| e == "json")
        })
        .collect()
}

fn is_file(entry: &DirEntry) -> bool {
    entry.file_type().is_some_and(|t| t.is_file())
}

/// `a.en.txt`, `a.fixed.de.md`, `a.txt.bak`, `.klartext-*.tmp`, `klartext-report.json`: files
/// klartext writes, never inputs.
pub fn is_output_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let tags: Vec<&str> = name.split('.').skip(1).collect();
    tags.iter()
        .any(|t| t.eq_ignore_ascii_case("en") || t.eq_ignore_ascii_case("fixed"))
        || name.ends_with(".bak")
        || (name.starts_with(".klartext-") && name.ends_with(".tmp"))
        || name == super::REPORT_NAME
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (path, text) in [
            ("a.de.txt", "Eins."),
            ("b.md", "# Zwei"),
            ("notes.rtf", "not prose"),
            ("sub/deeper/c.txt", "Drei."),
            ("sub/c.en.txt", "Three."),
            ("sub/d.fixed.de.txt", "Vier."),
            (".hidden/e.txt", "Fünf."),
            ("ignored/f.txt", "Sechs."),
            ("drafts/g.txt", "Sieben."),
            (".gitignore", "ignored/\n"),
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }
        dir
    }

    fn relative(found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| f.relative.display().to_string())
            .collect()
    }

    #[test]
    fn honours_hidden_gitignore_globs_and_outputs() {
        let dir = tree();
        let (found, skipped) =
            walk(dir.path(), &Patterns::default(), Rules::default()).expect("walk");
        assert_eq!(
            relative(&found),
            ["a.de.txt", "b.md", "drafts/g.txt", "sub/deeper/c.txt"]
        );
        let outputs = skipped
            .iter()
            .filter(|s| matches!(s, Skipped::Output(_)))
            .count();
        assert_eq!(outputs, 2, "{skipped:?}");

        let only_txt = Patterns {
            include: vec!["*.txt".into()],
            exclude: vec!["drafts/".into()],
        };
        let (found, _) = walk(dir.path(), &only_txt, Rules::default()).expect("walk");
        assert_eq!(relative(&found), ["a.de.txt", "sub/deeper/c.txt"]);
        assert!(only_txt.excludes(dir.path(), &dir.path().join("drafts")));
        assert!(!only_txt.excludes(dir.path(), &dir.path().join("sub")));
    }

    #[cfg(unix)]
    #[test]
    fn followed_symlink_loops_are_reported_not_followed_twice() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");
        let (found, skipped) = walk(
            dir.path(),
            &Patterns::default(),
            Rules {
                follow: true,
                ..Rules::default()
            },
        )
        .expect("walk");
        assert_eq!(found.len(), 4, "each file once: {:?}", relative(&found));
        assert!(
            skipped
                .iter()
                .any(|s| matches!(s, Skipped::Unreadable(m) if m.contains("loop"))),
            "{skipped:?}"
        );
    }

    /// Ignore rules and hidden-file rules hold as in ripgrep, whatever the globs say; only
    /// `--hidden` and `--no-ignore` let those files in.
    #[test]
    fn globs_never_resurrect_ignored_or_hidden_files() {
        let dir = tree();
        for (path, text) in [
            ("secret.txt", "Geheim."),
            ("private.md", "Privat."),
            (".draft.txt", "Versteckt."),
            ("sub/.notes.md", "Versteckt."),
            (".ignore", "private.md\n"),
            (".gitignore", "ignored/\nsecret.txt\n"),
        ] {
            fs::write(dir.path().join(path), text).expect("write");
        }
        let visible = ["a.de.txt", "b.md", "drafts/g.txt", "sub/deeper/c.txt"];
        let txt = Patterns {
            include: vec!["*.txt".into()],
            exclude: Vec::new(),
        };
        for patterns in [Patterns::default(), txt.clone()] {
            let (found, _) = walk(dir.path(), &patterns, Rules::default()).expect("walk");
            let names = relative(&found);
            for hidden in ["secret.txt", "private.md", ".draft.txt", "sub/.notes.md"] {
                assert!(!names.contains(&hidden.to_owned()), "{hidden} in {names:?}");
            }
        }
        let (found, _) = walk(dir.path(), &Patterns::default(), Rules::default()).expect("walk");
        assert_eq!(relative(&found), visible);

        let hidden = Rules {
            hidden: true,
            ..Rules::default()
        };
        let (found, _) = walk(dir.path(), &Patterns::default(), hidden).expect("walk");
        let names = relative(&found);
        for name in [".draft.txt", "sub/.notes.md", ".hidden/e.txt"] {
            assert!(
                names.contains(&name.to_owned()),
                "{name} missing: {names:?}"
            );
        }
        assert!(!names.contains(&"secret.txt".to_owned()), "{names:?}");

        let no_ignore = Rules {
            no_ignore: true,
            ..Rules::default()
        };
        let (found, _) = walk(dir.path(), &txt, no_ignore).expect("walk");
        let names = relative(&found);
        for name in ["secret.txt", "ignored/f.txt"] {
            assert!(
                names.contains(&name.to_owned()),
                "{name} missing: {names:?}"
            );
        }
        assert!(!names.contains(&".draft.txt".to_owned()), "{names:?}");
        assert!(
            !names.contains(&"private.md".to_owned()),
            "*.txt only: {names:?}"
        );
    }

    /// Symlinks are passed over and reported unless followed; followed, a file that lies
    /// outside the folder walked is marked as such.
    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed_unless_asked_and_outside_files_are_marked() {
        let base = tempfile::tempdir().expect("tempdir");
        let input = base.path().join("in");
        let outside = base.path().join("outside");
        fs::create_dir_all(&input).expect("mkdir");
        fs::create_dir_all(&outside).expect("mkdir");
        fs::write(input.join("a.txt"), "Eins.").expect("write");
        fs::write(outside.join("secret.txt"), "Geheim.").expect("write");
        std::os::unix::fs::symlink("../outside/secret.txt", input.join("notes.txt"))
            .expect("symlink");
        std::os::unix::fs::symlink("../outside", input.join("linkdir")).expect("symlink");
        std::os::unix::fs::symlink("a.txt", input.join("same.txt")).expect("symlink");

        let (found, skipped) = walk(&input, &Patterns::default(), Rules::default()).expect("walk");
        assert_eq!(relative(&found), ["a.txt"]);
        let links: Vec<_> = skipped
            .iter()
            .filter_map(|s| match s {
                Skipped::Symlink(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(links, ["linkdir", "notes.txt", "same.txt"]);

        let follow = Rules {
            follow: true,
            ..Rules::default()
        };
        let (found, _) = walk(&input, &Patterns::default(), follow).expect("walk");
        assert_eq!(
            relative(&found),
            ["a.txt", "linkdir/secret.txt", "notes.txt", "same.txt"]
        );
        let outside: Vec<_> = found
            .iter()
            .filter(|f| f.outside.is_some())
            .map(|f| f.relative.display().to_string())
            .collect();
        assert_eq!(outside, ["linkdir/secret.txt", "notes.txt"]);
    }

    #[test]
    fn output_names() {
        for name in [
            "a.en.txt",
            "a.fixed.de.txt",
            "a.txt.bak",
            "klartext-report.json",
        ] {
            assert!(is_output_name(Path::new(name)), "{name}");
        }
        for name in ["a.de.txt", "english.txt", "en.txt", "b.md"] {
            assert!(!is_output_name(Path::new(name)), "{name}");
        }
    }
}
