use std::path::{Path, PathBuf};

use clap::ValueEnum;
use tempfile::TempDir;

use super::backends::{env_name, ollama_host_url};
use super::*;

const FAKE_KEY: &str = "sk-test-Zebrafink-4711";

/// A temp home with a user config dir and a project dir; nothing outside it is read.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(user: Option<&str>, project: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = Self { dir };
        std::fs::create_dir_all(fixture.config_dir()).expect("config dir");
        std::fs::create_dir_all(fixture.cwd()).expect("project dir");
        if let Some(text) = user {
            std::fs::write(fixture.user_file(), text).expect("user file");
        }
        if let Some(text) = project {
            std::fs::write(fixture.project_file(), text).expect("project file");
        }
        fixture
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }
    fn cwd(&self) -> PathBuf {
        self.dir.path().join("project")
    }
    fn user_file(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }
    fn project_file(&self) -> PathBuf {
        self.cwd().join(PROJECT_FILE)
    }
    fn user(&self) -> Source {
        Source::User(self.user_file())
    }
    fn project(&self) -> Source {
        Source::Project(self.project_file())
    }

    fn env(&self, extra: &[(&str, &str)]) -> Env {
        let base = [
            ("KLARTEXT_CONFIG_DIR", self.config_dir()),
            ("KLARTEXT_CACHE_DIR", self.dir.path().join("cache")),
        ];
        Env::from_pairs(
            base.into_iter()
                .map(|(k, v)| (k.to_owned(), v.display().to_string()))
                .chain(extra.iter().map(|&(k, v)| (k.to_owned(), v.to_owned()))),
        )
    }

    fn load(&self, extra: &[(&str, &str)], flags: &Overrides) -> Result<Settings, ConfigError> {
        load(&self.env(extra), &self.cwd(), flags)
    }

    fn ok(&self, extra: &[(&str, &str)]) -> Settings {
        self.load(extra, &Overrides::default())
            .expect("config loads")
    }

    fn err(&self, extra: &[(&str, &str)]) -> String {
        let err = self
            .load(extra, &Overrides::default())
            .expect_err("config is rejected");
        let text = err.to_string();
        assert!(!text.contains(FAKE_KEY), "key leaked: {text}");
        text
    }
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

#[test]
fn defaults_without_files() {
    let fx = Fixture::new(None, None);
    let s = fx.ok(&[]);
    assert_eq!(s.to, Sourced::new(Lang::En, Source::Default));
    assert_eq!(s.view, Sourced::new(View::Auto, Source::Default));
    assert_eq!(s.color, Sourced::new(ColorChoice::Auto, Source::Default));
    assert_eq!(s.width, None);
    assert!(s.backends.is_empty() && !s.has_passes());
    assert!(s.loaded_files.is_empty());
    assert_eq!(s.user_file, fx.user_file());
    assert_eq!(s.project_file, fx.project_file());
    assert_eq!(
        s.cache_dir.source,
        Source::Env("KLARTEXT_CACHE_DIR".to_owned())
    );
}

#[test]
fn color_layers_in_order() {
    let with_user = Fixture::new(Some("color = \"always\""), None);
    let with_both = Fixture::new(Some("color = \"always\""), Some("color = \"auto\""));
    let no_color = [("NO_COLOR", "1")];
    let env_too = [("NO_COLOR", "1"), ("KLARTEXT_COLOR", "never")];
    let flag = Overrides {
        color: Some(ColorChoice::Always),
        ..Overrides::default()
    };

    let s = Fixture::new(None, None).ok(&no_color);
    assert_eq!(
        s.color,
        Sourced::new(ColorChoice::Never, Source::BaseEnv("NO_COLOR".into()))
    );
    let s = with_user.ok(&no_color);
    assert_eq!(s.color, Sourced::new(ColorChoice::Always, with_user.user()));
    let s = with_both.ok(&no_color);
    assert_eq!(
        s.color,
        Sourced::new(ColorChoice::Auto, with_both.project())
    );
    let s = with_both.ok(&env_too);
    assert_eq!(
        s.color,
        Sourced::new(ColorChoice::Never, Source::Env("KLARTEXT_COLOR".into()))
    );
    let s = with_both.load(&env_too, &flag).expect("loads");
    assert_eq!(
        s.color,
        Sourced::new(ColorChoice::Always, Source::Flag("--color"))
    );
    // An empty NO_COLOR does not count.
    let s = Fixture::new(None, None).ok(&[("NO_COLOR", "")]);
    assert_eq!(s.color.source, Source::Default);
}

