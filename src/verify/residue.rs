//! How German a text is, and whether it merely repeats its source: German residue (the output
//! is not English) and echo (the output is the German again). Word heuristics only, no language
//! model; reply validation (`pipeline::protocol`) and the language check use the same ones, so
//! a reply that passed validation and a finished file are judged alike.

use super::text::{tokens, words};

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
const GERMAN_FUNCTION_WORDS: &[&str] = &[
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
    let mut gap_start = 0;
    let found = tokens(text);
    let gaps = found
        .iter()
        .map(|(range, word)| (range.start, Some((range.end, *word))))
        .chain(std::iter::once((text.len(), None)));
    for (gap_end, word) in gaps {
        // What separates two words decides whether the next starts a sentence or a quotation.
        for c in text[gap_start..gap_end].chars() {
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
        let Some((end, word)) = word else { break };
        words.push(Word {
            text: word,
            sentence_start: boundary,
            in_title: false,
        });
        boundary = false;
        gap_start = end;
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
    let (src, out) = (words(source), words(output));
    if src == out {
        return !src.is_empty();
    }
    src.len().min(out.len()) >= 4 && word_similarity(&src, &out) >= 0.9
}

#[cfg(test)]
mod tests {
    //! English and German sentences written for these tests.

    use super::*;

    const ENGLISH: [&str; 14] = [
        "The board will decide next week whether the plan goes ahead.",
        "Many people die every year because clean water is also scarce.",
        "Researchers at MIT found that the man was right all along.",
        "The German weekly Der Spiegel reported the story first.",
        "Commission President Ursula von der Leyen visited Berlin in March.",
        "The film \"Das Leben der Anderen\" won an Oscar, and „Der Untergang“ was nominated.",
        "Uber and Lyft drivers in San Francisco went on strike over pay.",
        "Die Hard is still the best Christmas film, or so he says.",
        "A boat sank in the Seine near Paris, and the crew was rescued.",
        "I am also sure the man will say so, as he was in an awkward spot.",
        "The art of the deal: bald claims, fast money and a gift for spin.",
        "Sales rose by 4.5% to €12bn, the company said in Munich on Tuesday.",
        "Goethe's novel Die Leiden des jungen Werthers made him famous overnight.",
        "Wernher von Braun worked at the Peenemünde site before the war ended.",
    ];

    const GERMAN: [&str; 12] = [
        "Die Bundesregierung hat am Mittwoch einen neuen Gesetzentwurf zur Digitalisierung der Verwaltung beschlossen.",
        "Nach Angaben des Unternehmens wurden im vergangenen Jahr mehr als zwei Millionen Geräte verkauft.",
        "Das Projekt ist noch nicht abgeschlossen, aber die ersten Ergebnisse sind vielversprechend.",
        "Viele Nutzer beschweren sich über lange Ladezeiten und häufige Abstürze der App.",
        "Wir haben uns bewusst dagegen entschieden, weil die Kosten zu hoch waren.",
        "Laut einer Studie nutzen inzwischen fast drei Viertel der Beschäftigten künstliche Intelligenz.",
        "Der Server wurde nach dem Update neu gestartet, doch das Problem blieb bestehen.",
        "Ob sich das Modell auch in anderen Ländern durchsetzt, ist bislang unklar.",
        "Im Gegensatz zu früheren Versionen unterstützt die Software jetzt auch mehrere Sprachen.",
        "Es gibt keine einfache Lösung für dieses Problem.",
        "Die Zukunft der Arbeit",
        "The government has einen neuen Gesetzentwurf zur Digitalisierung der Verwaltung beschlossen.",
    ];

    #[test]
    fn english_sentences_have_little_residue() {
        for sentence in ENGLISH {
            let r = residue(sentence);
            assert!(r.ratio() < 0.15 && !r.is_german(), "{sentence}: {r:?}");
        }
        assert_eq!(german_residue(""), 0.0);
        assert_eq!(german_residue("2024 – 12,5 %"), 0.0);
    }

    #[test]
    fn german_sentences_are_flagged() {
        for sentence in GERMAN {
            let r = residue(sentence);
            assert!(r.is_german(), "{sentence}: {r:?}");
        }
    }

    #[test]
    fn function_word_list_is_sorted_for_binary_search() {
        assert!(GERMAN_FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn echo_detection() {
        let source =
            "Die Daten werden auf Servern in der EU gespeichert und nach 30 Tagen gelöscht.";
        assert!(is_echo(source, source));
        assert!(is_echo(
            source,
            "die daten werden auf servern in der EU gespeichert, und nach 30 Tagen gelöscht"
        ));
        // One word of fourteen changed: still 93 % the same words.
        assert!(is_echo(
            source,
            "Die Daten werden auf Servern in der EU gespeichert und nach 30 days gelöscht."
        ));
        assert!(!is_echo(
            source,
            "The data is stored on servers in the EU and deleted after 30 days."
        ));
        // Nothing German to translate: a name or a version comes back unchanged.
        assert!(!is_echo("Kubernetes 1.30", "Kubernetes 1.30"));
        assert!(!is_echo("", ""));
    }
}
