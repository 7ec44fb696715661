//! The cache key: a blake3 hash of a canonical, versioned encoding of everything that affects a
//! result. Changing the encoding changes every key, which is safe (old entries just miss), so bump
//! [`KEY_VERSION`] whenever the encoding or the meaning of a field changes.

use std::fmt;

use serde_json::Value;

/// Prefix of every encoded key; bump it to invalidate all entries at once.
const KEY_VERSION: &str = "klartext-cache-v2";

/// Everything that affects a result. Never contains an API key. Not the neighbouring text sent
/// as context: it is advisory, so editing one paragraph leaves its neighbours' results valid.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyParts<'a> {
    /// "draft" | "restore" | "polish-de"
    pub pass: &'a str,
    /// Configured backend name, e.g. "openai".
    pub backend: &'a str,
    /// Backend kind, e.g. "openai".
    pub kind: &'a str,
    /// Model id, or "" for translate services.
    pub model: &'a str,
    /// "" when no prompt.
    pub prompt_hash: &'a str,
    /// Other parameters (target variant, structured, temperature, glossary hits...).
    pub params: &'a Value,
    /// The segment's source text (and draft, concatenated by the caller if relevant).
    pub source: &'a str,
}

/// The identity of one finished segment in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    pub fn new(parts: &KeyParts) -> CacheKey {
        let KeyParts {
            pass,
            backend,
            kind,
            model,
            prompt_hash,
            params,
            source,
        } = parts;
        let mut params_json = String::new();
        write_canonical(params, &mut params_json);

        let mut hasher = blake3::Hasher::new();
        // Length prefixes keep field boundaries unambiguous: ("ab", "c") never equals ("a", "bc").
        for field in [
            KEY_VERSION,
            pass,
            backend,
            kind,
            model,
            prompt_hash,
            &params_json,
            source,
        ] {
            hasher.update(&(field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        CacheKey(*hasher.finalize().as_bytes())
    }

    /// The key of a refine decision ([`super::REFINED`]): the English a paragraph with German
    /// `german` had when it went back to the model (`before`). Quotation marks are folded
    /// straight, so the decision is found whether or not `quotes = "straight"` changed the
    /// text after the cache.
    pub fn refined(german: &str, before: &str) -> CacheKey {
        let folded = crate::quotes::folded(before);
        CacheKey::new(&KeyParts {
            pass: super::REFINED,
            backend: "",
            kind: "",
            model: "",
            prompt_hash: "",
            params: &Value::Null,
            source: &format!("{german}\u{1f}{folded}"),
        })
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// JSON with object keys sorted at every level. Written by hand rather than trusting
/// `serde_json::to_string`, whose key order flips to insertion order if any crate in the build
/// turns on serde_json's `preserve_order` feature.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base_params() -> Value {
        json!({"target": "en-GB", "temperature": 0.2, "glossary": [["Umsatz", "revenue"]]})
    }

    fn parts(params: &Value) -> KeyParts<'_> {
        KeyParts {
            pass: "restore",
            backend: "openai",
            kind: "openai",
            model: "gpt-test",
            prompt_hash: "p1",
            params,
            source: "Der Bericht wurde gestern veröffentlicht.",
        }
    }

    #[test]
    fn same_parts_give_the_same_key() {
        let params = base_params();
        assert_eq!(
            CacheKey::new(&parts(&params)),
            CacheKey::new(&parts(&params))
        );
    }

    #[test]
    fn every_field_changes_the_key() {
        let params = base_params();
        let other_params =
            json!({"target": "en-US", "temperature": 0.2, "glossary": [["Umsatz", "revenue"]]});
        let base = CacheKey::new(&parts(&params));
        let variants: Vec<(&str, KeyParts)> = vec![
            (
                "pass",
                KeyParts {
                    pass: "draft",
                    ..parts(&params)
                },
            ),
            (
                "backend",
                KeyParts {
                    backend: "local",
                    ..parts(&params)
                },
            ),
            (
                "kind",
                KeyParts {
                    kind: "ollama",
                    ..parts(&params)
                },
            ),
            (
                "model",
                KeyParts {
                    model: "gpt-other",
                    ..parts(&params)
                },
            ),
            (
                "prompt_hash",
                KeyParts {
                    prompt_hash: "p2",
                    ..parts(&params)
                },
            ),
            (
                "params",
                KeyParts {
                    params: &other_params,
                    ..parts(&params)
                },
            ),
            (
                "source",
                KeyParts {
                    source: "Der Bericht kam gestern.",
                    ..parts(&params)
                },
            ),
        ];
        for (field, variant) in variants {
            assert_ne!(
                CacheKey::new(&variant),
                base,
                "changing {field} kept the key"
            );
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let params = Value::Null;
        let a = KeyParts {
            model: "ab",
            prompt_hash: "c",
            ..parts(&params)
        };
        let b = KeyParts {
            model: "a",
            prompt_hash: "bc",
            ..parts(&params)
        };
        assert_ne!(CacheKey::new(&a), CacheKey::new(&b));
    }

    #[test]
    fn object_key_order_does_not_matter() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": null}}"#)
                .expect("valid JSON literal");
        let b: Value =
            serde_json::from_str(r#"{"a": {"x": null, "y": [1, {"p": 3, "q": 2}]}, "b": 1}"#)
                .expect("valid JSON literal");
        assert_eq!(CacheKey::new(&parts(&a)), CacheKey::new(&parts(&b)));
        let mut out = String::new();
        write_canonical(&a, &mut out);
        assert_eq!(out, r#"{"a":{"x":null,"y":[1,{"p":3,"q":2}]},"b":1}"#);
    }

    #[test]
    fn key_is_stable_across_runs() {
        // A change here means every existing cache entry misses: only on purpose, with a version bump.
        let params = base_params();
        assert_eq!(
            CacheKey::new(&parts(&params)).to_hex(),
            "ccfd06e93b978bbadfd3304a824d3ae5454479fd92eb5c89891e7eb6c432e3c8"
        );
    }

    #[test]
    fn key_parts_hold_no_secret() {
        let params = base_params();
        let json = serde_json::to_value(parts(&params)).expect("KeyParts serializes");
        let mut fields: Vec<&str> = json
            .as_object()
            .expect("KeyParts serializes as an object")
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        // A new field must be reviewed here: it ends up hashed into every key and must never be a credential.
        assert_eq!(
            fields,
            [
                "backend",
                "kind",
                "model",
                "params",
                "pass",
                "prompt_hash",
                "source"
            ]
        );
        for field in fields {
            for word in ["key", "secret", "token", "auth", "password"] {
                assert!(!field.contains(word), "{field} looks like a credential");
            }
        }
    }
}