#[test]
fn to_view_width_layer_in_order() {
    let fx = Fixture::new(
        Some("to = \"de\"\nview = \"stacked\"\nwidth = 100"),
        Some("view = \"side-by-side\"\nwidth = 120"),
    );
    let s = fx.ok(&[]);
    assert_eq!(s.to, Sourced::new(Lang::De, fx.user()));
    assert_eq!(s.view, Sourced::new(View::SideBySide, fx.project()));
    assert_eq!(s.width, Some(Sourced::new(120, fx.project())));
    assert_eq!(s.loaded_files, vec![fx.user_file(), fx.project_file()]);

    let env = [("KLARTEXT_VIEW", "inline"), ("KLARTEXT_WIDTH", "90")];
    let s = fx.ok(&env);
    assert_eq!(
        s.view,
        Sourced::new(View::Inline, Source::Env("KLARTEXT_VIEW".into()))
    );
    assert_eq!(
        s.width,
        Some(Sourced::new(90, Source::Env("KLARTEXT_WIDTH".into())))
    );

    let flags = Overrides {
        to: Some(Lang::En),
        view: Some(View::None),
        width: Some(60),
        ..Overrides::default()
    };
    let s = fx.load(&env, &flags).expect("loads");
    assert_eq!(s.to, Sourced::new(Lang::En, Source::Flag("--to")));
    assert_eq!(s.view, Sourced::new(View::None, Source::Flag("--view")));
    assert_eq!(s.width, Some(Sourced::new(60, Source::Flag("--width"))));
}

#[test]
fn no_config_skips_both_files() {
    let fx = Fixture::new(Some("to = \"de\""), Some("bogus = 1"));
    let flags = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let s = fx.load(&[], &flags).expect("files are not read");
    assert_eq!(s.to.source, Source::Default);
    assert!(s.loaded_files.is_empty());
}

#[test]
fn klartext_config_names_an_exact_file() {
    let fx = Fixture::new(None, None);
    let other = fx.dir.path().join("elsewhere.toml");
    std::fs::write(&other, "to = \"de\"").expect("write");
    let other_text = other.display().to_string();
    let s = fx.ok(&[("KLARTEXT_CONFIG", &other_text)]);
    assert_eq!(s.to, Sourced::new(Lang::De, Source::User(other)));
}

#[test]
fn backends_merge_field_by_field() {
    let fx = Fixture::new(
        Some(
            r#"
[backends.gpt]
kind = "openai"
model = "gpt-4.1-mini"
api_key_env = "MY_OPENAI_KEY"
"#,
        ),
        Some("[backends.gpt]\nmodel = \"gpt-4.1\"\n"),
    );
    let s = fx.ok(&[("MY_OPENAI_KEY", FAKE_KEY), ("OPENAI_API_KEY", "other")]);
    let gpt = &s.backends["gpt"];
    assert_eq!(gpt.kind, Sourced::new(BackendKind::Openai, fx.user()));
    assert_eq!(
        gpt.model,
        Some(Sourced::new("gpt-4.1".into(), fx.project()))
    );
    assert_eq!(
        gpt.base_url,
        Some(Sourced::new(
            "https://api.openai.com/v1".into(),
            Source::Default
        ))
    );
    assert_eq!(
        gpt.api_key,
        Some(Sourced::new(
            Secret::new(FAKE_KEY),
            Source::Env("MY_OPENAI_KEY".into())
        ))
    );
}

#[test]
fn kind_inferred_from_table_name_and_deepl_host_by_key() {
    let fx = Fixture::new(
        Some("[backends.deepl]\n[passes]\ndraft = \"deepl\"\n"),
        None,
    );
    let s = fx.ok(&[("DEEPL_API_KEY", "abc:fx")]);
    let deepl = &s.backends["deepl"];
    assert_eq!(deepl.kind, Sourced::new(BackendKind::Deepl, fx.user()));
    assert_eq!(deepl.base_url, None);
    assert_eq!(deepl.endpoint(), Some("https://api-free.deepl.com"));
    assert_eq!(
        deepl.api_key_env,
        Some(Sourced::new("DEEPL_API_KEY".into(), Source::Default))
    );
    assert_eq!(
        s.passes.draft,
        Some(Sourced::new(vec!["deepl".into()], fx.user()))
    );
    assert!(s.has_passes());
    let s = fx.ok(&[("DEEPL_API_KEY", "abc")]);
    assert_eq!(
        s.backends["deepl"].endpoint(),
        Some("https://api.deepl.com")
    );
}

