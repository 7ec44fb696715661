//! Configuration errors. Each names the key and where the bad value came from (a file, a
//! variable or a flag); none ever contains an API key.

use std::path::PathBuf;

use super::kinds::{BackendKind, ColorChoice, Lang, View, valid_names};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read (permissions, a directory, not UTF-8).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is not valid TOML or does not fit the config schema.
    #[error("{}: {message}{}", path.display(), at_line(*line, *column))]
    Parse {
        path: PathBuf,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },

    /// A value parsed but is not allowed; `origin` is the file, variable or flag that set it.
    #[error("{origin}: {key}: {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },

    /// An environment variable holds a value klartext cannot use.
    #[error("environment variable {var}={value:?}: {message}")]
    Env {
        var: String,
        value: String,
        message: String,
    },

    /// A URL with a user name or password in it (`http://user:pw@host`), shown masked;
    /// `origin` is the file and key, or the variable.
    #[error("{origin}: `{url}` has a user name or password in it, which klartext does not send")]
    UrlCredentials { origin: String, url: String },

    #[error("cannot find the user configuration directory (no home directory)")]
    NoConfigDir,

    #[error("cannot find the user cache directory (no home directory)")]
    NoCacheDir,
}

fn at_line(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
        (Some(line), None) => format!(" (line {line})"),
        _ => String::new(),
    }
}

impl ConfigError {
    /// A next step for the user, printed under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Io { .. } => Some("check that the path is a readable file".to_owned()),
            Self::Parse { .. } => Some(
                "fix the file, or run with --no-config; `klartext config path` lists the files"
                    .to_owned(),
            ),
            Self::Invalid { key, .. } => Some(valid_values(key).unwrap_or_else(|| {
                "fix the file, or run with --no-config; `klartext config path` lists the files"
                    .to_owned()
            })),
            Self::Env { var, .. } => Some(format!("fix or unset {var}")),
            Self::UrlCredentials { .. } => Some(
                "take `user:password@` out of the URL; klartext sends a key only from the \
                 variable api_key_env names (by default the provider's own, such as \
                 OPENAI_API_KEY), in the provider's own header"
                    .to_owned(),
            ),
            Self::NoConfigDir => Some("set KLARTEXT_CONFIG_DIR to a directory".to_owned()),
            Self::NoCacheDir => Some("set KLARTEXT_CACHE_DIR to a directory".to_owned()),
        }
    }
}

fn valid_values(key: &str) -> Option<String> {
    let last = key.rsplit('.').next().unwrap_or(key);
    let values = match last {
        "to" => valid_names::<Lang>(),
        "view" => valid_names::<View>(),
        "color" => valid_names::<ColorChoice>(),
        "kind" => valid_names::<BackendKind>(),
        "width" => return Some(format!("valid values: {}", super::WIDTH_TEXT)),
        "base_url" => return Some("use a URL starting with http:// or https://".to_owned()),
        _ => return None,
    };
    Some(format!("valid values: {values}"))
}
