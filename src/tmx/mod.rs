//! Translation memories in TMX 1.4b, the format CAT tools (OmegaT, memoQ, Trados, Phrase)
//! exchange them in: [`Writer`] streams one `<tu>` per finished segment (the repaired German
//! and the final English, with the file, backend and model as properties). Protected spans
//! (inline code, URLs, link targets) are `<ph>` elements holding the span's text, numbered by
//! `x` so that a tool pairs them across the two languages; a CAT tool keeps a placeholder
//! whole where it would let a translator edit plain text. Pure: no I/O beyond the writer it is
//! given.

use std::io::{self, Write};
use std::ops::Range;

use crate::segment::Format;
use crate::xml;

mod read;
pub use read::{Memory, TmxError};

/// One translation unit: a finished segment.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    /// The repaired German (the text that was sent, spans and all).
    pub german: &'a str,
    /// Protected byte ranges of `german`, sorted and non-overlapping.
    pub protected: &'a [Range<usize>],
    /// The final English, the spans in it verbatim.
    pub english: &'a str,
    /// When it was made, in seconds since 1970.
    pub created: i64,
    /// The file it came from, if known.
    pub file: Option<&'a str>,
    pub backend: &'a str,
    pub model: &'a str,
    /// What a reviewer made of it (`accepted`, `rejected`, `edited`, `mixed`, `undecided`),
    /// when it comes from a reviewed output.
    pub review: Option<&'a str>,
}

/// The languages of a memory: klartext's source and target.
#[derive(Debug, Clone, Copy)]
pub struct Langs<'a> {
    pub source: &'a str,
    pub target: &'a str,
}

impl Default for Langs<'_> {
    fn default() -> Self {
        Self {
            source: "de",
            target: "en",
        }
    }
}

/// Writes a TMX document unit by unit: [`Writer::start`], [`Writer::unit`] for each, then
/// [`Writer::finish`]. ([`head`], [`unit`] and [`tail`] are the same pieces one by one, for a
/// document put together from parts.)
pub struct Writer<'w> {
    out: &'w mut dyn Write,
    langs: Langs<'w>,
    units: usize,
}

impl<'w> Writer<'w> {
    /// [`head`], then units can follow.
    pub fn start(
        out: &'w mut dyn Write,
        version: &str,
        now: i64,
        langs: Langs<'w>,
    ) -> io::Result<Self> {
        head(out, version, now, langs)?;
        Ok(Self {
            out,
            langs,
            units: 0,
        })
    }

    pub fn unit(&mut self, unit: &Unit) -> io::Result<()> {
        self::unit(self.out, unit, self.langs)?;
        self.units += 1;
        Ok(())
    }

    /// Closes the document ([`tail`]); the number of units written.
    pub fn finish(self) -> io::Result<usize> {
        tail(self.out)?;
        Ok(self.units)
    }
}

/// The XML declaration, the doctype, `<tmx>`, the header (made by klartext `version` at
/// `now`) and `<body>`.
pub fn head(out: &mut dyn Write, version: &str, now: i64, langs: Langs) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<!DOCTYPE tmx SYSTEM \"tmx14.dtd\">")?;
    writeln!(out, "<tmx version=\"1.4\">")?;
    writeln!(
        out,
        "  <header creationtool=\"klartext\" creationtoolversion=\"{}\" \
         datatype=\"plaintext\" segtype=\"paragraph\" adminlang=\"en\" srclang=\"{}\" \
         o-tmf=\"klartext\" creationdate=\"{}\"/>",
        xml::escape_attribute(version),
        xml::escape_attribute(langs.source),
        date(now)
    )?;
    writeln!(out, "  <body>")
}

/// One `<tu>`: its properties, then the German and the English variant.
pub fn unit(out: &mut dyn Write, unit: &Unit, langs: Langs) -> io::Result<()> {
    writeln!(
        out,
        "    <tu creationtool=\"klartext\" creationdate=\"{}\">",
        date(unit.created)
    )?;
    // Properties first: the DTD's content model is ((note|prop)*, tuv+).
    if let Some(file) = unit.file {
        writeln!(
            out,
            "      <prop type=\"x-file\">{}</prop>",
            xml::escape(file)
        )?;
    }
    writeln!(
        out,
        "      <prop type=\"x-backend\">{}</prop>",
        xml::escape(unit.backend)
    )?;
    if !unit.model.is_empty() {
        writeln!(
            out,
            "      <prop type=\"x-model\">{}</prop>",
            xml::escape(unit.model)
        )?;
    }
    if let Some(review) = unit.review {
        writeln!(
            out,
            "      <prop type=\"x-review\">{}</prop>",
            xml::escape(review)
        )?;
    }
    let spans = xml::spans(unit.german, unit.protected);
    let german = xml::numbered(unit.german, unit.protected);
    let english = xml::locate(unit.english, &spans);
    for (lang, seg, placed) in [
        (langs.source, unit.german, german),
        (langs.target, unit.english, english),
    ] {
        writeln!(
            out,
            "      <tuv xml:lang=\"{}\"><seg>{}</seg></tuv>",
            xml::escape_attribute(lang),
            segment(seg, &placed)
        )?;
    }
    writeln!(out, "    </tu>")
}

/// Closes `<body>` and `<tmx>`.
pub fn tail(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "  </body>")?;
    writeln!(out, "</tmx>")
}

/// The protected spans of a segment known only by its text (a cache entry keeps no format):
/// read as Markdown (code, link targets, URLs), or as plain text (URLs) when Markdown does not
/// read it as one whole segment, so nothing is taken for markup that was not.
pub fn protected_spans(text: &str) -> Vec<Range<usize>> {
    for format in [Format::Markdown, Format::Plain] {
        let segmented = crate::segment::segment(text, format);
        let mut segments = segmented.segments();
        if let (Some(only), None) = (segments.next(), segments.next())
            && only.range == (0..text.len())
        {
            return only.protected.clone();
        }
    }
    Vec::new()
}

/// `text` as the content of a `<seg>`: each placed span (`range`, its number) a `<ph x="n">`
/// holding the span's text.
fn segment(seg: &str, placed: &[(Range<usize>, usize)]) -> String {
    let mut out = String::with_capacity(seg.len() + 32 * placed.len());
    let mut at = 0;
    for (range, n) in placed {
        let (Some(before), Some(span)) = (seg.get(at..range.start), seg.get(range.clone())) else {
            continue;
        };
        out.push_str(&xml::escape(before));
        out.push_str(&format!("<ph x=\"{n}\">{}</ph>", xml::escape(span)));
        at = range.end;
    }
    out.push_str(&xml::escape(seg.get(at..).unwrap_or_default()));
    out
}

/// `seconds` since 1970 as TMX writes dates: `YYYYMMDDThhmmssZ`, UTC.
pub fn date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date `days` after 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests;