#[test]
fn api_key_from_file_when_variable_unset_or_empty() {
    let text = format!("[backends.google]\napi_key = \"{FAKE_KEY}\"\n");
    let fx = Fixture::new(None, Some(&text));
    let s = fx.ok(&[("GOOGLE_TRANSLATE_API_KEY", "")]);
    let key = s.backends["google"].api_key.as_ref().expect("key");
    assert_eq!((key.value.expose(), &key.source), (FAKE_KEY, &fx.project()));
}

#[test]
fn provider_base_url_variables_sit_below_files() {
    let fx = Fixture::new(
        Some(
            "[backends.ollama]\nmodel = \"qwen3:8b\"\n[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://files.example/v1/\"\n",
        ),
        None,
    );
    let s = fx.ok(&[
        ("OLLAMA_HOST", "0.0.0.0"),
        ("OPENAI_BASE_URL", "http://env.example/v1"),
    ]);
    assert_eq!(
        s.backends["ollama"].base_url,
        Some(Sourced::new(
            "http://0.0.0.0:11434".into(),
            Source::BaseEnv("OLLAMA_HOST".into())
        ))
    );
    // The file wins over OPENAI_BASE_URL; the trailing slash is dropped.
    assert_eq!(
        s.backends["gpt"].base_url,
        Some(Sourced::new("http://files.example/v1".into(), fx.user()))
    );
}

