//! Bytes ↔ text. Decoding recognises UTF-8 (with or without BOM), UTF-16 (with a BOM, or
//! German text without one) and legacy 8-bit text (German is very often Windows-1252), names
//! the first bad byte of UTF-8 that has a few, refuses binary data, and remembers the encoding
//! and line-ending style so that [`encode`] writes text back the way it came.

use std::fmt;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use serde::{Deserialize, Serialize};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The character encoding a text was read in, and will be written back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8 {
        bom: bool,
    },
    /// UTF-16 with a byte-order mark, or German text without one (recognised by its many
    /// zero high bytes); written back as it came.
    Utf16Le {
        bom: bool,
    },
    Utf16Be {
        bom: bool,
    },
    /// A legacy single-byte encoding chosen by detection, usually windows-1252.
    Legacy(&'static encoding_rs::Encoding),
}

impl TextEncoding {
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 { bom: false } => "utf-8",
            Self::Utf8 { bom: true } => "utf-8 (bom)",
            Self::Utf16Le { bom: false } => "utf-16le",
            Self::Utf16Le { bom: true } => "utf-16le (bom)",
            Self::Utf16Be { bom: false } => "utf-16be",
            Self::Utf16Be { bom: true } => "utf-16be (bom)",
            Self::Legacy(enc) => enc.name(),
        }
    }

    /// The encoding [`name`](Self::name) gave, as recorded in a report.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "utf-8" => Self::Utf8 { bom: false },
            "utf-8 (bom)" => Self::Utf8 { bom: true },
            "utf-16le" => Self::Utf16Le { bom: false },
            "utf-16le (bom)" => Self::Utf16Le { bom: true },
            "utf-16be" => Self::Utf16Be { bom: false },
            "utf-16be (bom)" => Self::Utf16Be { bom: true },
            label => Self::Legacy(encoding_rs::Encoding::for_label(label.as_bytes())?),
        })
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TextEncoding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TextEncoding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown encoding `{name}`")))
    }
}

/// How lines end. Uniform CRLF text is converted to LF on reading and back on writing, so the
/// rest of klartext only ever sees `\n`; mixed text is kept byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEnding {
    Lf,
    CrLf,
    /// Mixed or lone `\r` line breaks: left exactly as they are.
    Mixed,
}

impl fmt::Display for LineEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lf => "LF",
            Self::CrLf => "CRLF",
            Self::Mixed => "mixed line endings",
        })
    }
}

/// A decoded text (always with `\n` line breaks unless [`LineEnding::Mixed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: TextEncoding,
    pub line_ending: LineEnding,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("looks like a binary file (it contains NUL bytes), not text")]
    Nul,
    #[error("looks like a binary file ({0} control characters), not text")]
    Controls(usize),
    /// UTF-8 text (with a BOM, or with more good UTF-8 than bad bytes) that has bytes no UTF-8
    /// allows. Lines and bytes count from 1, as editors do; `more` is how many other bad
    /// sequences follow.
    #[error(
        "is not valid UTF-8: byte 0x{byte:02X} at line {line}, byte {column}{}{}",
        as_windows_1252(*byte),
        match more { 0 => String::new(), n => format!(", and {n} more after it") }
    )]
    InvalidUtf8 {
        line: usize,
        column: usize,
        byte: u8,
        more: usize,
    },
    #[error("is not valid {encoding} text (bad bytes at offset {offset})")]
    Malformed {
        encoding: &'static str,
        offset: usize,
    },
    #[error("is neither UTF-8, UTF-16 nor a legacy 8-bit encoding klartext can read")]
    Undecodable,
    #[error("is UTF-32, which klartext does not read; convert it to UTF-8 first")]
    Utf32,
}

/// What a byte would be in Windows-1252, the usual source of a stray byte in German text.
fn as_windows_1252(byte: u8) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling_and_without_replacement(&[byte])
        .and_then(|s| s.chars().next())
        .filter(|c| !c.is_control())
        .map_or_else(String::new, |c| format!(" (\"{c}\" in Windows-1252)"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error(
        "the result contains {ch:?} (U+{code:04X}), which {encoding} cannot represent; \
         convert the input to UTF-8 first"
    )]
    Unmappable {
        encoding: &'static str,
        ch: char,
        code: u32,
    },
}

