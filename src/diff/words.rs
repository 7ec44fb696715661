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

/// Word-level diff of one paragraph (the `tokens` of each side, Patience, with the options'
/// timeout once the paragraph is long enough to need one). Consecutive changes are coalesced across whitespace-only equal runs, so
/// "a b c" → "x y z" is one change, not three; across quotes, dashes and ellipses
/// (`Rot–Grün` → `red–green`); and word changes also across up to two short words within a
/// sentence. A line break inserted or removed next to a heading takes the heading's line into
/// its change (see `split_headings`). Invariant: the `Same` texts plus every `Change::old`
/// concatenate to `old`, and plus every `Change::new` to `new`.
pub fn diff_words(old: &str, new: &str, opts: &DiffOptions) -> Vec<Chunk> {
    if old == new {
        return same(old).into_iter().collect();
    }
    let mut drafts: Vec<Draft> = Vec::new();
    if old.is_empty() || new.is_empty() {
        drafts.push(Draft::Change(old.to_owned(), new.to_owned()));
    } else {
        let (old_tokens, new_tokens) = (tokens(old), tokens(new));
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Patience,
            &old_tokens,
            &new_tokens,
            deadline(old_tokens.len() + new_tokens.len(), opts),
        );
        // Token ranges → byte ranges: tokens tile the input, so prefix sums of their lengths
        // are the byte offsets.
        let old_at = token_offsets(old_tokens.iter().map(|token| token.len()));
        let new_at = token_offsets(new_tokens.iter().map(|token| token.len()));
        // One draft per operation, so that a bridge is judged against the next operation's
        // words, not a whole clause.
        drafts = ops
            .iter()
            .map(|op| {
                let (old_range, new_range) = (op.old_range(), op.new_range());
                let old_text = &old[old_at[old_range.start]..old_at[old_range.end]];
                let new_text = &new[new_at[new_range.start]..new_at[new_range.end]];
                match op {
                    DiffOp::Equal { .. } => Draft::Same(old_text.to_owned()),
                    _ => Draft::Change(old_text.to_owned(), new_text.to_owned()),
                }
            })
            .collect();
        drafts = coalesce(drafts, |gap, before, after| {
            bridges(gap, before, after, opts)
        });
        // Then the marks, between changes already joined across whitespace.
        let marks = |draft: &Draft| matches!(draft, Draft::Same(gap) if only_joining_marks(gap));
        if drafts.iter().any(marks) {
            drafts = coalesce(drafts, |gap, before, after| {
                joins_across_marks(gap, before, after, opts)
            });
        }
        drafts = split_headings(narrow(drafts, opts));
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

/// The units the diff compares: unicode word boundaries (words, runs of whitespace, single
/// punctuation marks), except that a hyphenated compound is one token (`KI-Chips`, `US-Dollar`,
/// `4-Billionen-Dollar`), so that rewording it is one change rather than confetti around its
/// hyphens. The tokens tile `text`.
fn tokens(text: &str) -> Vec<&str> {
    let mut tokens: Vec<&str> = Vec::new();
    let mut bounds = text.split_word_bound_indices().peekable();
    while let Some((at, bound)) = bounds.next() {
        // A hyphen between two words: the compound goes on.
        let compound = is_hyphen(bound)
            && tokens.last().is_some_and(|last| ends_in_word(last))
            && bounds
                .peek()
                .is_some_and(|&(_, next)| starts_with_word(next));
        match (compound, tokens.last_mut(), bounds.peek()) {
            (true, Some(last), Some(&(next_at, next))) => {
                // Tokens tile the text, so the compound starts where the last token does.
                *last = &text[at - last.len()..next_at + next.len()];
                bounds.next();
            }
            _ => tokens.push(bound),
        }
    }
    tokens
}

/// Hyphen-minus, hyphen and non-breaking hyphen: the marks that join a compound. Dashes
/// (`–`, `—`) separate words; changes on both sides of one are joined by `joins_across_marks`.
fn is_hyphen(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next().is_some_and(is_hyphen_char) && chars.next().is_none()
}

fn is_hyphen_char(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

fn ends_in_word(token: &str) -> bool {
    token.chars().next_back().is_some_and(char::is_alphanumeric)
}

fn starts_with_word(token: &str) -> bool {
    token.chars().next().is_some_and(char::is_alphanumeric)
}

/// Compounds are single tokens so that rewording one is one change; where that makes a change
/// wider than it needs to be, it is narrowed again. A compound edited in one part shows only
/// that part: the parts both sides share at its start or end (up to a hyphen) move out of the
/// change, so `sommer-2024` → `sommer-2025` is `sommer-` and a change `2024` → `2025`. A change
/// of a compound in punctuation or whitespace alone is diffed again word by word, so that
/// repair's `Hardware-und` → `Hardware- und` and `kann-die` → `kann – die` stay the
/// punctuation fixes they are.
fn narrow(drafts: Vec<Draft>, opts: &DiffOptions) -> Vec<Draft> {
    let hyphenated =
        |old: &str, new: &str| old.contains(is_hyphen_char) || new.contains(is_hyphen_char);
    let wide = |draft: &Draft| matches!(draft, Draft::Change(old, new) if hyphenated(old, new));
    if !drafts.iter().any(wide) {
        return drafts;
    }
    let mut narrowed: Vec<Draft> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let (old, new) = match draft {
            Draft::Change(old, new) if hyphenated(&old, &new) => (old, new),
            draft => {
                push_draft(&mut narrowed, draft);
                continue;
            }
        };
        if one_word(&old) && one_word(&new) {
            let (head, tail) = shared_parts(&old, &new);
            let same = |text: &str| Draft::Same(text.to_owned());
            push_draft(&mut narrowed, same(&old[..head]));
            push_draft(
                &mut narrowed,
                Draft::Change(
                    old[head..old.len() - tail].to_owned(),
                    new[head..new.len() - tail].to_owned(),
                ),
            );
            push_draft(&mut narrowed, same(&old[old.len() - tail..]));
        } else if !is_blank(&old)
            && matches!(
                category(&old, &new),
                Category::Whitespace | Category::Punctuation
            )
        {
            let old_words: Vec<&str> = old.split_word_bounds().collect();
            let new_words: Vec<&str> = new.split_word_bounds().collect();
            let ops = similar::capture_diff_slices_deadline(
                Algorithm::Myers,
                &old_words,
                &new_words,
                deadline(old_words.len() + new_words.len(), opts),
            );
            for op in ops {
                let old_text = old_words[op.old_range()].concat();
                let new_text = new_words[op.new_range()].concat();
                push_draft(
                    &mut narrowed,
                    match op {
                        DiffOp::Equal { .. } => Draft::Same(old_text),
                        _ => Draft::Change(old_text, new_text),
                    },
                );
            }
        } else {
            push_draft(&mut narrowed, Draft::Change(old, new));
        }
    }
    // Diffed again, a change can come apart at whitespace, which changes do not stop at.
    coalesce(narrowed, |gap, _, _| is_blank(gap))
}

/// Bytes of the longest start and the longest end that both sides share and that end or start
/// at a hyphen (or are a whole side), leaving something that differs between them:
/// `volume` → `volume-level` shares `volume`, `KI-Chips` → `KI-Chip` shares `KI-`.
fn shared_parts(old: &str, new: &str) -> (usize, usize) {
    let cuts = |text: &str| -> Vec<usize> {
        let hyphens = text
            .char_indices()
            .filter(|&(_, c)| is_hyphen_char(c))
            .flat_map(|(at, c)| [at, at + c.len_utf8()]);
        [0, text.len()].into_iter().chain(hyphens).collect()
    };
    let (old_cuts, new_cuts) = (cuts(old), cuts(new));
    let head = old_cuts
        .iter()
        .copied()
        .filter(|&at| new_cuts.contains(&at) && old[..at] == new[..at])
        .max()
        .unwrap_or(0);
    let tail = old_cuts
        .iter()
        .map(|&at| old.len() - at)
        .filter(|&len| {
            head + len <= old.len().min(new.len())
                && new_cuts.contains(&(new.len() - len))
                && old[old.len() - len..] == new[new.len() - len..]
        })
        .max()
        .unwrap_or(0);
    (head, tail)
}

/// Appends a draft, joining it to a draft of its kind before it; empty texts are dropped.
fn push_draft(drafts: &mut Vec<Draft>, draft: Draft) {
    match (drafts.last_mut(), draft) {
        (_, Draft::Same(text)) if text.is_empty() => {}
        (_, Draft::Change(old, new)) if old.is_empty() && new.is_empty() => {}
        (Some(Draft::Same(last)), Draft::Same(text)) => last.push_str(&text),
        (Some(Draft::Change(last_old, last_new)), Draft::Change(old, new)) => {
            last_old.push_str(&old);
            last_new.push_str(&new);
        }
        (_, draft) => drafts.push(draft),
    }
}

/// A heading line has at most this many words.
const HEADING_WORDS: usize = 10;

/// A line break inserted or removed next to a heading takes the heading's line into its change.
/// The restore pass splits off a heading that machine translation fused onto a paragraph
/// (`… Text. Überschrift` → `… text.\nHeading`); as ` Heading` → `\nHeading` the change shows
/// the heading on its own line in the new text, where a bare ` ` → `\n` could only be drawn as
/// a `↵`. The line after the break is taken when it looks like a heading (at most
/// [`HEADING_WORDS`] words, not ending like a sentence), else the line before it. A line break
/// between two sentences stays a whitespace change.
fn split_headings(mut drafts: Vec<Draft>) -> Vec<Draft> {
    let mut taken = false;
    let mut i = 0;
    while i < drafts.len() {
        if let Draft::Change(old, new) = &drafts[i] {
            let differs = |edge: fn(&str) -> &str| has_break(edge(old)) != has_break(edge(new));
            let (at_end, at_start) = (differs(trailing_blank), differs(leading_blank));
            if at_end && take_line_after(&mut drafts, i) {
                taken = true;
            } else if at_start && let Some(at) = take_line_before(&mut drafts, i) {
                taken = true;
                i = at;
            }
        }
        i += 1;
    }
    if !taken {
        return drafts;
    }
    // Taking a line can leave two changes with only whitespace between.
    coalesce(drafts, |gap, _, _| is_blank(gap))
}

/// Moves the line that starts after change `i` into it, if that line is a heading. A heading
/// line that goes on into the next change takes that change along.
fn take_line_after(drafts: &mut Vec<Draft>, i: usize) -> bool {
    let Some(Draft::Same(same)) = drafts.get(i + 1) else {
        return false;
    };
    // A heading follows a finished sentence; a break inside a sentence is a rewrap.
    let before = match &drafts[i] {
        Draft::Change(old, new) => if has_break(trailing_blank(new)) {
            new
        } else {
            old
        }
        .trim_end(),
        Draft::Same(_) => return false,
    };
    let before = match i.checked_sub(1).map(|k| &drafts[k]) {
        Some(Draft::Same(text)) if before.is_empty() => text.as_str(),
        _ => before,
    };
    if !closes_sentence(before) {
        return false;
    }
    let end = same.find('\n').unwrap_or(same.len());
    let mut line = same[..end].to_owned();
    let goes_on = match drafts.get(i + 2) {
        Some(Draft::Change(old, new)) if end == same.len() => {
            line.push_str(first_line(if has_break(new) { new } else { old }));
            true
        }
        _ => false,
    };
    if !is_heading(&line) {
        return false;
    }
    let last = if end < same.len() {
        split_same(drafts, i + 1, end);
        i + 1
    } else if goes_on {
        i + 2
    } else {
        i + 1
    };
    join(drafts, i, last);
    true
}

/// Moves the line that ends before change `i` into it, if that line is a heading, and returns
/// the change's new index then. A heading line that began in the previous change takes that change
/// along.
fn take_line_before(drafts: &mut Vec<Draft>, i: usize) -> Option<usize> {
    let Some(Draft::Same(same)) = i.checked_sub(1).and_then(|k| drafts.get(k)) else {
        return None;
    };
    // A sentence starts after a heading; a break inside a sentence is a rewrap.
    let after = match &drafts[i] {
        Draft::Change(old, new) => if has_break(leading_blank(new)) {
            new
        } else {
            old
        }
        .trim_start(),
        Draft::Same(_) => return None,
    };
    let after = match drafts.get(i + 1) {
        Some(Draft::Same(text)) if after.is_empty() => text.as_str(),
        _ => after,
    };
    if !opens_sentence(after) {
        return None;
    }
    let start = same.rfind('\n').map_or(0, |at| at + 1);
    let mut line = String::new();
    let goes_back = match i.checked_sub(2).and_then(|k| drafts.get(k)) {
        Some(Draft::Change(old, new)) if start == 0 => {
            line.push_str(last_line(if has_break(new) { new } else { old }));
            true
        }
        _ => false,
    };
    line.push_str(&same[start..]);
    if !is_heading(&line) {
        return None;
    }
    let (first, last) = if start > 0 {
        split_same(drafts, i - 1, start);
        (i, i + 1)
    } else if goes_back {
        (i - 2, i)
    } else {
        (i - 1, i)
    };
    join(drafts, first, last);
    Some(first)
}

/// Cuts the `Same` draft at `k` in two at byte `at`.
fn split_same(drafts: &mut Vec<Draft>, k: usize, at: usize) {
    if let Some(Draft::Same(text)) = drafts.get_mut(k) {
        let rest = text.split_off(at);
        drafts.insert(k + 1, Draft::Same(rest));
    }
}

/// Replaces the drafts `first..=last` by one change of all their texts.
fn join(drafts: &mut Vec<Draft>, first: usize, last: usize) {
    let (mut old, mut new) = (String::new(), String::new());
    for draft in drafts.drain(first..=last) {
        match draft {
            Draft::Same(text) => {
                old.push_str(&text);
                new.push_str(&text);
            }
            Draft::Change(more_old, more_new) => {
                old.push_str(&more_old);
                new.push_str(&more_new);
            }
        }
    }
    drafts.insert(first, Draft::Change(old, new));
}

/// Short, and not ending like a sentence or a clause.
fn is_heading(line: &str) -> bool {
    let line = line.trim();
    let words = line.unicode_words().count();
    (1..=HEADING_WORDS).contains(&words) && !line.ends_with(['.', ',', ';'])
}

/// Whether `text` ends with `.`, `!`, `?` or `…`, perhaps followed by closing quotes or brackets.
fn closes_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(['"', '\'', '“', '”', '‘', '’', '»', '«', ')', ']'])
        .ends_with(['.', '!', '?', '…'])
}

