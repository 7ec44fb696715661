//! Protocol tests: exact request JSON, the reply schema's strict-mode rules and every reply
//! problem.

use serde_json::{Value, json};

use super::*;

const IDS: [&str; 2] = ["p1", "p2"];
const SOURCES: [&str; 2] = [
    "Der Vorstand hat die Zahlen am Montag vorgelegt.",
    "Die Umsätze sind im dritten Quartal deutlich gestiegen.",
];
const GOOD: [&str; 2] = [
    "The board presented the figures on Monday.",
    "Revenue rose sharply in the third quarter.",
];

fn expect(target: Lang, with_literal: bool) -> Expect<'static> {
    Expect {
        target,
        ids: &IDS,
        sources: &SOURCES,
        with_literal,
    }
}

fn english() -> Expect<'static> {
    expect(Lang::En, false)
}

/// A reply with the given (id, en) pairs and empty notes.
fn reply(segments: &[(&str, &str)]) -> String {
    let list: Vec<Value> = segments
        .iter()
        .map(|(id, en)| json!({"id": id, "en": en, "notes": []}))
        .collect();
    json!({ "segments": list }).to_string()
}

fn good_reply() -> String {
    reply(&[("p1", GOOD[0]), ("p2", GOOD[1])])
}

fn problems(text: &str, expect: &Expect) -> Vec<Problem> {
    parse_reply(text, expect).expect_err("the reply should be rejected")
}

#[test]
fn user_message_with_draft_and_glossary() {
    let items = [
        Item {
            id: "p1",
            role: Role::Paragraph,
            de: "Er sagte: „Das geht nicht.“",
            draft: Some("He said: \"That doesn't work.\""),
            revision: None,
        },
        Item {
            id: "p2",
            role: Role::ListItem,
            de: "Zweiter Absatz.",
            draft: None,
            revision: None,
        },
    ];
    let glossary = [GlossaryTerm {
        de: "Vorstand",
        en: "board",
    }];
    let req = Request {
        items: &items,
        context_before: "Davor.",
        context_after: "Danach.",
        glossary: &glossary,
    };
    assert_eq!(
        user_message(&req),
        r#"{"segments":[{"id":"p1","de":"Er sagte: „Das geht nicht.“","draft":"He said: \"That doesn't work.\""},{"id":"p2","role":"list-item","de":"Zweiter Absatz."}],"context_before":"Davor.","context_after":"Danach.","glossary":[{"de":"Vorstand","en":"board"}]}"#
    );
}

#[test]
fn user_message_without_draft_context_or_glossary_leaves_them_out() {
    let items = [Item {
        id: "7",
        role: Role::Heading,
        de: "Zeile eins\nZeile zwei",
        draft: None,
        revision: None,
    }];
    let req = Request {
        items: &items,
        context_before: "",
        context_after: "",
        glossary: &[],
    };
    assert_eq!(
        user_message(&req),
        r#"{"segments":[{"id":"7","role":"heading","de":"Zeile eins\nZeile zwei"}]}"#
    );
}

#[test]
fn a_refine_segment_carries_its_previous_answer_and_problems() {
    let revision = Revision {
        previous: "Nvidia is nearing a $4 billion valuation.".to_owned(),
        problems: vec![
            Flagged {
                check: "quantity".to_owned(),
                rule: "wrong-scale".to_owned(),
                message: "„4 Billionen“ is 4 trillion, the English says 4 billion".to_owned(),
                span: Some("4 billion".to_owned()),
                de: Some("4 Billionen".to_owned()),
            },
            Flagged {
                check: "form".to_owned(),
                rule: "length-ratio".to_owned(),
                message: "much shorter".to_owned(),
                span: None,
                de: None,
            },
        ],
    };
    let items = [Item {
        id: "s0",
        role: Role::Paragraph,
        de: "Nvidia nähert sich 4 Billionen Dollar.",
        draft: None,
        revision: Some(&revision),
    }];
    let req = Request {
        items: &items,
        context_before: "",
        context_after: "",
        glossary: &[],
    };
    assert_eq!(
        user_message(&req),
        r#"{"segments":[{"id":"s0","de":"Nvidia nähert sich 4 Billionen Dollar.","previous":"Nvidia is nearing a $4 billion valuation.","problems":[{"check":"quantity","rule":"wrong-scale","message":"„4 Billionen“ is 4 trillion, the English says 4 billion","span":"4 billion","de":"4 Billionen"},{"check":"form","rule":"length-ratio","message":"much shorter"}]}]}"#
    );
}

