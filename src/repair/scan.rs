//! Small character-level look-ups shared by the rules; all offsets are byte offsets on char
//! boundaries.

/// The character ending at byte `pos`.
pub(super) fn char_before(text: &str, pos: usize) -> Option<char> {
    text.get(..pos)?.chars().next_back()
}

/// The character starting at byte `pos`.
pub(super) fn char_at(text: &str, pos: usize) -> Option<char> {
    text.get(pos..)?.chars().next()
}

/// The run of characters satisfying `keep` that ends at `pos`, and where it starts.
pub(super) fn run_before(text: &str, pos: usize, keep: impl Fn(char) -> bool) -> (usize, &str) {
    let head = text.get(..pos).unwrap_or_default();
    let len: usize = head
        .chars()
        .rev()
        .take_while(|&c| keep(c))
        .map(char::len_utf8)
        .sum();
    (pos - len, &head[pos - len..])
}

/// The run of characters satisfying `keep` that starts at `pos`.
pub(super) fn run_after(text: &str, pos: usize, keep: impl Fn(char) -> bool) -> &str {
    let tail = text.get(pos..).unwrap_or_default();
    let len: usize = tail
        .chars()
        .take_while(|&c| keep(c))
        .map(char::len_utf8)
        .sum();
    &tail[..len]
}

/// Marks that may follow a word and close it off: after them a removed space or a collapsed
/// mark cannot be part of a number, path or code.
pub(super) fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '“' | '”' | '»' | '«' | '\'' | '’' | ')' | ']' | '}'
    )
}
