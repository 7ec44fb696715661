//! Inside one paragraph pair: the word-level changes, coalesced into clause-sized units, each
//! with a category and, for a small edit inside a word, the graphemes that differ.

use std::time::Instant;

use similar::{Algorithm, DiffOp, TextDiff};
use unicode_segmentation::UnicodeSegmentation;

use super::{Category, Chunk, DiffOptions, Emphasis};

/// Equal runs of at most this many words, each at most `SHORT_WORD` characters long, do not
/// keep two word changes apart ("rot und blau" → "grün und gelb" is one change).
const BRIDGE_WORDS: usize = 2;
const SHORT_WORD: usize = 4;
/// Below this grapheme similarity a changed word is a different word, not an edited one.
const EMPHASIS_MIN: f32 = 0.5;

/// Word-level diff of one paragraph (unicode words, Patience, with the options' timeout).
/// Consecutive changes are coalesced across whitespace-only equal runs, so "a b c" → "x y z"
/// is one change, not three, and word changes also across up to two short words within a
/// sentence. Invariant: the `Same` texts plus every `Change::old` concatenate to `old`, and plus
/// every `Change::new` to `new`.
pub fn diff_words(old: &str, new: &str, opts: &DiffOptions) -> Vec<Chunk> {
    if old == new {
        return same(old).into_iter().collect();
    }
    let mut drafts: Vec<Draft> = Vec::new();
    if old.is_empty() || new.is_empty() {
        drafts.push(Draft::Change(old.to_owned(), new.to_owned()));
    } else {
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Patience)
            .timeout(opts.timeout)
            .diff_unicode_words(old, new);
        // Token ranges → byte ranges: tokens tile the input, so prefix sums of their lengths
        // are the byte offsets.
        let old_at = token_offsets(diff.iter_old_slices().map(str::len));
        let new_at = token_offsets(diff.iter_new_slices().map(str::len));
        for op in diff.ops() {
            let (old_range, new_range) = (op.old_range(), op.new_range());
            let old_text = &old[old_at[old_range.start]..old_at[old_range.end]];
            let new_text = &new[new_at[new_range.start]..new_at[new_range.end]];
            match op {
                DiffOp::Equal { .. } => drafts.push(Draft::Same(old_text.to_owned())),
                _ => push_change(&mut drafts, old_text, new_text, opts),
            }
        }
    }
    drafts
        .into_iter()
        .filter_map(|draft| match draft {
            Draft::Same(text) => same(&text),
            Draft::Change(old, new) => Some(change(old, new, opts)),
        })
        .collect()
}

/// A chunk before its category and emphasis are known.
enum Draft {
    Same(String),
    Change(String, String),
}

fn token_offsets(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut at = 0;
    for len in lengths {
        at += len;
        offsets.push(at);
    }
    offsets
}

/// Appends a change, merging it into the previous change when only a bridge lies between.
fn push_change(drafts: &mut Vec<Draft>, old: &str, new: &str, opts: &DiffOptions) {
    let bridge = match drafts.as_slice() {
        [.., Draft::Change(..)] => Some(String::new()),
        [.., Draft::Change(prev_old, prev_new), Draft::Same(gap)]
            if bridges(gap, (prev_old, prev_new), (old, new), opts) =>
        {
            Some(gap.clone())
        }
        _ => None,
    };
    let Some(bridge) = bridge else {
        drafts.push(Draft::Change(old.to_owned(), new.to_owned()));
        return;
    };
    if !bridge.is_empty() {
        drafts.pop();
    }
    if let Some(Draft::Change(prev_old, prev_new)) = drafts.last_mut() {
        prev_old.extend([bridge.as_str(), old]);
        prev_new.extend([bridge.as_str(), new]);
    }
}

/// Whether an equal run may be swallowed by the changes on either side of it: always when it is
/// whitespace; when it is one or two short words, only within one sentence and between two
/// changes of the same category (`„ja“` → `«ja»` is one punctuation change), so that a
/// punctuation fix is never buried in a word change and can still be accepted in bulk. Edits
/// inside a word (typos, `ss` → `ß`) are independent fixes and keep their emphasis, so they are
/// not joined across words either.
fn bridges(gap: &str, before: (&str, &str), after: (&str, &str), opts: &DiffOptions) -> bool {
    if is_blank(gap) {
        return true;
    }
    let mut words = 0;
    for word in gap.unicode_words() {
        words += 1;
        if words > BRIDGE_WORDS || word.chars().count() > SHORT_WORD {
            return false;
        }
    }
    let kind = category(before.0, before.1);
    words > 0
        && kind != Category::Whitespace
        && kind == category(after.0, after.1)
        && !ends_sentence(before.0, gap, after.0)
        && !ends_sentence(before.1, gap, after.1)
        && emphasis(before.0, before.1, opts).is_none()
        && emphasis(after.0, after.1, opts).is_none()
}