/// OpenAI strict mode: every object closes its properties and requires all of them.
fn assert_strict(schema: &Value, path: &str) {
    if schema.get("type") == Some(&json!("object")) {
        assert_eq!(schema["additionalProperties"], json!(false), "{path}");
        let properties = schema["properties"]
            .as_object()
            .expect("object schema has properties");
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .expect("object schema has required")
            .iter()
            .map(|v| v.as_str().expect("required lists names"))
            .collect();
        keys.sort_unstable();
        required.sort_unstable();
        assert_eq!(keys, required, "{path}");
        for (key, sub) in properties {
            assert_strict(sub, &format!("{path}.{key}"));
        }
    }
    if let Some(items) = schema.get("items") {
        assert_strict(items, &format!("{path}[]"));
    }
}

#[test]
fn the_backends_test_with_this_reply_schema() {
    for with_literal in [false, true] {
        assert_eq!(
            reply_schema(Lang::En, with_literal),
            crate::backend::testing::reply_schema(with_literal)
        );
    }
}

#[test]
fn reply_schemas_are_strict() {
    for (target, literal) in [
        (Lang::En, false),
        (Lang::En, true),
        (Lang::De, false),
        (Lang::De, true),
    ] {
        let schema = reply_schema(target, literal);
        assert_eq!(schema["type"], json!("object"));
        assert_strict(&schema, "$");
        let item = &schema["properties"]["segments"]["items"];
        let mut order = vec!["id", target.code()];
        order.extend(literal.then_some("literal"));
        order.push("notes");
        assert_eq!(item["required"], json!(order), "writing order");
        let name = format!(
            "reply_schema_{}{}",
            target.code(),
            if literal { "_literal" } else { "" }
        );
        let pretty = serde_json::to_string_pretty(&schema).expect("a Value serializes");
        insta::assert_snapshot!(name, pretty);
    }
}

#[test]
fn terms_schema_stays_strict_and_asks_for_terms_last() {
    for literal in [false, true] {
        let schema = with_terms(reply_schema(Lang::En, literal));
        assert_strict(&schema, "$");
        assert_eq!(schema["required"], json!(["segments", "terms"]));
        let term = &schema["properties"]["terms"]["items"];
        assert_eq!(term["required"], json!(["de", "en"]));
        // The segments are unchanged.
        assert_eq!(
            schema["properties"]["segments"],
            reply_schema(Lang::En, literal)["properties"]["segments"]
        );
    }
}

#[test]
fn terms_are_optional_in_a_reply() {
    let without = good_reply();
    assert!(parse_reply(&without, &english()).is_ok());
    assert!(reply_terms(&without).is_empty());
    let with = json!({
        "segments": [{"id": "p1", "en": GOOD[0], "notes": []}, {"id": "p2", "en": GOOD[1], "notes": []}],
        "terms": [{"de": "Kopilot", "en": "Copilot"}]
    })
    .to_string();
    assert_eq!(parse_reply(&with, &english()).expect("valid").len(), 2);
    assert_eq!(reply_terms(&with), vec![Term::new("Kopilot", "Copilot")]);
    // Malformed terms are no reason to reject a reply: they are simply not there.
    let odd = json!({
        "segments": [{"id": "p1", "en": GOOD[0], "notes": []}, {"id": "p2", "en": GOOD[1], "notes": []}],
        "terms": "Kopilot = Copilot"
    })
    .to_string();
    assert!(parse_reply(&odd, &english()).is_ok());
    assert!(reply_terms(&odd).is_empty());
}

#[test]
fn reply_terms_keep_names_only() {
    let text = format!(
        "```json\n{}\n```",
        json!({"segments": [], "terms": [
            {"de": " Der Rand ", "en": "The Verge"},
            {"de": "Bewertung", "en": "valuation"},
            {"de": "Der Rand", "en": "The Edge"},
            {"de": "GB300-Systeme", "en": "GB300 systems"},
            {"de": "", "en": "Copilot"},
            {"de": "⟦1⟧", "en": "Copilot"},
            {"de": "Kopilot"},
            "Openai",
            {"de": "x".repeat(81), "en": "X"}
        ]})
    );
    assert_eq!(
        reply_terms(&text),
        vec![
            Term::new("Der Rand", "The Verge"),
            Term::new("GB300-Systeme", "GB300 systems"),
        ]
    );
    assert!(reply_terms("not json").is_empty());
}