/// Whether `text` starts with a capital letter or a digit, perhaps after opening quotes.
fn opens_sentence(text: &str) -> bool {
    text.trim_start()
        .trim_start_matches(['"', '\'', '„', '“', '‚', '‘', '»', '«', '('])
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_numeric())
}

fn has_break(text: &str) -> bool {
    text.contains('\n')
}

fn trailing_blank(text: &str) -> &str {
    &text[text.trim_end().len()..]
}

fn leading_blank(text: &str) -> &str {
    &text[..text.len() - text.trim_start().len()]
}

fn first_line(text: &str) -> &str {
    text.split('\n').next().unwrap_or_default()
}

fn last_line(text: &str) -> &str {
    text.rsplit('\n').next().unwrap_or_default()
}

/// Joins changes that touch, and two changes with an equal run between them that `bridges`
/// accepts; the run joins the change.
fn coalesce(
    drafts: Vec<Draft>,
    bridges: impl Fn(&str, (&str, &str), (&str, &str)) -> bool,
) -> Vec<Draft> {
    let mut merged: Vec<Draft> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let Draft::Change(old, new) = draft else {
            merged.push(draft);
            continue;
        };
        let joins = match merged.as_slice() {
            [.., Draft::Change(..)] => true,
            [.., Draft::Change(prev_old, prev_new), Draft::Same(gap)] => {
                bridges(gap, (prev_old, prev_new), (&old, &new))
            }
            _ => false,
        };
        if !joins {
            merged.push(Draft::Change(old, new));
            continue;
        }
        let gap = match merged.last() {
            Some(Draft::Same(_)) => merged.pop(),
            _ => None,
        };
        if let Some(Draft::Change(prev_old, prev_new)) = merged.last_mut() {
            if let Some(Draft::Same(gap)) = gap {
                prev_old.push_str(&gap);
                prev_new.push_str(&gap);
            }
            prev_old.push_str(&old);
            prev_new.push_str(&new);
        }
    }
    merged
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
        && !edited_word(before, after, opts)
}