#[test]
fn ollama_host_forms() {
    for (given, url) in [
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("gpu-box", "http://gpu-box:11434"),
        (":9000", "http://127.0.0.1:9000"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("::1", "http://[::1]:11434"),
        ("https://ollama.example", "https://ollama.example"),
    ] {
        assert_eq!(ollama_host_url(given), url, "{given}");
    }
}

#[test]
fn named_url_variable_overrides_files() {
    let fx = Fixture::new(
        Some(
            "[backends.my-local]\nkind = \"openai\"\nmodel = \"qwen3:8b\"\nbase_url = \"http://localhost:11434/v1\"\n",
        ),
        None,
    );
    assert_eq!(env_name("my-local"), "MY_LOCAL");
    let s = fx.ok(&[("KLARTEXT_MY_LOCAL_URL", "http://gpu:8000/v1")]);
    assert_eq!(
        s.backends["my-local"].base_url,
        Some(Sourced::new(
            "http://gpu:8000/v1".into(),
            Source::Env("KLARTEXT_MY_LOCAL_URL".into())
        ))
    );
    let err = fx.err(&[("KLARTEXT_MY_LOCAL_URL", "gpu:8000")]);
    assert_contains(&err, &["KLARTEXT_MY_LOCAL_URL", "gpu:8000", "http://"]);
}

#[test]
fn file_errors_name_key_and_file() {
    let project = |text: &str| {
        let fx = Fixture::new(None, Some(text));
        let path = fx.project_file().display().to_string();
        (fx.err(&[]), path)
    };
    let cases: &[(&str, &[&str])] = &[
        ("colour = \"never\"", &["unknown key `colour`", "line 1"]),
        (
            "to = \"en\"\ncolor = \"blue\"",
            &["color", "blue", "always", "line 2"],
        ),
        (
            "[backends.x]\nkind = \"bing\"",
            &["backends.x.kind", "bing", "libretranslate", "line 2"],
        ),
        (
            "[backends.x]\nmodel = \"m\"",
            &["backends.x.kind", "valid kinds", "openai"],
        ),
        (
            "[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"ftp://a\"",
            &["backends.gpt.base_url", "http://"],
        ),
        ("width = 5", &["width", "20 to 1000"]),
        ("[passes]\nrefine = 4", &["passes.refine", "0 to 3"]),
        ("width = 70000", &["width", "70000"]),
        (
            "[backends.claude]\nkind = \"anthropic\"",
            &["backends.claude: `model` is required for kind anthropic"],
        ),
        (
            "[passes]\nrestore = \"gpt\"",
            &["passes.restore", "`gpt` is not defined"],
        ),
        (
            "[passes]\nrestore = [\"deepl\"]\n[backends.deepl]",
            &["passes.restore", "restore needs a chat model"],
        ),
        // The misspelt name is reported, not the table it was meant to be.
        (
            "[passes]\nrestore = \"ollama\"\n[backends.olama]\nmodel = \"m\"",
            &[
                "passes.restore",
                "`ollama` is not defined",
                "defined backends: olama",
            ],
        ),
        ("[passes]\ndraft = []", &["passes.draft", "empty"]),
        (
            "[passes]\ndraft = 3",
            &["passes.draft", "backend name or a list"],
        ),
    ];
    for (text, parts) in cases {
        let (err, path) = project(text);
        assert_contains(&err, parts);
        assert!(err.starts_with(&path), "{err:?} does not start with {path}");
    }
}

/// A user name or password in a URL is refused wherever the URL comes from, shown masked.
#[test]
fn credentials_in_a_url_are_refused_and_masked() {
    const PASSWORD: &str = "hunter2-in-a-url";
    let fx = Fixture::new(
        None,
        Some(&format!(
            "[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://me:{PASSWORD}@gpu/v1\"\n"
        )),
    );
    let err = fx.load(&[], &Overrides::default()).expect_err("refused");
    let text = err.to_string();
    assert_contains(
        &text,
        &[
            &fx.project_file().display().to_string(),
            "backends.gpt.base_url",
            &format!("http://{}@gpu/v1", Secret::MASK),
            "user name or password",
        ],
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(err.hint().is_some_and(|h| h.contains("api_key_env")));

    let fx = Fixture::new(
        None,
        Some("[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\n"),
    );
    for (var, value) in [
        ("OPENAI_BASE_URL", format!("https://me:{PASSWORD}@gpu/v1")),
        ("KLARTEXT_GPT_URL", format!("http://{PASSWORD}@gpu/v1")),
        ("OLLAMA_HOST", format!("me:{PASSWORD}@gpu:11434")),
        ("KLARTEXT_GPT_URL", format!("me:{PASSWORD}@gpu")),
    ] {
        let fx = if var == "OLLAMA_HOST" {
            &Fixture::new(None, Some("[backends.ollama]\nmodel = \"m\"\n"))
        } else {
            &fx
        };
        let err = fx.err(&[(var, value.as_str())]);
        assert_contains(&err, &[var, "user name or password"]);
        assert!(!err.contains(PASSWORD), "{err}");
    }
}

#[test]
fn pass_error_names_the_file_that_set_the_pass() {
    let fx = Fixture::new(
        Some("[passes]\nrestore = \"gpt\""),
        Some("[backends.deepl]"),
    );
    let err = fx.err(&[]);
    assert_contains(
        &err,
        &[
            &fx.user_file().display().to_string(),
            "defined backends: deepl",
        ],
    );
}

#[test]
fn unreadable_files_are_errors() {
    let fx = Fixture::new(None, None);
    std::fs::create_dir(fx.project_file()).expect("dir");
    let err = fx.err(&[]);
    assert_contains(&err, &[&fx.project_file().display().to_string()]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fx = Fixture::new(Some("to = \"de\""), None);
        let user = fx.user_file();
        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        // Root reads anything; then there is nothing to test.
        if std::fs::read(&user).is_err() {
            assert_contains(&fx.err(&[]), &[&user.display().to_string()]);
        }
    }
}

#[test]
fn quotes_are_curly_unless_a_file_or_variable_says_straight() {
    let fx = Fixture::new(None, None);
    assert_eq!(
        fx.ok(&[]).quotes,
        Sourced::new(Quotes::Curly, Source::Default)
    );
    let fx = Fixture::new(Some("quotes = \"straight\""), None);
    assert_eq!(fx.ok(&[]).quotes, Sourced::new(Quotes::Straight, fx.user()));
    let env = [("KLARTEXT_QUOTES", "curly")];
    assert_eq!(
        fx.ok(&env).quotes,
        Sourced::new(Quotes::Curly, Source::Env("KLARTEXT_QUOTES".into()))
    );
    let err = fx.err(&[("KLARTEXT_QUOTES", "smart")]);
    assert_contains(&err, &["KLARTEXT_QUOTES", "smart", "curly, straight"]);
}

#[test]
fn env_errors_name_variable_value_and_valid_values() {
    let fx = Fixture::new(None, None);
    let err = fx.err(&[("KLARTEXT_WIDTH", "wide")]);
    assert_contains(&err, &["KLARTEXT_WIDTH", "wide", "20 to 1000"]);
    let err = fx.err(&[("KLARTEXT_WIDTH", "5000")]);
    assert_contains(&err, &["KLARTEXT_WIDTH", "5000"]);
    let err = fx.err(&[("KLARTEXT_COLOR", "blue")]);
    assert_contains(&err, &["KLARTEXT_COLOR", "blue", "auto, always, never"]);
    let err = fx.err(&[("KLARTEXT_VIEW", "sideways")]);
    assert_contains(&err, &["KLARTEXT_VIEW", "side-by-side"]);
    let flags = Overrides {
        width: Some(5),
        ..Overrides::default()
    };
    let err = fx.load(&[], &flags).expect_err("too narrow").to_string();
    assert_contains(&err, &["flag --width", "5"]);
}

#[test]
fn hints_point_somewhere_useful() {
    let fx = Fixture::new(None, Some("[backends.x]\nmodel = \"m\""));
    let err = fx.load(&[], &Overrides::default()).expect_err("no kind");
    assert_contains(&err.hint().expect("hint"), &["valid values", "deepl"]);
    let fx = Fixture::new(None, Some("[passes]\nrestore = \"nope\""));
    let err = fx.load(&[], &Overrides::default()).expect_err("undefined");
    assert_contains(&err.hint().expect("hint"), &["klartext config path"]);
}

#[test]
fn keys_never_leak() {
    let user = format!(
        "[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\napi_key = \"{FAKE_KEY}\"\n[backends.deepl]\n[passes]\ndraft = \"deepl\"\nrestore = \"gpt\"\n"
    );
    let fx = Fixture::new(Some(&user), None);
    let s = fx.ok(&[("DEEPL_API_KEY", FAKE_KEY)]);
    let shown = serde_json::to_string(&s.show()).expect("json");
    assert!(!shown.contains(FAKE_KEY));
    assert!(shown.contains("•••••••• (set)"));
    assert!(!format!("{s:?}").contains(FAKE_KEY));
    assert!(!format!("{:?}", fx.env(&[("DEEPL_API_KEY", FAKE_KEY)])).contains(FAKE_KEY));
    assert_eq!(
        s.backends["gpt"].api_key.as_ref().map(|k| k.value.expose()),
        Some(FAKE_KEY)
    );

    // Broken files that contain a key: the error quotes neither line nor key.
    for broken in [
        format!("api_key = \"{FAKE_KEY}\"\n"),
        format!("[backends.gpt]\napi_key = \"{FAKE_KEY}\nmodel = \"m\""),
        format!("[backends.gpt]\napi_key = \"{FAKE_KEY}\"\ncolour = 1"),
        "[backends.gpt]\napi_key = 4711\n".to_owned(),
    ] {
        let err = Fixture::new(None, Some(&broken)).err(&[]);
        assert!(!err.contains("4711"), "{err}");
    }
}

#[test]
fn tuning_defaults_overrides_and_ranges() {
    let fx = Fixture::new(
        Some(
            "[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\nconcurrency = 8\n[backends.local]\nkind = \"openai\"\nbase_url = \"http://localhost:8000/v1\"\nmodel = \"m\"\n[backends.deepl]\ntarget_lang = \"en-gb\"\n",
        ),
        Some("[backends.gpt]\nrequests_per_minute = 60\n"),
    );
    let s = fx.ok(&[]);
    let gpt = &s.backends["gpt"].tuning;
    assert_eq!(gpt.concurrency.value, 8);
    assert_eq!(gpt.requests_per_minute.as_ref().map(|v| v.value), Some(60));
    assert!(matches!(
        gpt.requests_per_minute.as_ref().map(|v| &v.source),
        Some(Source::Project(_))
    ));
    assert!(
        gpt.structured.value,
        "structured output by default on api.openai.com"
    );
    assert!(
        !s.backends["local"].tuning.structured.value,
        "not on other servers"
    );
    assert_eq!(s.backends["deepl"].tuning.target_lang.value, "EN-GB");
    assert_eq!(gpt.timeout_secs.source, Source::Default);

    let fx = Fixture::new(None, Some("[backends.deepl]\ntarget_lang = \"FR\"\n"));
    let err = fx
        .load(&[], &Overrides::default())
        .expect_err("bad variant");
    assert_contains(&err.to_string(), &["backends.deepl.target_lang", "EN-GB"]);
    let fx = Fixture::new(None, Some("[backends.deepl]\nconcurrency = 0\n"));
    let err = fx.load(&[], &Overrides::default()).expect_err("range");
    assert_contains(
        &err.to_string(),
        &["backends.deepl.concurrency", "out of range"],
    );
}

/// The batch-job keys: unset job sizes mean the provider's limits; polls every 30 s.
#[test]
fn batch_job_keys_default_override_and_check_their_range() {
    let fx = Fixture::new(
        Some("[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\n"),
        Some("[backends.gpt]\njob_requests = 1000\njob_bytes = 5000000\npoll_secs = 0.05\n"),
    );
    let tuning = &fx.ok(&[]).backends["gpt"].tuning;
    assert_eq!(tuning.job_requests.as_ref().map(|v| v.value), Some(1000));
    assert_eq!(tuning.job_bytes.as_ref().map(|v| v.value), Some(5_000_000));
    assert_eq!(tuning.poll_secs.value, 0.05);
    let fx = Fixture::new(
        Some("[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\n"),
        None,
    );
    let tuning = &fx.ok(&[]).backends["gpt"].tuning;
    assert_eq!(
        (tuning.job_requests.as_ref(), tuning.job_bytes.as_ref()),
        (None, None)
    );
    assert_eq!(tuning.poll_secs.value, 30.0);
    for (line, key) in [
        ("job_requests = 0", "backends.gpt.job_requests"),
        ("job_requests = 100001", "backends.gpt.job_requests"),
        ("job_bytes = 10", "backends.gpt.job_bytes"),
        ("poll_secs = 0.0", "backends.gpt.poll_secs"),
    ] {
        let fx = Fixture::new(None, Some(&format!("[backends.gpt]\n{line}\n")));
        let err = fx.load(&[], &Overrides::default()).expect_err("range");
        assert_contains(&err.to_string(), &[key, "out of range"]);
    }
}

#[test]
fn show_lists_every_value() {
    let fx = Fixture::new(
        Some("[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\n[backends.deepl]\n"),
        None,
    );
    let rows = fx.ok(&[]).show();
    let keys: Vec<&str> = rows.iter().map(|row| row.key.as_str()).collect();
    let mut expected: Vec<String> = [
        "to",
        "view",
        "color",
        "width",
        "quotes",
        "passes.draft",
        "passes.restore",
        "passes.refine",
        "passes.literal",
        "max_cost",
        "memory",
    ]
    .map(String::from)
    .into();
    let common = [
        "kind",
        "base_url",
        "model",
        "api_key_env",
        "api_key",
        "concurrency",
        "requests_per_minute",
        "tokens_per_minute",
        "timeout_secs",
        "max_attempts",
        "max_wait_secs",
    ];
    let per_kind = [
        ("deepl", &["target_lang"][..]),
        (
            "gpt",
            &[
                "max_output_tokens",
                "batch_tokens",
                "pack_documents",
                "temperature",
                "structured",
                "job_requests",
                "job_bytes",
                "poll_secs",
            ],
        ),
    ];
    let per_kind = per_kind.map(|(name, extra)| {
        let price: &[&str] = match name {
            "deepl" => &["price.characters", "price.currency"],
            _ => &["price"],
        };
        (name, [extra, price].concat())
    });
    for (name, extra) in per_kind {
        for field in common.iter().chain(&extra) {
            expected.push(format!("backends.{name}.{field}"));
        }
    }
    expected.push("cache_dir".to_owned());
    assert_eq!(keys, expected);
    let row = |key: &str| rows.iter().find(|row| row.key == key).expect("row");
    assert_eq!(row("to").source, "default");
    assert_eq!(
        (
            row("passes.refine").value.as_str(),
            row("passes.refine").source.as_str()
        ),
        ("1", "default")
    );
    assert_eq!(row("backends.gpt.api_key").value, "(not set)");
    assert_eq!(row("backends.gpt.price").value, "(unknown)");
    assert_eq!(row("backends.deepl.price.characters").value, "25");
    assert_eq!(row("backends.deepl.price.currency").value, "USD");
    assert_eq!(row("max_cost").value, "(no limit)");
    assert_eq!(row("passes.literal").value, "auto");
    assert_eq!(
        row("backends.gpt.kind").source,
        format!("user file {}", fx.user_file().display())
    );
}

#[test]
fn source_display() {
    assert_eq!(
        Source::BaseEnv("NO_COLOR".into()).to_string(),
        "env NO_COLOR"
    );
    assert_eq!(
        Source::Project(Path::new(".klartext.toml").into()).to_string(),
        "project file .klartext.toml"
    );
    assert_eq!(Source::Flag("--color").to_string(), "flag --color");
}

/// clap, serde and Display must spell every value the same way.
#[test]
fn names_agree_across_clap_serde_and_display() {
    fn check<T: ValueEnum + serde::Serialize + std::fmt::Display>() {
        for value in T::value_variants() {
            let clap = value.to_possible_value().expect("named");
            let serde = serde_json::to_string(value).expect("json");
            assert_eq!(serde.trim_matches('"'), clap.get_name());
            assert_eq!(value.to_string(), clap.get_name());
        }
    }
    check::<Lang>();
    check::<View>();
    check::<ColorChoice>();
    check::<BackendKind>();
    check::<Capability>();
    assert_eq!(View::SideBySide.to_string(), "side-by-side");
    assert_eq!(format!("{:?}", Secret::new(FAKE_KEY)), Secret::MASK);
}

#[test]
fn provider_keys_pick_backends_when_nothing_is_configured() {
    let fx = Fixture::new(None, None);
    let s = fx.ok(&[("OPENAI_API_KEY", FAKE_KEY), ("DEEPL_API_KEY", "d:fx")]);
    let restore = s.passes.restore.as_ref().expect("restore picked");
    assert_eq!(restore.value, ["openai"]);
    assert_eq!(restore.source, Source::BaseEnv("OPENAI_API_KEY".to_owned()));
    assert_eq!(
        s.passes.draft.as_ref().map(|d| d.value.clone()),
        Some(vec!["deepl".to_owned()])
    );
    let openai = &s.backends["openai"];
    assert_eq!(
        openai.model.as_ref().map(|m| m.value.as_str()),
        Some("gpt-4.1-mini")
    );
    assert_eq!(openai.endpoint(), Some("https://api.openai.com/v1"));
    assert_eq!(
        s.backends["deepl"].endpoint(),
        Some("https://api-free.deepl.com")
    );

    let s = fx.ok(&[
        ("ANTHROPIC_API_KEY", FAKE_KEY),
        ("KLARTEXT_MODEL", "claude-opus-4-1"),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"),
    ]);
    let claude = &s.backends["anthropic"];
    assert_eq!(
        claude.model.as_ref().map(|m| m.value.as_str()),
        Some("claude-opus-4-1")
    );
    assert_eq!(claude.endpoint(), Some("http://127.0.0.1:9999"));
    assert!(s.passes.draft.is_none());

    assert!(
        !fx.ok(&[("DEEPL_API_KEY", "d")]).has_passes(),
        "a draft alone is not enough"
    );
    assert!(
        !fx.ok(&[("OLLAMA_HOST", "localhost")]).has_passes(),
        "ollama needs KLARTEXT_MODEL"
    );
    let s = fx.ok(&[("OLLAMA_HOST", "localhost"), ("KLARTEXT_MODEL", "qwen3:8b")]);
    assert_eq!(
        s.backends["ollama"].endpoint(),
        Some("http://localhost:11434")
    );

    let configured = Fixture::new(
        Some("[backends.local]\nkind = \"ollama\"\nmodel = \"m\"\n"),
        None,
    );
    let s = configured.ok(&[("OPENAI_API_KEY", FAKE_KEY)]);
    assert!(
        !s.has_passes() && !s.backends.contains_key("openai"),
        "a config file decides"
    );
}

#[test]
fn gemini_reads_google_api_key_and_azure_its_region() {
    let fx = Fixture::new(
        Some("[backends.gemini]\nmodel = \"gemini-2.5-flash\"\n[backends.azure]\n"),
        None,
    );
    let s = fx.ok(&[
        ("GOOGLE_API_KEY", FAKE_KEY),
        ("AZURE_TRANSLATOR_REGION", "westeurope"),
    ]);
    let gemini = s.backends["gemini"].api_key.as_ref().expect("key");
    assert_eq!(gemini.source, Source::Env("GOOGLE_API_KEY".to_owned()));
    let s = fx.ok(&[("GOOGLE_API_KEY", "other"), ("GEMINI_API_KEY", FAKE_KEY)]);
    assert_eq!(
        s.backends["gemini"]
            .api_key
            .as_ref()
            .map(|k| k.value.expose()),
        Some(FAKE_KEY),
        "GEMINI_API_KEY comes first"
    );
    let region = s.backends["azure"]
        .region
        .as_ref()
        .map(|r| r.value.as_str());
    assert_eq!(region, None);
    let s = fx.ok(&[("AZURE_TRANSLATOR_REGION", "westeurope")]);
    let region = s.backends["azure"].region.as_ref().expect("region");
    assert_eq!(
        (region.value.as_str(), &region.source),
        (
            "westeurope",
            &Source::BaseEnv("AZURE_TRANSLATOR_REGION".to_owned())
        )
    );
    assert!(
        s.show()
            .iter()
            .any(|r| r.key == "backends.azure.region" && r.value == "westeurope")
    );
    let fx = Fixture::new(None, Some("[backends.azure]\nregion = \"eastus\"\n"));
    let s = fx.ok(&[("AZURE_TRANSLATOR_REGION", "westeurope")]);
    assert_eq!(
        s.backends["azure"]
            .region
            .as_ref()
            .map(|r| r.value.as_str()),
        Some("eastus"),
        "files win"
    );
}

/// The README's configuration snippets are real: every TOML block in it loads.
#[test]
fn readme_snippets_load() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= 2, "the README shows its configuration");
    for block in blocks {
        let fx = Fixture::new(Some(block), None);
        let settings = fx
            .load(&[], &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n---\n{block}"));
        assert!(!settings.backends.is_empty());
    }
}

#[test]
fn refine_rounds_come_from_the_last_file_that_sets_them() {
    let fx = Fixture::new(
        Some("[passes]\nrefine = 0\n"),
        Some("[passes]\nrefine = 2\n"),
    );
    let refine = fx.ok(&[]).refine;
    assert_eq!(refine.value, 2);
    assert_eq!(refine.source, Source::Project(fx.project_file()));
    let fx = Fixture::new(Some("[passes]\nrefine = 0\n"), None);
    assert_eq!(fx.ok(&[]).refine.value, 0);
    let fx = Fixture::new(None, None);
    assert_eq!(fx.ok(&[]).refine, Sourced::new(1, Source::Default));
}

#[test]
fn prices_come_from_the_table_or_the_config() {
    let fx = Fixture::new(
        Some(
            "max_cost = 5\n[passes]\nliteral = \"none\"\n\
             [backends.mini]\nkind = \"openai\"\nmodel = \"gpt-4.1-mini\"\n\
             [backends.local]\nkind = \"openai\"\nmodel = \"mine\"\n\
             [backends.local.price]\ninput = 1\noutput = 4\ncurrency = \"eur\"\n",
        ),
        None,
    );
    let s = fx.ok(&[]);
    let mini = s.backends["mini"].price.as_ref().expect("built in");
    assert_eq!((mini.value.input, mini.value.output), (0.4, 1.6));
    assert_eq!(mini.source, Source::Default);
    let local = s.backends["local"].price.as_ref().expect("configured");
    // Cached input costs the input price unless set.
    assert_eq!(
        (
            local.value.input,
            local.value.cached_input,
            local.value.output
        ),
        (1.0, 1.0, 4.0)
    );
    assert_eq!(local.value.currency, "EUR");
    assert!(local.value.batch_discount);
    assert_eq!(local.source, fx.user());
    assert_eq!(s.max_cost, Some(Sourced::new(5.0, fx.user())));
    let deepl = |key: &str| {
        let fx = Fixture::new(Some("[backends.deepl]\n"), None);
        let s = fx.ok(&[("DEEPL_API_KEY", key)]);
        s.backends["deepl"]
            .price
            .as_ref()
            .map(|p| p.value.characters)
    };
    assert_eq!(deepl("pro-key"), Some(25.0));
    assert_eq!(
        deepl("free-key:fx"),
        Some(0.0),
        "the Free plan bills nothing"
    );
    assert_eq!(s.literal, Sourced::new(Literal::None, fx.user()));
    let s = fx.ok(&[("KLARTEXT_MAX_COST", "0.5")]);
    assert_eq!(
        s.max_cost,
        Some(Sourced::new(0.5, Source::Env("KLARTEXT_MAX_COST".into())))
    );
    assert_contains(
        &fx.err(&[("KLARTEXT_MAX_COST", "lots")]),
        &["KLARTEXT_MAX_COST", "an amount"],
    );
}

#[test]
fn a_price_table_needs_what_the_kind_bills() {
    for (table, key) in [
        (
            "[backends.gpt]\nkind = \"openai\"\nmodel = \"m\"\n[backends.gpt.price]\ninput = 1\n",
            "backends.gpt.price.output",
        ),
        (
            "[backends.deepl.price]\ninput = 1\noutput = 2\n",
            "backends.deepl.price.characters",
        ),
        (
            "[backends.deepl.price]\ncharacters = -1\n",
            "backends.deepl.price.characters",
        ),
        (
            "[backends.deepl.price]\ncharacters = 1\ncurrency = \"dollars\"\n",
            "backends.deepl.price.currency",
        ),
        ("[backends.deepl.price]\ncharacters = 1\nvat = 19\n", "vat"),
        ("max_cost = -2\n", "max_cost"),
    ] {
        let fx = Fixture::new(Some(table), None);
        assert_contains(&fx.err(&[]), &[key]);
    }
}
