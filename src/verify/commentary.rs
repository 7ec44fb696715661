//! Model commentary, reasoning or refusal text inside an output ("Here is the translation:",
//! "Note: …", "<think>", "I cannot …"), excused where the German source says the same itself.
//! Shared by reply validation and the form check.

use super::text::words;

/// Model commentary, reasoning or refusal text inside an output, judged on the output alone.
/// Returns a short label of what was found. See [`commentary_with_source`].
pub fn commentary(output: &str) -> Option<&'static str> {
    commentary_with_source("", output)
}

/// Like [`commentary`], but excuses phrases the German source accounts for: "I'm sorry" when
/// the source speaks in the first person, "Note:" at a line start when the source has such
/// labels itself ("Hinweis:"), "As an AI" when the source says "als KI", any marker the
/// source contains literally.
pub fn commentary_with_source(source: &str, output: &str) -> Option<&'static str> {
    let out = output.to_ascii_lowercase();
    let src = source.to_lowercase();
    let src_words = words(source);
    let src_has_word = |list: &[&str]| src_words.iter().any(|w| list.contains(&w.as_str()));

    for marker in ["<think>", "</think>"] {
        if out.contains(marker) && !src.contains(marker) {
            return Some("<think>");
        }
    }
    if find_phrase(&out, "as an ai").is_some()
        && !["as an ai", "als ki", "als künstliche intelligenz"]
            .iter()
            .any(|s| src.contains(s))
    {
        return Some("As an AI");
    }
    // Refusals and apologies are first-person; a first-person source may say the same.
    let first_person = src_has_word(&["ich", "mir", "mich", "mein", "meine", "meinen", "meinem"]);
    if !first_person {
        let earliest = REFUSALS
            .iter()
            .filter_map(|(phrase, label)| find_phrase(&out, phrase).map(|at| (at, *label)))
            .min_by_key(|(at, _)| *at);
        if let Some((_, label)) = earliest {
            return Some(label);
        }
    }
    let src_notes = ["anm", "hinweis", "notiz", "übersetz", "note"];
    if !src_notes.iter().any(|s| src.contains(s)) {
        for phrase in ["(note:", "[note:", "translator's note", "translator’s note"] {
            if out.contains(phrase) {
                return Some("Note:");
            }
        }
    }
    if let Some(label) = opening(output).or_else(|| announced_inside(&out)) {
        return Some(label);
    }
    if !has_line_label(source) {
        for line in output.lines() {
            if let Some(label) = line_label(line) {
                return Some(label);
            }
        }
    }
    None
}

const REFUSALS: [(&str, &str); 9] = [
    ("i cannot", "I cannot"),
    ("i can't", "I cannot"),
    ("i can’t", "I cannot"),
    ("i'm unable", "I cannot"),
    ("i am unable", "I cannot"),
    ("i'm sorry", "I'm sorry"),
    ("i’m sorry", "I'm sorry"),
    ("i am sorry", "I'm sorry"),
    ("i apologize", "I'm sorry"),
];

/// Byte offset of `phrase` in `haystack` where it starts a word.
fn find_phrase(haystack: &str, phrase: &str) -> Option<usize> {
    haystack.match_indices(phrase).map(|(i, _)| i).find(|&i| {
        haystack[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// A line's start, lower-cased, without Markdown decoration ("**Note:**" → "note:").
fn line_head(line: &str) -> String {
    line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '>' | '-'))
        .chars()
        .filter(|c| !matches!(c, '*' | '_'))
        .take(40)
        .collect::<String>()
        .to_lowercase()
}

const LINE_LABELS: [(&str, &str); 13] = [
    ("note:", "Note:"),
    ("notes:", "Note:"),
    ("translation:", "Translation:"),
    ("translated text:", "Translation:"),
    ("english translation:", "Translation:"),
    ("english:", "Translation:"),
    ("corrected:", "Corrected:"),
    ("corrected text:", "Corrected:"),
    ("correction:", "Corrected:"),
    ("revised:", "Corrected:"),
    ("revised text:", "Corrected:"),
    ("explanation:", "Note:"),
    ("output:", "Translation:"),
];

fn line_label(line: &str) -> Option<&'static str> {
    let head = line_head(line);
    LINE_LABELS
        .iter()
        .find(|(prefix, _)| head.starts_with(prefix))
        .map(|(_, label)| *label)
}

/// Whether some line of the source starts with a one-word label such as "Hinweis:".
fn has_line_label(source: &str) -> bool {
    source.lines().any(|line| {
        let head = line_head(line);
        head.split_once(':')
            .is_some_and(|(word, _)| !word.is_empty() && word.chars().all(char::is_alphabetic))
    })
}

/// "Here is the translation:" after the first sentence: an announcement of the task's result,
/// followed by a colon, anywhere in the text ("…the plan. Here is the corrected version: …").
fn announced_inside(lower: &str) -> Option<&'static str> {
    [
        "here is",
        "here's",
        "here’s",
        "below is",
        "the following is",
    ]
    .iter()
    .flat_map(|lead| lower.match_indices(lead).map(|(at, _)| at))
    .find(|&at| {
        let rest: String = lower[at..].chars().take(60).collect();
        let Some((announcement, _)) = rest.split_once(':') else {
            return false;
        };
        !announcement.contains(['.', '\n'])
            && [
                "translat",
                "correct",
                "revis",
                "restor",
                "rewrit",
                "english version",
            ]
            .iter()
            .any(|k| announcement.contains(k))
    })
    .map(|_| "Here is")
}