#[test]
fn good_reply_parses() {
    let text = json!({"segments": [
        {"id": "p1", "en": GOOD[0], "notes": ["\"Vorstand\" rendered as \"board\"."]},
        {"id": "p2", "en": GOOD[1], "literal": "ignored when not asked for", "notes": []}
    ]})
    .to_string();
    let segments = parse_reply(&text, &english()).expect("a good reply");
    assert_eq!(
        segments,
        vec![
            ReplySegment {
                id: "p1".into(),
                text: GOOD[0].into(),
                literal: None,
                notes: vec!["\"Vorstand\" rendered as \"board\".".into()],
            },
            ReplySegment {
                id: "p2".into(),
                text: GOOD[1].into(),
                literal: None,
                notes: vec![],
            },
        ]
    );
}

#[test]
fn literal_is_kept_when_asked_for() {
    let text = json!({"segments": [
        {"id": "p1", "en": GOOD[0], "literal": "The board has the numbers on Monday presented.", "notes": []},
        {"id": "p2", "en": GOOD[1], "literal": "The revenues are in the third quarter clearly risen.", "notes": []}
    ]})
    .to_string();
    let segments = parse_reply(&text, &expect(Lang::En, true)).expect("a good reply");
    assert_eq!(
        segments[1].literal.as_deref(),
        Some("The revenues are in the third quarter clearly risen.")
    );
}

#[test]
fn wrappers_around_the_json_are_tolerated() {
    let good = good_reply();
    for wrapped in [
        format!("```json\n{good}\n```"),
        format!("\n  ```\n{good}\n```  \n"),
        format!("<think>The user wants English. Keep \"board\".</think>\n\n{good}"),
        format!("<think>a</think><think>b</think>```JSON\n{good}\n```"),
        format!("Only the closing tag arrives here.</think>\n{good}"),
        format!("\u{feff}{good}\n"),
    ] {
        assert!(parse_reply(&wrapped, &english()).is_ok(), "{wrapped}");
    }
}

#[test]
fn text_outside_the_json_is_not_json() {
    let good = good_reply();
    for text in [
        format!("Here is the JSON:\n{good}"),
        format!("{good}\nHope this helps!"),
        "<think>Still thinking about the first segment".to_owned(),
        good[..good.len() - 10].to_owned(),
        "The board presented the figures on Monday.".to_owned(),
        "```json\n```".to_owned(),
        String::new(),
    ] {
        let found = problems(&text, &english());
        assert!(
            matches!(found.as_slice(), [Problem::NotJson { .. }]),
            "{text}: {found:?}"
        );
    }
}

#[test]
fn wrong_shapes_are_not_json() {
    for (text, needle) in [
        (
            json!({"segments": {"id": "p1", "en": GOOD[0]}}),
            "found an object",
        ),
        (json!([{"id": "p1", "en": GOOD[0]}]), "found an array"),
        (json!("just a string"), "found a scalar"),
        (
            json!({"segments": ["p1", "p2"]}),
            "segments[0] is not an object",
        ),
        (json!({"segments": [{"en": GOOD[0]}]}), "no string \"id\""),
        (
            json!({"segments": [{"id": "p1", "en": 42}]}),
            "\"en\" is not a string",
        ),
    ] {
        let found = problems(&text.to_string(), &english());
        let [Problem::NotJson { detail }, ..] = found.as_slice() else {
            panic!("{text}: {found:?}");
        };
        assert!(detail.contains(needle), "{detail}");
    }
}

#[test]
fn id_problems() {
    let e = english();
    let missing = reply(&[("p1", GOOD[0])]);
    assert_eq!(
        problems(&missing, &e),
        vec![Problem::Missing { id: "p2".into() }]
    );

    let extra = reply(&[("p1", GOOD[0]), ("p2", GOOD[1]), ("p3", "More.")]);
    assert_eq!(
        problems(&extra, &e),
        vec![Problem::Extra { id: "p3".into() }]
    );

    let repeated = reply(&[("p1", GOOD[0]), ("p1", GOOD[0]), ("p2", GOOD[1])]);
    assert_eq!(
        problems(&repeated, &e),
        vec![Problem::Extra { id: "p1".into() }]
    );

    let swapped = reply(&[("p2", GOOD[1]), ("p1", GOOD[0])]);
    assert_eq!(problems(&swapped, &e), vec![Problem::OutOfOrder]);
}

#[test]
fn numeric_ids_are_read_as_strings() {
    let text =
        r#"{"segments":[{"id":1,"en":"One.","notes":[]},{"id":"2","en":"Two.","notes":[]}]}"#;
    let e = Expect {
        target: Lang::En,
        ids: &["1", "2"],
        sources: &["Eins.", "Zwei."],
        with_literal: false,
    };
    assert_eq!(parse_reply(text, &e).expect("ok")[0].id, "1");
}