/// Decode file bytes. Infallible for UTF-8 text that is text; refuses binary data.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let (text, encoding) = decode_text(bytes)?;
    if looks_binary(&text) {
        return Err(DecodeError::Controls(count_binary_controls(&text)));
    }
    let line_ending = detect_line_ending(&text);
    let text = if line_ending == LineEnding::CrLf {
        text.replace("\r\n", "\n")
    } else {
        text
    };
    Ok(Decoded {
        text,
        encoding,
        line_ending,
    })
}

/// Binary data read as text shows control characters throughout (about one in eight bytes of
/// random data); text has at most a few stray ones, which are shown as placeholders.
fn looks_binary(text: &str) -> bool {
    let controls = count_binary_controls(text);
    controls >= 4 && controls * 20 > text.chars().count()
}

fn decode_text(bytes: &[u8]) -> Result<(String, TextEncoding), DecodeError> {
    if bytes.starts_with(b"\xFF\xFE\x00\x00") || bytes.starts_with(b"\x00\x00\xFE\xFF") {
        return Err(DecodeError::Utf32);
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        let text = std::str::from_utf8(rest).map_err(|_| invalid_utf8(bytes, UTF8_BOM.len()))?;
        return Ok((text.to_owned(), TextEncoding::Utf8 { bom: true }));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes)
            .map(|t| (t, TextEncoding::Utf16Le { bom: true }));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes)
            .map(|t| (t, TextEncoding::Utf16Be { bom: true }));
    }
    if bytes.contains(&0) {
        return utf16_without_bom(bytes).ok_or(DecodeError::Nul);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), TextEncoding::Utf8 { bom: false }));
    }
    if mostly_utf8(bytes) {
        return Err(invalid_utf8(bytes, 0));
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // The ".de" hint steers detection towards the Western encodings German text uses.
    let guess = detector.guess(Some(b"de"), Utf8Detection::Deny);
    if !guess.is_single_byte() {
        return Err(DecodeError::Undecodable);
    }
    guess
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| (text.into_owned(), TextEncoding::Legacy(guess)))
        .ok_or(DecodeError::Undecodable)
}

/// UTF-8 with a few bad bytes, rather than a legacy encoding: at least as many well-formed
/// multi-byte characters as bad sequences. Windows-1252 German has a bad sequence at nearly
/// every umlaut and well-formed ones only by accident (mojibake such as "Ã¤"), so it stays
/// below; reading UTF-8 as Windows-1252 would garble every umlaut, so a mostly-UTF-8 file is
/// refused instead, naming the first bad byte.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0, 0);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    good >= bad
}

/// The first bad sequence of `bytes` after `skip` (a BOM), located as an editor shows it.
fn invalid_utf8(bytes: &[u8], skip: usize) -> DecodeError {
    let rest = &bytes[skip..];
    let mut offset = 0;
    let mut first = None;
    let mut more = 0;
    for chunk in rest.utf8_chunks() {
        offset += chunk.valid().len();
        if let Some(&byte) = chunk.invalid().first() {
            match first {
                None => first = Some((offset, byte)),
                Some(_) => more += 1,
            }
        }
        offset += chunk.invalid().len();
    }
    let (at, byte) = first.unwrap_or((rest.len(), 0));
    let before = &rest[..at];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    DecodeError::InvalidUtf8 {
        line,
        column: at - line_start + 1,
        byte,
        more,
    }
}

/// German text in UTF-16 without a byte-order mark: most characters are ASCII or Latin-1, so
/// one byte of nearly every pair is zero and the other almost never is. Anything else with
/// NUL bytes is binary.
fn utf16_without_bom(bytes: &[u8]) -> Option<(String, TextEncoding)> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.len() / 2;
    let zeros_at = |parity: usize| {
        bytes
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let (text, encoding) = if odd * 2 >= units && even * 100 <= units {
        let text = decode_utf16(bytes, u16::from_le_bytes).ok()?;
        (text, TextEncoding::Utf16Le { bom: false })
    } else if even * 2 >= units && odd * 100 <= units {
        let text = decode_utf16(bytes, u16::from_be_bytes).ok()?;
        (text, TextEncoding::Utf16Be { bom: false })
    } else {
        return None;
    };
    (!looks_binary(&text)).then_some((text, encoding))
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    let encoding = "UTF-16";
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::Malformed {
            encoding,
            offset: bytes.len() + 1,
        });
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, ch) in char::decode_utf16(units).enumerate() {
        match ch {
            Ok('\0') => return Err(DecodeError::Nul),
            Ok(ch) => text.push(ch),
            // `i` counts decoded items; good enough to point at the region.
            Err(_) => {
                return Err(DecodeError::Malformed {
                    encoding,
                    offset: 2 + 2 * i,
                });
            }
        }
    }
    Ok(text)
}

