//! What the terminal will actually show: untrusted text made inert (controls and bidi
//! overrides as visible placeholders) and the display width of what remains.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Columns a tab expands to. Tab stops mean nothing in rewrapped prose, so a fixed run of spaces.
pub(crate) const TAB: &str = "    ";

/// Visible placeholders for untrusted text: C0 controls (except `\n`), ESC and DEL become control
/// pictures (`␛ ␇ ␡`), `\t` becomes spaces, C1 controls and bidi overrides, isolates and marks
/// (and the Unicode line/paragraph separators) become `⟨U+202E⟩`. Text that needs none of this is
/// borrowed unchanged.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_placeholder) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\t' => shown.push_str(TAB),
            // C0 controls map one-to-one onto the control pictures block U+2400..U+241F.
            '\0'..='\x1f' if c != '\n' => {
                shown.push(char::from_u32(0x2400 + c as u32).expect("U+2400..U+241F are chars"));
            }
            '\x7f' => shown.push('␡'),
            c if needs_placeholder(c) => {
                write!(shown, "⟨U+{:04X}⟩", c as u32).expect("writing to a String cannot fail");
            }
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

fn needs_placeholder(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Display width of a string: the sum of its grapheme clusters' widths (unicode-width, East
/// Asian ambiguous counted narrow). Wrapping measures grapheme by grapheme, so this is the
/// measure that agrees with it.
pub fn display_width(text: &str) -> usize {
    text.graphemes(true).map(UnicodeWidthStr::width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(
            sanitize("Äpfel, Größe, ß\n苹果 🍎"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_become_pictures() {
        assert_eq!(sanitize("a\x1b[31mb\x07c\x7fd\0"), "a␛[31mb␇c␡d␀");
        assert_eq!(sanitize("x\r\ny"), "x␍\ny");
        assert_eq!(sanitize("a\tb"), "a    b");
        assert_eq!(sanitize("C1:\u{85}\u{9b}"), "C1:⟨U+0085⟩⟨U+009B⟩");
    }

    #[test]
    fn bidi_controls_become_markers() {
        assert_eq!(sanitize("a\u{202E}b\u{202C}"), "a⟨U+202E⟩b⟨U+202C⟩");
        assert_eq!(
            sanitize("\u{2066}\u{200F}\u{061C}"),
            "⟨U+2066⟩⟨U+200F⟩⟨U+061C⟩"
        );
    }

    #[test]
    fn widths_count_columns() {
        assert_eq!(display_width("Größe"), 5);
        assert_eq!(display_width("苹果"), 4);
        assert_eq!(display_width("🍎"), 2);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("⟨U+202E⟩"), 8);
        assert_eq!(display_width("␛"), 1);
    }
}