#[test]
fn empty_and_missing_literal() {
    let text = json!({"segments": [
        {"id": "p1", "en": "  ", "literal": "The board has ...", "notes": []},
        {"id": "p2", "en": GOOD[1], "notes": []}
    ]})
    .to_string();
    assert_eq!(
        problems(&text, &expect(Lang::En, true)),
        vec![
            Problem::Empty { id: "p1".into() },
            Problem::MissingLiteral { id: "p2".into() },
        ]
    );
    // A missing or null text field is an empty segment too.
    let text = r#"{"segments":[{"id":"p1","notes":[]},{"id":"p2","en":null,"notes":[]}]}"#;
    assert_eq!(
        problems(text, &english()),
        vec![
            Problem::Empty { id: "p1".into() },
            Problem::Empty { id: "p2".into() },
        ]
    );
}

#[test]
fn german_residue_echo_and_commentary() {
    let e = english();
    // Half translated: German left in the text, though not a copy of the source.
    let residue_text = reply(&[
        ("p1", GOOD[0]),
        (
            "p2",
            "Revenue ist im dritten Quartal deutlich und nachhaltig gestiegen.",
        ),
    ]);
    let found = problems(&residue_text, &e);
    let [Problem::NotEnglish { id, residue }] = found.as_slice() else {
        panic!("{found:?}");
    };
    assert_eq!(id, "p2");
    assert!(*residue >= 0.15, "{residue}");

    let echo = reply(&[("p1", SOURCES[0]), ("p2", GOOD[1])]);
    let found = problems(&echo, &e);
    assert!(
        found.contains(&Problem::Echo { id: "p1".into() }),
        "{found:?}"
    );
    assert!(found.iter().all(|p| p.segment_id() == Some("p1")));

    let chatty = reply(&[
        (
            "p1",
            &format!("Here is the corrected translation: {}", GOOD[0]),
        ),
        ("p2", GOOD[1]),
    ]);
    assert_eq!(
        problems(&chatty, &e),
        vec![Problem::Commentary {
            id: "p1".into(),
            found: "Here is".into(),
        }]
    );
}

#[test]
fn many_problems_are_reported_together() {
    let text = json!({"segments": [
        {"id": "p2", "en": "<think>which tense?</think>Revenue rose.", "notes": []},
        {"id": "p9", "en": "Stray.", "notes": []},
        {"id": "p1", "en": "", "notes": []}
    ]})
    .to_string();
    assert_eq!(
        problems(&text, &english()),
        vec![
            Problem::Extra { id: "p9".into() },
            Problem::OutOfOrder,
            Problem::Commentary {
                id: "p2".into(),
                found: "<think>".into(),
            },
            Problem::Empty { id: "p1".into() },
        ]
    );
    let text = reply(&[("p3", GOOD[0])]);
    assert_eq!(
        problems(&text, &english()),
        vec![
            Problem::Missing { id: "p1".into() },
            Problem::Missing { id: "p2".into() },
            Problem::Extra { id: "p3".into() },
        ]
    );
}

#[test]
fn german_target_skips_residue_and_echo() {
    let e = expect(Lang::De, false);
    let text = json!({"segments": [
        {"id": "p1", "de": SOURCES[0], "notes": []},
        {"id": "p2", "de": "Die Umsätze sind im dritten Quartal stark gestiegen.", "notes": []}
    ]})
    .to_string();
    let segments = parse_reply(&text, &e).expect("German is the target");
    assert_eq!(segments[0].text, SOURCES[0]);
    // The text must be in "de"; an "en" field does not count.
    assert_eq!(
        problems(&good_reply(), &e),
        vec![
            Problem::Empty { id: "p1".into() },
            Problem::Empty { id: "p2".into() },
        ]
    );
}

#[test]
fn problems_serialize_with_a_kebab_case_tag() {
    let problem = Problem::NotEnglish {
        id: "p2".into(),
        residue: 0.5,
    };
    assert_eq!(
        serde_json::to_value(&problem).expect("serializes"),
        json!({"problem": "not-english", "id": "p2", "residue": 0.5})
    );
    assert_eq!(
        serde_json::to_value(Problem::OutOfOrder).expect("serializes"),
        json!({"problem": "out-of-order"})
    );
    assert_eq!(problem.segment_id(), Some("p2"));
    assert_eq!(
        problem.describe(),
        "segment p2 is not English (50 % German function words)"
    );
    assert_eq!(Problem::OutOfOrder.segment_id(), None);
}