/// Control characters that never occur in text: C0 except tab, newline, carriage return and
/// form feed; DEL; and C1 (which a wrong single-byte guess of binary data produces).
fn count_binary_controls(text: &str) -> usize {
    text.chars()
        .filter(|&c| {
            (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}' | '\u{1a}'))
                || c == '\u{7f}'
        })
        .count()
}

fn detect_line_ending(text: &str) -> LineEnding {
    let crlf = text.matches("\r\n").count();
    let cr = text.matches('\r').count();
    let lf = text.matches('\n').count();
    match (crlf, cr, lf) {
        (0, 0, _) => LineEnding::Lf,
        (n, c, l) if n == c && n == l => LineEnding::CrLf,
        _ => LineEnding::Mixed,
    }
}

/// Encode text the way it was read: same encoding, BOM and line endings.
pub fn encode(
    text: &str,
    encoding: TextEncoding,
    line_ending: LineEnding,
) -> Result<Vec<u8>, EncodeError> {
    let text: std::borrow::Cow<'_, str> = match line_ending {
        LineEnding::CrLf => text.replace('\n', "\r\n").into(),
        LineEnding::Lf | LineEnding::Mixed => text.into(),
    };
    Ok(match encoding {
        TextEncoding::Utf8 { bom } => {
            let mut out = Vec::with_capacity(text.len() + 3);
            if bom {
                out.extend_from_slice(UTF8_BOM);
            }
            out.extend_from_slice(text.as_bytes());
            out
        }
        TextEncoding::Utf16Le { bom } => {
            utf16(&text, u16::to_le_bytes, bom.then_some([0xFF, 0xFE]))
        }
        TextEncoding::Utf16Be { bom } => {
            utf16(&text, u16::to_be_bytes, bom.then_some([0xFE, 0xFF]))
        }
        TextEncoding::Legacy(enc) => {
            let (bytes, _, unmappable) = enc.encode(&text);
            if unmappable {
                return Err(first_unmappable(&text, enc));
            }
            bytes.into_owned()
        }
    })
}

fn utf16(text: &str, bytes: fn(u16) -> [u8; 2], bom: Option<[u8; 2]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + text.len() * 2);
    out.extend_from_slice(bom.as_ref().map_or(&[][..], |b| &b[..]));
    for unit in text.encode_utf16() {
        out.extend_from_slice(&bytes(unit));
    }
    out
}