/// Chatty openers: "Here is the corrected text:", "Sure! Here's …", "Certainly.\n…".
/// Narrower than a plain prefix test because "Here is the catch" and "Sure, we tried that"
/// are ordinary English.
fn opening(output: &str) -> Option<&'static str> {
    let mut lines = output.trim_start().lines();
    let first = lines.next()?;
    let head = line_head(first);
    let more_follows = lines.any(|l| !l.trim().is_empty());
    for (prefix, label) in [
        ("here is", "Here is"),
        ("here's", "Here is"),
        ("here’s", "Here is"),
        ("here are", "Here is"),
    ] {
        if head.starts_with(prefix) {
            let first_lower = first.to_lowercase();
            let about_the_task = [
                "translat", "correct", "revis", "english", "version", "rewrit", "improv", "polish",
                "edit", "fixed", "restor", "output", "result",
            ]
            .iter()
            .any(|k| first_lower.contains(k));
            return about_the_task.then_some(label);
        }
    }
    for (word, label) in [
        ("sure", "Sure"),
        ("certainly", "Certainly"),
        ("of course", "Of course"),
        ("absolutely", "Absolutely"),
    ] {
        let lower = first.trim_start().to_lowercase();
        let Some(rest) = lower.strip_prefix(word) else {
            continue;
        };
        if rest.starts_with(char::is_alphanumeric) {
            continue; // "Surely"
        }
        let rest = rest.trim_start_matches([',', '!', '.', ':']).trim_start();
        if (rest.is_empty() && more_follows)
            || ["here", "below", "the following"]
                .iter()
                .any(|f| rest.starts_with(f))
        {
            return Some(label);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Here is the translation:" in the middle of a paragraph, not only at its start.
    #[test]
    fn an_announcement_inside_the_text() {
        let out = "The plan was approved on Monday. Here is the corrected translation: the plan was approved.";
        assert_eq!(commentary(out), Some("Here is"));
        let out = "It rained. Below is the English version: it rained.";
        assert_eq!(commentary(out), Some("Here is"));
        // Ordinary English with "here is" stays clean.
        for fine in [
            "The rules are simple. Here is the catch: nobody reads them.",
            "Here is what changed: prices rose by 9 percent.",
            "He said the translation was done. Here's why: the deadline moved.",
        ] {
            assert_eq!(commentary(fine), None, "{fine}");
        }
    }

    #[test]
    fn commentary_detection() {
        for (text, label) in [
            (
                "Here is the corrected translation: The board met.",
                "Here is",
            ),
            ("Here's the English version:\n\nThe board met.", "Here is"),
            ("Sure! Here's the text:\nThe board met.", "Sure"),
            ("Certainly.\nThe board met.", "Certainly"),
            ("Of course, here it is: The board met.", "Of course"),
            ("Note: I kept the company name.", "Note:"),
            ("**Translation:** The board met.", "Translation:"),
            (
                "The board met.\n\nNote: \"Vorstand\" is rendered as \"board\".",
                "Note:",
            ),
            ("The board met (note: figures unaudited).", "Note:"),
            ("<think>Which tense?</think>The board met.", "<think>"),
            ("As an AI language model, I prefer not to.", "As an AI"),
            ("I'm sorry, but I can't help with that.", "I'm sorry"),
            ("I cannot translate this text.", "I cannot"),
        ] {
            assert_eq!(commentary(text), Some(label), "{text}");
        }
        for text in [
            "Here is the catch: nobody read the contract.",
            "Sure enough, the update failed again.",
            "Surely nobody expected that.",
            "Certainly the risks are real.",
            "Hawaii cannot wait for the new ferry.",
            "The board met on Monday.",
        ] {
            assert_eq!(commentary(text), None, "{text}");
        }
    }

    #[test]
    fn the_source_excuses_what_it_says_itself() {
        let cases = [
            ("Hinweis: Der Name bleibt.", "Note: The name stays."),
            ("„Es tut mir leid“, sagte sie.", "\"I'm sorry,\" she said."),
            (
                "„Ich kann das nicht akzeptieren“, sagte er.",
                "\"I cannot accept this,\" he said.",
            ),
            (
                "Als KI kann ich das nicht beurteilen.",
                "As an AI, I cannot judge that.",
            ),
            (
                "Das Tag <think> markiert den Denkblock.",
                "The tag <think> marks the reasoning block.",
            ),
        ];
        for (source, output) in cases {
            assert!(commentary(output).is_some(), "{output}");
            assert_eq!(commentary_with_source(source, output), None, "{output}");
        }
    }
}