#[test]
fn token_estimate() {
    assert_eq!(estimate_tokens(""), 0);
    assert_eq!(estimate_tokens("a"), 1);
    assert_eq!(estimate_tokens("Größe"), 2);
    assert_eq!(estimate_tokens(&"x".repeat(3500)), 1000);
}

#[test]
fn each_part_of_a_packed_reply_is_validated_alone() {
    let ids = ["d0.s0", "d0.s1", "d1.s0", "d2.s0"];
    let sources = [
        "Der Umsatz stieg im Quartal deutlich an.",
        "Die Firma ist am hinteren Fuß.",
        "Die Kunden wechselten zu einem anderen Anbieter.",
        "Das Team arbeitet weiter an dem Plan.",
    ];
    let expect = Expect {
        target: Lang::En,
        ids: &ids,
        sources: &sources,
        with_literal: false,
    };
    let parts = [0..2, 2..3, 3..4];
    // The second document came back in German; the others are fine.
    let text = json!({"segments": [
        {"id": "d0.s0", "en": "Revenue rose sharply in the quarter.", "notes": []},
        {"id": "d0.s1", "en": "The company is on the back foot.", "notes": []},
        {"id": "d1.s0", "en": sources[2], "notes": []},
        {"id": "d2.s0", "en": "The team keeps working on the plan.", "notes": []}
    ]})
    .to_string();
    let checked = parse_parts(&text, &expect, &parts);
    assert_eq!(checked.len(), 3);
    assert_eq!(checked[0].as_ref().map(Vec::len), Ok(2));
    assert!(checked[1].is_err(), "{:?}", checked[1]);
    assert_eq!(checked[2].as_ref().map(|s| s[0].id.as_str()), Ok("d2.s0"));
    // A segment missing from one document fails that document only.
    let text = json!({"segments": [
        {"id": "d0.s0", "en": "Revenue rose sharply in the quarter.", "notes": []},
        {"id": "d1.s0", "en": "Customers switched to another provider.", "notes": []},
        {"id": "d2.s0", "en": "The team keeps working on the plan.", "notes": []}
    ]})
    .to_string();
    let checked = parse_parts(&text, &expect, &parts);
    assert_eq!(
        checked[0],
        Err(vec![Problem::Missing { id: "d0.s1".into() }])
    );
    assert!(checked[1].is_ok() && checked[2].is_ok());
    // Faults of the whole reply are every part's: not JSON, an id nobody asked for.
    for text in [
        "Sorry, I cannot help.".to_owned(),
        json!({"segments": [
            {"id": "d0.s0", "en": "Revenue rose sharply in the quarter.", "notes": []},
            {"id": "d0.s1", "en": "The company is on the back foot.", "notes": []},
            {"id": "d1.s0", "en": "Customers switched to another provider.", "notes": []},
            {"id": "d2.s0", "en": "The team keeps working on the plan.", "notes": []},
            {"id": "d3.s0", "en": "Invented.", "notes": []}
        ]})
        .to_string(),
    ] {
        let checked = parse_parts(&text, &expect, &parts);
        assert!(checked.iter().all(Result::is_err), "{text}: {checked:?}");
    }
    // One part covering everything is parse_reply.
    let text = json!({"segments": [
        {"id": "d0.s0", "en": "Revenue rose sharply in the quarter.", "notes": []},
        {"id": "d0.s1", "en": "The company is on the back foot.", "notes": []},
        {"id": "d1.s0", "en": "Customers switched to another provider.", "notes": []},
        {"id": "d2.s0", "en": "The team keeps working on the plan.", "notes": []}
    ]})
    .to_string();
    let all = 0..4;
    assert_eq!(
        parse_parts(&text, &expect, std::slice::from_ref(&all)).pop(),
        Some(parse_reply(&text, &expect))
    );
}

#[test]
fn a_paragraph_goes_without_its_role() {
    let items = [
        Item {
            id: "s0",
            role: Role::Heading,
            de: "Titel",
            draft: None,
            revision: None,
        },
        Item {
            id: "s1",
            role: Role::Paragraph,
            de: "Text.",
            draft: None,
            revision: None,
        },
    ];
    let message = user_message(&Request {
        items: &items,
        context_before: "",
        context_after: "",
        glossary: &[],
    });
    assert!(
        message.starts_with(
            r#"{"segments":[{"id":"s0","role":"heading","de":"Titel"},{"id":"s1","de":"Text."}]"#
        ),
        "{message}"
    );
}