fn first_unmappable(text: &str, enc: &'static encoding_rs::Encoding) -> EncodeError {
    let mut buf = [0u8; 4];
    let ch = text
        .chars()
        .find(|c| enc.encode(c.encode_utf8(&mut buf)).2)
        .unwrap_or('\u{fffd}');
    EncodeError::Unmappable {
        encoding: enc.name(),
        ch,
        code: ch as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_names_read_back() {
        for encoding in [
            TextEncoding::Utf8 { bom: false },
            TextEncoding::Utf8 { bom: true },
            TextEncoding::Utf16Le { bom: true },
            TextEncoding::Utf16Le { bom: false },
            TextEncoding::Utf16Be { bom: true },
            TextEncoding::Utf16Be { bom: false },
            TextEncoding::Legacy(encoding_rs::WINDOWS_1252),
        ] {
            assert_eq!(TextEncoding::from_name(encoding.name()), Some(encoding));
        }
        assert_eq!(TextEncoding::from_name("klingon"), None);
    }

    fn roundtrip(bytes: &[u8]) -> Decoded {
        let decoded = decode(bytes).expect("decodes");
        let again = encode(&decoded.text, decoded.encoding, decoded.line_ending).expect("encodes");
        assert_eq!(again, bytes, "written back byte for byte");
        decoded
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = roundtrip("Größe\n".as_bytes());
        assert_eq!(d.encoding, TextEncoding::Utf8 { bom: false });
        let d = roundtrip(b"\xEF\xBB\xBFGr\xC3\xB6\xC3\x9Fe\n");
        assert_eq!(d.text, "Größe\n");
        assert_eq!(d.encoding, TextEncoding::Utf8 { bom: true });
    }

    #[test]
    fn utf16_both_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Äpfel\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = roundtrip(&le);
        assert_eq!(
            (d.text.as_str(), d.line_ending),
            ("Äpfel\n", LineEnding::CrLf)
        );
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Öl".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(roundtrip(&be).encoding, TextEncoding::Utf16Be { bom: true });
    }

    #[test]
    fn windows_1252_german_is_detected() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252
            .encode("Die Straße führt über die Brücke – „schön“, sagte er.\r\n");
        let d = roundtrip(&bytes);
        assert_eq!(d.encoding.name(), "windows-1252");
        assert!(d.text.starts_with("Die Straße führt über"));
        assert_eq!(d.line_ending, LineEnding::CrLf);
    }

    #[test]
    fn crlf_is_normalised_and_restored_mixed_is_kept() {
        assert_eq!(roundtrip(b"a\r\n\r\nb\r\n").text, "a\n\nb\n");
        let d = roundtrip(b"a\r\nb\nc");
        assert_eq!(
            (d.text.as_str(), d.line_ending),
            ("a\r\nb\nc", LineEnding::Mixed)
        );
    }

    #[test]
    fn binary_is_refused() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Err(DecodeError::Nul)
        );
        let noise: Vec<u8> = (0u8..=255).filter(|&b| b != 0).cycle().take(2000).collect();
        assert!(matches!(decode(&noise), Err(DecodeError::Controls(_))));
        assert!(matches!(
            decode(b"\xEF\xBB\xBFok\xFF"),
            Err(DecodeError::InvalidUtf8 { .. })
        ));
        // Bytes that are no text in any encoding, without NUL bytes, are still binary.
        let noise: Vec<u8> = (1u8..=255).cycle().take(64).collect();
        assert!(matches!(decode(&noise), Err(DecodeError::Controls(_))));
        assert_eq!(decode(b"\xFF\xFE\0\0a\0\0\0"), Err(DecodeError::Utf32));
    }

    #[test]
    fn unmappable_characters_are_an_error_not_html_entities() {
        let err = encode(
            "Pfeil → hier",
            TextEncoding::Legacy(encoding_rs::WINDOWS_1252),
            LineEnding::Lf,
        )
        .unwrap_err();
        assert!(err.to_string().contains("U+2192"), "{err}");
    }

    #[test]
    fn a_stray_control_character_is_text_not_binary() {
        let d = decode(b"Hallo \x1b Welt.\n").expect("text with one escape character");
        assert_eq!(d.text, "Hallo \u{1b} Welt.\n");
        // Legacy text too: one control character in a short Windows-1252 file.
        let d = decode(b"Gr\xFC\xDFe \x1b aus K\xF6ln.\n").expect("legacy text");
        assert_eq!(d.text, "Grüße \u{1b} aus Köln.\n");
    }

    #[test]
    fn utf16_without_a_bom_is_recognised_and_written_back_without_one() {
        let text = "Die Straße ist schön, sagte er – „wirklich“.\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let d = roundtrip(&le);
        assert_eq!(d.text, text);
        assert_eq!(d.encoding, TextEncoding::Utf16Le { bom: false });
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let d = roundtrip(&be);
        assert_eq!(d.encoding, TextEncoding::Utf16Be { bom: false });
        assert_eq!(
            TextEncoding::from_name("utf-16le"),
            Some(TextEncoding::Utf16Le { bom: false })
        );
    }

    #[test]
    fn a_stray_byte_in_utf8_names_its_line_and_byte() {
        let bytes = b"Die Stra\xC3\x9Fe ist sch\xC3\xB6n.\nDer Mann gr\xFC\xDFt.\n";
        let err = decode(bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidUtf8 {
                line: 2,
                column: 12,
                byte: 0xFC,
                more: 1
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("line 2, byte 12") && message.contains("0xFC"),
            "{message}"
        );
        assert!(
            message.contains("ü"),
            "what it would be in Windows-1252: {message}"
        );
        assert!(!message.contains("binary"), "{message}");
        // The same after a UTF-8 byte-order mark: lines and bytes as an editor counts them.
        let err = decode(b"\xEF\xBB\xBFok\n\xC3\xA4\xFF").unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::InvalidUtf8 {
                    line: 2,
                    column: 3,
                    byte: 0xFF,
                    more: 0
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn empty_input_is_utf8() {
        assert_eq!(decode(b"").map(|d| d.text), Ok(String::new()));
    }
}