/// Whether an equal run of quotes, dashes or an ellipsis (and whitespace) may be swallowed by
/// the changes on either side of it: such a mark belongs to the words around it (`Rot–Grün` →
/// `red–green`, `„Hallo“ und ging` → `„Hi“ and left`). As across short words, only between
/// changes of one category and not next to an edit inside a word.
fn joins_across_marks(
    gap: &str,
    before: (&str, &str),
    after: (&str, &str),
    opts: &DiffOptions,
) -> bool {
    only_joining_marks(gap)
        && category(before.0, before.1) == category(after.0, after.1)
        && !edited_word(before, after, opts)
}

/// Whether either change is a small edit inside a word (it has an emphasis).
fn edited_word(before: (&str, &str), after: (&str, &str), opts: &DiffOptions) -> bool {
    emphasis(before.0, before.1, opts).is_some() || emphasis(after.0, after.1, opts).is_some()
}

/// Quotes, apostrophes, dashes and ellipses: marks that sit next to a word without ending a
/// clause. A single `.` is not among them (it ends a sentence), but a run of dots is.
const JOINING_MARKS: &str = "\"'„“”‚‘’«»‹›-‐‑‒–—―…";

/// Whether `text` is whitespace and [`JOINING_MARKS`] only (`...` counting as an ellipsis).
fn only_joining_marks(text: &str) -> bool {
    let mut dots = 0;
    // A trailing space flushes a run of dots at the end.
    for c in text.chars().chain([' ']) {
        if c == '.' {
            dots += 1;
            continue;
        }
        if dots == 1 {
            return false;
        }
        dots = 0;
        if !(c.is_whitespace() || JOINING_MARKS.contains(c)) {
            return false;
        }
    }
    true
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

/// The narrowest category that explains the difference between the two sides: whitespace when
/// the sides differ only in it (also ` Heading` → `\nHeading`, a heading put on its own line).
pub(super) fn category(old: &str, new: &str) -> Category {
    let without_typography =
        |text: &str| -> String { text.chars().filter(|&c| !is_typography(c)).collect() };
    if ink(old).eq(ink(new)) {
        Category::Whitespace
    } else if without_typography(old) == without_typography(new) {
        Category::Punctuation
    } else if old.to_lowercase() == new.to_lowercase() {
        Category::Case
    } else {
        Category::Words
    }
}

/// Everything but the whitespace.
fn ink(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(|c| !c.is_whitespace())
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

/// The options' timeout from now, for a diff of `tokens` tokens in all that needs one.
fn deadline(tokens: usize, opts: &DiffOptions) -> Option<Instant> {
    if tokens < UNTIMED_TOKENS {
        None
    } else {
        Instant::now().checked_add(opts.timeout)
    }
}

/// `diff_ratio` of a Patience diff of two token sequences; two empty ones are equal.
pub(super) fn sequence_similarity<T: Eq + std::hash::Hash + Ord>(
    old: &[T],
    new: &[T],
    opts: &DiffOptions,
) -> f32 {
    let deadline = deadline(old.len() + new.len(), opts);
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
    fn a_hyphenated_compound_is_one_word() {
        assert_eq!(
            tokens("4-Billionen-Dollar, KI-Chips und US\u{2011}Dollar"),
            [
                "4-Billionen-Dollar",
                ",",
                " ",
                "KI-Chips",
                " ",
                "und",
                " ",
                "US\u{2011}Dollar"
            ]
        );
        // A spaced hyphen, a dash and a hyphen that ends a word join nothing.
        assert_eq!(tokens("a - b–c"), ["a", " ", "-", " ", "b", "–", "c"]);
        assert_eq!(tokens("Hardware- und"), ["Hardware", "-", " ", "und"]);

        // The case: one change, not `4[---]trillion[--dollar-]`.
        assert_eq!(
            words("4-Billionen-Dollar", "$4 trillion"),
            [c("4-Billionen-Dollar", "$4 trillion")]
        );
        assert_eq!(
            words("a 4-trillion-dollar valuation", "a $4 trillion valuation"),
            [
                s("a "),
                c("4-trillion-dollar", "$4 trillion"),
                s(" valuation")
            ]
        );
        assert_eq!(
            words("They bought KI-Chips.", "They bought AI chips."),
            [s("They bought "), c("KI-Chips", "AI chips"), s(".")]
        );
    }

    #[test]
    fn a_compound_edited_in_one_part_shows_that_part() {
        // A one-letter change inside a word is emphasised as such.
        let chunks = words("die KI-Chips", "die KI-Chip");
        assert_eq!(chunks, [s("die KI-"), c("Chips", "Chip")]);
        let Chunk::Change { emphasis, .. } = &chunks[1] else {
            panic!("a change");
        };
        assert!(emphasis.is_some());
        assert_eq!(
            words("sommer-2024/plan", "sommer-2025/plan"),
            [s("sommer-"), c("2024", "2025"), s("/plan")]
        );
        assert_eq!(
            words("ein Billionen-Dollar-Deal", "ein trillion-Dollar-Deal"),
            [s("ein "), c("Billionen", "trillion"), s("-Dollar-Deal")]
        );
        assert_eq!(
            words("volume encryption", "volume-level encryption"),
            [s("volume"), c("", "-level"), s(" encryption")]
        );
        // Edits at both ends stay one change.
        assert_eq!(words("a-b-c", "x-b-z"), [c("a-b-c", "x-b-z")]);
        // Repair's fixes of hyphens glued to words stay small punctuation changes.
        assert_eq!(
            words("Hardware-und Software", "Hardware- und Software"),
            [s("Hardware-"), c("", " "), s("und Software")]
        );
        assert_eq!(
            words("nicht verlieren-wir haben", "nicht verlieren – wir haben"),
            [s("nicht verlieren"), c("-", " – "), s("wir haben")]
        );
    }

    #[test]
    fn quotes_dashes_and_ellipses_do_not_split_a_change() {
        assert_eq!(
            words("Er sagte „Hallo“.", "He said \"Hello\"."),
            [c("Er sagte „Hallo“", "He said \"Hello\""), s(".")]
        );
        assert_eq!(
            words("Er sagte „Hallo“ und ging", "He said „Hi“ and left"),
            [c("Er sagte „Hallo“ und ging", "He said „Hi“ and left")]
        );
        for (old, new) in [
            ("Er wartete… dann ging er.", "He waited… then he left."),
            ("Er wartete... dann ging er.", "He waited... then he left."),
            ("Er kam – und ging.", "He came – and left."),
            ("Er kam—und ging.", "He came—and left."),
        ] {
            let chunks = words(old, new);
            assert_eq!(categories(&chunks), [Category::Words], "{old} → {new}");
            assert_eq!(chunks.last(), Some(&s(".")));
        }
        assert_eq!(words("Rot–Grün", "red–green"), [c("Rot–Grün", "red–green")]);
        // A quote that only looks alike on both sides no longer splits a word from its quotes.
        let chunks = words(
            "und als “spielerfreundlich” beworben",
            "und als „spielerfreundlich“ beworben",
        );
        assert_eq!(
            chunks,
            [
                s("und als "),
                c("“spielerfreundlich”", "„spielerfreundlich“"),
                s(" beworben")
            ]
        );
        assert_eq!(categories(&chunks), [Category::Punctuation]);
        // A full stop still ends the change, and edits inside words stay apart.
        assert_eq!(
            categories(&words("Er kam. Sie ging.", "He came. She went.")),
            [Category::Words, Category::Words]
        );
        assert_eq!(
            words("Grosse – Apfel", "Größe – Äpfel"),
            [c("Grosse", "Größe"), s(" – "), c("Apfel", "Äpfel")]
        );
        assert!(only_joining_marks("“ – „"));
        assert!(only_joining_marks("... "));
        assert!(!only_joining_marks(". "));
        assert!(!only_joining_marks(", "));
    }

    #[test]
    fn a_heading_split_off_is_a_new_line_with_the_heading() {
        let chunks = words("Das war der Text. Ausblick", "That was the text.\nOutlook");
        assert_eq!(
            chunks,
            [
                c("Das war der Text", "That was the text"),
                s("."),
                c(" Ausblick", "\nOutlook")
            ]
        );
        // The heading kept as it was: the change is the line break, with the heading's line.
        let chunks = words("This was the text. Outlook", "This was the text.\nOutlook");
        assert_eq!(
            chunks,
            [s("This was the text."), c(" Outlook", "\nOutlook")]
        );
        assert_eq!(categories(&chunks), [Category::Whitespace]);
        // More lines after it stay as they are; a heading going on into a change takes it along.
        assert_eq!(
            words("The text. Outlook\nMore.", "The text.\nOutlook\nMore."),
            [s("The text."), c(" Outlook", "\nOutlook"), s("\nMore.")]
        );
        assert_eq!(
            words("The text. The outlook", "The text.\nThe outlooks"),
            [s("The text."), c(" The outlook", "\nThe outlooks")]
        );
        // A heading at the start, and a break removed again.
        assert_eq!(
            words("Outlook The text begins.", "Outlook\nThe text begins."),
            [c("Outlook ", "Outlook\n"), s("The text begins.")]
        );
        assert_eq!(
            words("The text.\nOutlook", "The text. Outlook"),
            [s("The text."), c("\nOutlook", " Outlook")]
        );
        // Between two sentences or inside one, a line break is a whitespace change.
        assert_eq!(
            words(
                "He left. Then she came back.",
                "He left.\nThen she came back."
            ),
            [s("He left."), c(" ", "\n"), s("Then she came back.")]
        );
        assert_eq!(
            words(
                "It was founded in 1871 and grew",
                "It was founded in 1871\nand grew"
            ),
            [s("It was founded in 1871"), c(" ", "\n"), s("and grew")]
        );
    }

    #[test]
    fn categories_name_the_narrowest_difference() {
        assert_eq!(category("  ", " "), Category::Whitespace);
        assert_eq!(category("", "\n"), Category::Whitespace);
        assert_eq!(category(" Ausblick", "\nAusblick"), Category::Whitespace);
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
            old in "[a-cA-Cäöß ,.\n\u{4e2d}„“\"–…-]{0,40}",
            new in "[a-cA-Cäöß ,.\n\u{4e2d}„“\"–…-]{0,40}",
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
