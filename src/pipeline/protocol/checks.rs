//! Text-level checks on one model output against its German source: German residue (the
//! output is not English), echo (the output repeats the source) and model commentary or
//! refusal text inside the output. Word heuristics only, no language model; shared by reply
//! validation and the offline `verify` pass.

/// Quoted spans of at most this many words are taken as titles ("Das Boot") and not counted
/// as German residue; an untranslated quotation is usually longer.
const TITLE_WORDS: usize = 6;

/// How much of a text is German, counted in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Residue {
    /// Words that only German uses (function words, lower-case words with umlauts or ß).
    pub german: usize,
    /// All words (tokens with at least one letter).
    pub words: usize,
}

impl Residue {
    pub fn ratio(&self) -> f32 {
        if self.words == 0 {
            0.0
        } else {
            self.german as f32 / self.words as f32
        }
    }

    /// Too German to be English: a clear share with some substance, or a large share of a
    /// short text.
    pub fn is_german(&self) -> bool {
        let ratio = self.ratio();
        (self.german >= 3 && ratio >= 0.15) || (self.words >= 4 && ratio >= 0.40)
    }
}

/// German function words that are not also English words. Left out on purpose, because
/// English prose uses them: die, also, man, will, was, war, hat, den, in, an, am, so, um,
/// bin, bis, er, du, de, nun, dir, oft, dies, mal, seine (the river), and von (a name particle,
/// as in "von Neumann"). "die" counts separately when a noun follows (see [`residue`]).
#[rustfmt::skip]
pub(super) const GERMAN_FUNCTION_WORDS: &[&str] = &[
    "aber", "allerdings", "als", "auch", "auf", "aus", "außerdem", "bei", "beim", "bereits",
    "bist", "dabei", "dafür", "daher", "damit", "dann", "darauf", "das", "dass", "dazu", "dem",
    "denn", "der", "des", "deshalb", "diese", "diesem", "diesen", "dieser", "dieses", "doch",
    "dort", "durch", "ein", "eine", "einem", "einen", "einer", "eines", "es", "etwa", "für",
    "gegen", "gewesen", "gibt", "habe", "haben", "hast", "hatte", "hatten", "heute", "hier",
    "ich", "ihm", "ihn", "ihnen", "ihr", "ihre", "ihrem", "ihren", "ihrer", "im", "immer", "ins",
    "ist", "jede", "jeder", "jedes", "jedoch", "jetzt", "kann", "kein", "keine", "keinen",
    "keiner", "konnte", "können", "laut", "mehr", "mich", "mir", "mit", "muss", "müssen", "nach",
    "nicht", "nichts", "noch", "nur", "ob", "obwohl", "oder", "ohne", "rund", "schon", "sehr",
    "sei", "seien", "sein", "seinem", "seinen", "seiner", "seit", "sich", "sie", "sind", "sogar",
    "soll", "sollen", "sollte", "sondern", "sowie", "und", "uns", "unter", "vom", "vor", "waren",
    "wegen", "weil", "wenn", "werde", "werden", "wie", "wieder", "wir", "wird", "wollen",
    "wollte", "worden", "wurde", "wurden", "während", "zu", "zudem", "zum", "zur", "zwar",
    "zwischen", "über",
];

fn is_german_function_word(lower: &str) -> bool {
    GERMAN_FUNCTION_WORDS.binary_search(&lower).is_ok()
}

/// One word of a text, with what the residue count needs to know about its position.
struct Word<'a> {
    text: &'a str,
    /// First word of a sentence, line or text: German capitalizes function words only here.
    sentence_start: bool,
    /// Inside a short quoted span, i.e. probably a title.
    in_title: bool,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '„' | '“' | '”' | '«' | '»')
}

fn scan_words(text: &str) -> Vec<Word<'_>> {
    let mut words: Vec<Word> = Vec::new();
    let mut boundary = true;
    let mut quote_from: Option<usize> = None;
    let mut start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            words.push(Word {
                text: &text[s..i],
                sentence_start: boundary,
                in_title: false,
            });
            boundary = false;
        }
        if matches!(c, '.' | '!' | '?' | ':' | ';' | '\n' | '…') {
            boundary = true;
        } else if is_quote(c) {
            // Quote marks toggle, whatever their style: MT output mixes „…“, “…” and "…".
            match quote_from.take() {
                Some(from) if words.len() - from <= TITLE_WORDS => {
                    words[from..].iter_mut().for_each(|w| w.in_title = true);
                }
                Some(_) => {}
                None => quote_from = Some(words.len()),
            }
        }
    }
    words
}

fn starts_upper(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Count the German words in `text`. Not counted: acronyms ("MIT", "ALS"), capitalized
/// function words inside a sentence (names and titles such as "Der Spiegel"), short quoted
/// titles, and "der"/"dem"/"des" after "von"/"van". "die" counts only before a capitalized
/// word, where it is the German article ("die Regierung"), not the English verb.
pub fn residue(text: &str) -> Residue {
    let words = scan_words(text);
    let mut residue = Residue::default();
    for (i, word) in words.iter().enumerate() {
        if !word.text.chars().any(char::is_alphabetic) {
            continue;
        }
        residue.words += 1;
        let acronym = word.text.chars().count() > 1 && !word.text.chars().any(char::is_lowercase);
        let title_case = starts_upper(word.text) && !word.sentence_start;
        if word.in_title || acronym || title_case {
            continue;
        }
        let lower = word.text.to_lowercase();
        let previous = i.checked_sub(1).map(|p| words[p].text.to_lowercase());
        let after_particle = matches!(previous.as_deref(), Some("von" | "van"));
        let german = match lower.as_str() {
            "der" | "dem" | "des" if after_particle => false,
            "die" => words.get(i + 1).is_some_and(|next| starts_upper(next.text)),
            other => {
                is_german_function_word(other)
                    || (!starts_upper(word.text) && other.contains(['ä', 'ö', 'ü', 'ß']))
            }
        };
        if german {
            residue.german += 1;
        }
    }
    residue
}

/// Share of German words in `text` (0.0 for text without words). See [`residue`].
pub fn german_residue(text: &str) -> f32 {
    residue(text).ratio()
}

fn normalized_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Dice coefficient of two word multisets: 1.0 when the same words occur equally often.
/// Order-blind on purpose: an echo with a few words moved is still an echo, and a real
/// translation shares little beyond names and numbers.
fn word_similarity(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (2 * common) as f32 / (a.len() + b.len()) as f32
}

/// The output repeats the German source: the same words, or (from four words up) at least
/// 90 % word overlap. A source without a single German word (a name, a number, a product)
/// legitimately comes back unchanged, so it is never an echo.
pub fn is_echo(source: &str, output: &str) -> bool {
    if residue(source).german == 0 {
        return false;
    }
    let (src, out) = (normalized_words(source), normalized_words(output));
    if src == out {
        return !src.is_empty();
    }
    src.len().min(out.len()) >= 4 && word_similarity(&src, &out) >= 0.9
}

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
    let src_words = normalized_words(source);
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
    if let Some(label) = opening(output) {
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