/// Whether a sentence ends within `gap` or at its edges: `.`, `!`, `?` or `…`, perhaps followed
/// by closing quotes or brackets, then whitespace.
fn ends_sentence(before: &str, gap: &str, after: &str) -> bool {
    let context = before
        .chars()
        .last()
        .into_iter()
        .chain(gap.chars())
        .chain(after.chars().next());
    let mut after_terminator = false;
    for c in context {
        if after_terminator && c.is_whitespace() {
            return true;
        }
        after_terminator = match c {
            '.' | '!' | '?' | '…' => true,
            '"' | '\'' | '“' | '”' | '‘' | '’' | '»' | '«' | ')' | ']' => {
                after_terminator
            }
            _ => false,
        };
    }
    false
}

fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

fn same(text: &str) -> Option<Chunk> {
    (!text.is_empty()).then(|| Chunk::Same {
        text: text.to_owned(),
    })
}

fn change(old: String, new: String, opts: &DiffOptions) -> Chunk {
    Chunk::Change {
        category: category(&old, &new),
        emphasis: emphasis(&old, &new, opts),
        old,
        new,
    }
}

/// The narrowest category that explains the difference between the two sides.
pub(super) fn category(old: &str, new: &str) -> Category {
    let without_typography =
        |text: &str| -> String { text.chars().filter(|&c| !is_typography(c)).collect() };
    if is_blank(old) && is_blank(new) {
        Category::Whitespace
    } else if without_typography(old) == without_typography(new) {
        Category::Punctuation
    } else if old.to_lowercase() == new.to_lowercase() {
        Category::Case
    } else {
        Category::Words
    }
}

/// Punctuation and the typographic marks machine translation confuses: quotes, apostrophes,
/// dashes and the ellipsis.
const TYPOGRAPHY: &str = ".,;:!?…\"'„“”‚‘’«»‹›-‐‑‒–—―()[]·";

fn is_typography(c: char) -> bool {
    c.is_whitespace() || TYPOGRAPHY.contains(c)
}

fn one_word(text: &str) -> bool {
    !text.is_empty() && !text.contains(char::is_whitespace)
}

/// For one word edited into another (`Grosse` → `Größe`): the graphemes that differ.
fn emphasis(old: &str, new: &str, opts: &DiffOptions) -> Option<Emphasis> {
    if !(one_word(old) && one_word(new)) {
        return None;
    }
    let diff = TextDiff::configure()
        .timeout(opts.timeout)
        .diff_graphemes(old, new);
    if diff.ratio() < EMPHASIS_MIN {
        return None;
    }
    let old_at = token_offsets(diff.iter_old_slices().map(str::len));
    let new_at = token_offsets(diff.iter_new_slices().map(str::len));
    let mut emphasis = Emphasis {
        old: Vec::new(),
        new: Vec::new(),
    };
    for op in diff.ops() {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        let emphasised = !matches!(op, DiffOp::Equal { .. });
        push_piece(
            &mut emphasis.old,
            emphasised,
            &old[old_at[old_range.start]..old_at[old_range.end]],
        );
        push_piece(
            &mut emphasis.new,
            emphasised,
            &new[new_at[new_range.start]..new_at[new_range.end]],
        );
    }
    Some(emphasis)
}

fn push_piece(pieces: &mut Vec<(bool, String)>, emphasised: bool, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some((last, shown)) if *last == emphasised => shown.push_str(text),
        _ => pieces.push((emphasised, text.to_owned())),
    }
}

/// Share of matching words, ignoring case, whitespace and punctuation. `TextDiff::ratio` counts
/// whitespace tokens, which makes unrelated prose look about half similar.
pub(super) fn word_similarity(old: &str, new: &str, opts: &DiffOptions) -> f32 {
    let (old, new) = (old.to_lowercase(), new.to_lowercase());
    let old_words: Vec<&str> = old.unicode_words().collect();
    let new_words: Vec<&str> = new.unicode_words().collect();
    sequence_similarity(&old_words, &new_words, opts)
}

/// Sequences shorter than this together are diffed without a deadline: the worst case is a few
/// milliseconds, and checking the clock would cost more than the diff.
const UNTIMED_TOKENS: usize = 2_000;

