//! Base URLs as the user writes them (in a file or a variable): checked, normalised, and shown
//! without credentials. A URL may not carry a user name or password (`http://user:pw@host`):
//! reqwest would send them as a Basic `Authorization` header beside the provider's own, and
//! every message that names the URL would print them. Keys have their own place (`api_key_env`).

use std::borrow::Cow;
use std::ops::Range;

use super::kinds::Secret;

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadUrl {
    /// It has a user name or password; the text is the URL with them masked.
    Credentials(String),
    /// Wrong scheme or no host; the text says which.
    Invalid(String),
}

/// Checks the scheme and the host, refuses user info, and drops trailing slashes so callers
/// can append paths.
pub(crate) fn normalize_url(url: &str) -> Result<String, BadUrl> {
    let trimmed = url.trim();
    if userinfo(trimmed).is_some() {
        return Err(BadUrl::Credentials(redact_url(trimmed).into_owned()));
    }
    let lower = trimmed.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.trim_start_matches('/').is_empty() => {
            Ok(trimmed.trim_end_matches('/').to_owned())
        }
        Some(_) => Err(BadUrl::Invalid(format!("`{trimmed}` has no host"))),
        None => Err(BadUrl::Invalid(format!(
            "`{trimmed}` must start with http:// or https://"
        ))),
    }
}

/// `url` with its user info (`user:password@`), if any, replaced by a mask; the one way a
/// URL klartext did not build itself is shown. Also for values without a scheme, as
/// `OLLAMA_HOST` takes them (`user:pw@host:11434`).
pub fn redact_url(url: &str) -> Cow<'_, str> {
    match userinfo(url) {
        Some(range) => {
            let mut shown = url.to_owned();
            shown.replace_range(range, Secret::MASK);
            Cow::Owned(shown)
        }
        None => Cow::Borrowed(url),
    }
}

/// The byte range of the user info in `url`: what stands between the scheme (if any) and the
/// last `@` of the authority, which ends at the first `/`, `?` or `#`.
fn userinfo(url: &str) -> Option<Range<usize>> {
    let start = url
        .find("://")
        .filter(|&at| {
            let scheme = &url[..at];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
        .map_or(0, |at| at + "://".len());
    let authority = &url[start..];
    let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    let at = authority[..end].rfind('@')?;
    Some(start..start + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_masked_and_nothing_else() {
        let m = Secret::MASK;
        for (url, shown) in [
            ("http://user:pw@host/v1", format!("http://{m}@host/v1")),
            ("https://token@host:8443", format!("https://{m}@host:8443")),
            ("http://a:b@c@host/x@y", format!("http://{m}@host/x@y")),
            ("HTTP://u:p@h", format!("HTTP://{m}@h")),
            ("user:pw@host:11434", format!("{m}@host:11434")),
            ("http://@host", format!("http://{m}@host")),
            (
                "http://host/v1/@models?q=a@b#c@d",
                "http://host/v1/@models?q=a@b#c@d".to_owned(),
            ),
            ("http://host:8000/v1", "http://host:8000/v1".to_owned()),
            ("host/p?u=http://u:p@x", "host/p?u=http://u:p@x".to_owned()),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn urls_with_credentials_are_refused_without_showing_them() {
        let refused = normalize_url(" http://klartext:hunter2@127.0.0.1:8000/v1/ ");
        assert_eq!(
            refused,
            Err(BadUrl::Credentials(format!(
                "http://{}@127.0.0.1:8000/v1/",
                Secret::MASK
            )))
        );
        // Without a scheme too (as `OLLAMA_HOST` may be written).
        assert_eq!(
            normalize_url("klartext:hunter2@gpu:8000"),
            Err(BadUrl::Credentials(format!("{}@gpu:8000", Secret::MASK)))
        );
        assert_eq!(
            normalize_url("http://gpu:8000/v1/").as_deref(),
            Ok("http://gpu:8000/v1")
        );
    }
}
