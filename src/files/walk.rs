//! Finding the inputs of a batch: walk folders the way ripgrep and fd do (hidden files and
//! `.gitignore` rules honoured), keep the files that match the include globs and none of the
//! excludes, skip files that are klartext's own outputs, and never loop on symlinks.

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
}

/// A file or folder the walk passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Named like a klartext output (`a.en.txt`, `a.fixed.de.txt`, `a.txt.bak`).
    Output(PathBuf),
    /// A symlink loop, an unreadable folder, a broken link.
    Unreadable(String),
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
    fn matcher(&self, root: &Path) -> Result<Override, WalkError> {
        let error = |e: ignore::Error| WalkError {
            root: root.to_owned(),
            message: format!("bad pattern: {e}"),
        };
        let mut builder = OverrideBuilder::new(root);
        for glob in &self.include {
            builder.add(glob).map_err(error)?;
        }
        for glob in &self.exclude {
            builder.add(&format!("!{glob}")).map_err(error)?;
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
/// skipped. Symlinks are followed; a loop is reported, never followed twice.
pub fn walk(root: &Path, patterns: &Patterns) -> Result<(Vec<Found>, Vec<Skipped>), WalkError> {
    let matcher = patterns.matcher(root)?;
    let walker = WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .ignore(true)
        .parents(true)
        .follow_links(true)
        .overrides(matcher)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .build();
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for entry in walker {
        match entry {
            Ok(entry) if is_file(&entry) => {
                let path = entry.into_path();
                if is_output_name(&path) {
                    skipped.push(Skipped::Output(path));
                    continue;
                }
                let relative = path.strip_prefix(root).unwrap_or(&path).to_owned();
                found.push(Found { path, relative });
            }
            Ok(_) => {}
            Err(e) => skipped.push(Skipped::Unreadable(e.to_string())),
        }
    }
    Ok((found, skipped))
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
        let (found, skipped) = walk(dir.path(), &Patterns::default()).expect("walk");
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
        let (found, _) = walk(dir.path(), &only_txt).expect("walk");
        assert_eq!(relative(&found), ["a.de.txt", "sub/deeper/c.txt"]);
        assert!(only_txt.excludes(dir.path(), &dir.path().join("drafts")));
        assert!(!only_txt.excludes(dir.path(), &dir.path().join("sub")));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");
        let (found, skipped) = walk(dir.path(), &Patterns::default()).expect("walk");
        assert_eq!(found.len(), 4, "each file once: {:?}", relative(&found));
        assert!(
            skipped
                .iter()
                .any(|s| matches!(s, Skipped::Unreadable(m) if m.contains("loop"))),
            "{skipped:?}"
        );
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