/// `diff_ratio` of a Patience diff of two token sequences; two empty ones are equal.
pub(super) fn sequence_similarity<T: Eq + std::hash::Hash + Ord>(
    old: &[T],
    new: &[T],
    opts: &DiffOptions,
) -> f32 {
    let deadline = if old.len() + new.len() < UNTIMED_TOKENS {
        None
    } else {
        Instant::now().checked_add(opts.timeout)
    };
    let ops = similar::capture_diff_slices_deadline(Algorithm::Patience, old, new, deadline);
    similar::diff_ratio(&ops, old.len(), new.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn words(old: &str, new: &str) -> Vec<Chunk> {
        diff_words(old, new, &DiffOptions::default())
    }

    fn s(text: &str) -> Chunk {
        Chunk::Same { text: text.into() }
    }

    /// A change with the category and emphasis the module would give it.
    fn c(old: &str, new: &str) -> Chunk {
        change(old.to_owned(), new.to_owned(), &DiffOptions::default())
    }

    fn rebuild(chunks: &[Chunk]) -> (String, String) {
        let (mut old, mut new) = (String::new(), String::new());
        for chunk in chunks {
            match chunk {
                Chunk::Same { text } => {
                    old.push_str(text);
                    new.push_str(text);
                }
                Chunk::Change { old: o, new: n, .. } => {
                    old.push_str(o);
                    new.push_str(n);
                }
            }
        }
        (old, new)
    }

    fn categories(chunks: &[Chunk]) -> Vec<Category> {
        chunks
            .iter()
            .filter_map(|chunk| match chunk {
                Chunk::Change { category, .. } => Some(*category),
                Chunk::Same { .. } => None,
            })
            .collect()
    }

    #[test]
    fn insert_delete_replace() {
        assert_eq!(
            words("Der Hund bellt.", "Der große Hund bellt."),
            [s("Der "), c("", "große "), s("Hund bellt.")]
        );
        assert_eq!(
            words("Der große Hund bellt.", "Der Hund bellt."),
            [s("Der "), c("große ", ""), s("Hund bellt.")]
        );
        assert_eq!(
            words("Der Hund bellt.", "Der Hund schläft."),
            [s("Der Hund "), c("bellt", "schläft"), s(".")]
        );
    }

    #[test]
    fn umlauts_stay_whole_words() {
        assert_eq!(
            words("Die Grosse unserer Apfel", "Die Größe unserer Äpfel"),
            [
                s("Die "),
                c("Grosse", "Größe"),
                s(" unserer "),
                c("Apfel", "Äpfel")
            ]
        );
        assert_eq!(
            words("Er ass viel.", "Er aß viel."),
            [s("Er "), c("ass", "aß"), s(" viel.")]
        );
    }

    #[test]
    fn changes_coalesce_across_whitespace_and_short_words() {
        assert_eq!(words("a b c", "x y z"), [c("a b c", "x y z")]);
        assert_eq!(
            words("Es war einmal ein Haus.", "Es gab früher ein Haus."),
            [s("Es "), c("war einmal", "gab früher"), s(" ein Haus.")]
        );
        // One or two short words do not keep word changes apart …
        assert_eq!(
            words("rot und blau", "grün und gelb"),
            [c("rot und blau", "grün und gelb")]
        );
        assert_eq!(
            words("Er kam in der Nacht an.", "Sie ging in der Früh los."),
            [
                c("Er kam in der Nacht an", "Sie ging in der Früh los"),
                s(".")
            ]
        );
        // … a longer word does, and so do three words or a sentence end.
        assert_eq!(
            words("rot sowie blau", "grün sowie gelb"),
            [c("rot", "grün"), s(" sowie "), c("blau", "gelb")]
        );
        assert_eq!(
            words("rot und so auf blau", "grün und so auf gelb"),
            [c("rot", "grün"), s(" und so auf "), c("blau", "gelb")]
        );
        assert_eq!(
            words("Er kam. Da ging sie.", "Er lief. Da rannte sie."),
            [
                s("Er "),
                c("kam", "lief"),
                s(". Da "),
                c("ging", "rannte"),
                s(" sie.")
            ]
        );
        // Edits inside a word stay apart, each with its emphasis.
        assert_eq!(
            words("Die Grosse der Apfel", "Die Größe der Äpfel"),
            [
                s("Die "),
                c("Grosse", "Größe"),
                s(" der "),
                c("Apfel", "Äpfel")
            ]
        );
    }

    #[test]
    fn short_words_join_changes_of_one_category_only() {
        let chunks = words("Er sagte „ja“ und ging", "He sagte «ja» und lief");
        assert_eq!(
            categories(&chunks),
            [Category::Words, Category::Punctuation, Category::Words]
        );
        assert_eq!(
            rebuild(&chunks),
            (
                "Er sagte „ja“ und ging".to_owned(),
                "He sagte «ja» und lief".to_owned()
            )
        );
    }

    #[test]
    fn categories_name_the_narrowest_difference() {
        assert_eq!(category("  ", " "), Category::Whitespace);
        assert_eq!(category("", "\n"), Category::Whitespace);
        assert_eq!(category("„Haus“", "\"Haus\""), Category::Punctuation);
        assert_eq!(category("a - b", "a – b"), Category::Punctuation);
        assert_eq!(category("Haus,", "Haus …"), Category::Punctuation);
        assert_eq!(category("berlin", "Berlin"), Category::Case);
        assert_eq!(category("Haus", "Häuser"), Category::Words);
        assert_eq!(
            categories(&words("Er kam,  sagte sie", "Er kam – sagte Sie")),
            [Category::Punctuation, Category::Case]
        );
        assert_eq!(
            categories(&words("Ein  Haus", "Ein Haus")),
            [Category::Whitespace]
        );
    }

    #[test]
    fn small_edits_inside_a_word_are_emphasised() {
        let opts = DiffOptions::default();
        let piece = |emphasised, text: &str| (emphasised, text.to_owned());
        assert_eq!(
            emphasis("Grosse", "Größe", &opts),
            Some(Emphasis {
                old: vec![piece(false, "Gr"), piece(true, "oss"), piece(false, "e")],
                new: vec![piece(false, "Gr"), piece(true, "öß"), piece(false, "e")],
            })
        );
        assert_eq!(
            emphasis("berlin", "Berlin", &opts),
            Some(Emphasis {
                old: vec![piece(true, "b"), piece(false, "erlin")],
                new: vec![piece(true, "B"), piece(false, "erlin")],
            })
        );
        // Different words, several words or a missing side get none.
        assert_eq!(emphasis("Hund", "Katze", &opts), None);
        assert_eq!(emphasis("der Hund", "die Hunde", &opts), None);
        assert_eq!(emphasis("", "Hund", &opts), None);
    }

    #[test]
    fn identical_and_empty_sides() {
        assert_eq!(words("Gleich.", "Gleich."), [s("Gleich.")]);
        assert_eq!(words("", ""), []);
        assert_eq!(words("", "Neu hier."), [c("", "Neu hier.")]);
        assert_eq!(words("Weg damit.", ""), [c("Weg damit.", "")]);
    }

    #[test]
    fn similarity_ignores_whitespace_case_and_punctuation() {
        let opts = DiffOptions::default();
        assert_eq!(word_similarity("Ein  Haus!", "ein haus", &opts), 1.0);
        assert_eq!(word_similarity("rot grün", "blau gelb", &opts), 0.0);
        let half = word_similarity("eins zwei", "eins drei", &opts);
        assert!((half - 0.5).abs() < 1e-6);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn chunks_concatenate_to_both_sides(
            old in "[a-cäöß ,.\n\u{4e2d}„“]{0,40}",
            new in "[a-cäöß ,.\n\u{4e2d}„“]{0,40}",
        ) {
            let chunks = words(&old, &new);
            prop_assert_eq!(rebuild(&chunks), (old.clone(), new.clone()));
            for chunk in &chunks {
                match chunk {
                    Chunk::Same { text } => prop_assert!(!text.is_empty()),
                    Chunk::Change { old, new, category, emphasis } => {
                        prop_assert!(!(old.is_empty() && new.is_empty()));
                        prop_assert_eq!(*category, super::category(old, new));
                        if let Some(emphasis) = emphasis {
                            let joined = |pieces: &[(bool, String)]| -> String {
                                pieces.iter().map(|(_, text)| text.as_str()).collect()
                            };
                            prop_assert_eq!(&joined(&emphasis.old), old);
                            prop_assert_eq!(&joined(&emphasis.new), new);
                        }
                    }
                }
            }
            // No two changes are separated by whitespace alone.
            for window in chunks.windows(3) {
                if let [Chunk::Change { .. }, Chunk::Same { text }, Chunk::Change { .. }] = window {
                    prop_assert!(!is_blank(text));
                }
            }
        }
    }
}
