//! Every layout at every width, plain and with `--color debug` tags (insta snapshots in
//! `snapshots/`), folding and context, headers of aligned pairs, notes, and the width
//! invariant.

use std::time::Duration;

use proptest::prelude::*;

use super::sheet::pair_header;
use super::*;
use crate::diff::{DiffOptions, PairKind, diff_by_index, diff_document, diff_words};

const URL_OLD: &str = "https://example.org/ein/sehr/langer/pfad/zum/fahrplan/der/donaudampfschifffahrt/sommer-2024/abfahrten.html";
const URL_NEW: &str = "https://example.org/ein/sehr/langer/pfad/zum/fahrplan/der/donaudampfschifffahrt/sommer-2025/abfahrten.html";

/// Changed, folded, deleted and inserted paragraphs with umlauts, a long compound, a long
/// URL, wide characters, control characters and a whitespace-only change.
fn fixture() -> DocumentDiff {
    let compound_old = format!(
        "Der Donaudampfschifffahrtsgesellschaftskapitän veröffentlichte den Fahrplan unter {URL_OLD} gestern."
    );
    let compound_new = format!(
        "Der Donaudampfschifffahrtsgesellschaftskapitän hat den Fahrplan gestern unter {URL_NEW} veröffentlicht."
    );
    let old = [
        "Die Äpfel aus dem Alten Land habe eine besondere Größe, und der Bauer sagte mir das auf dem Markt.",
        "Im Herbst fahren viele Familien mit dem Rad an die Elbe.",
        "Dort gibt es Kuchen, Kaffee und einen Blick auf die Schiffe.",
        "Am Abend wird es früh dunkel.",
        &compound_old,
        "Das Wort für Apfel ist 苹果 auf Chinesisch 🍎 und schmeckt gut.",
        "Achtung:\x1b[31m rot\x07 und \u{202E}verkehrt\u{202C} geschrieben.",
        "Er wohnt in der Hauptstraße,die sehr laut ist, mit  doppeltem Abstand.",
        "Dieser Absatz fällt in der neuen Fassung weg.",
    ];
    let new = [
        "Die Äpfel aus dem Alten Land haben eine besondere Größe, sagte mir der Bauer auf dem Markt.",
        "Im Herbst fahren viele Familien mit dem Rad an die Elbe.",
        "Dort gibt es Kuchen, Kaffee und einen Blick auf die Schiffe.",
        "Am Abend wird es früh dunkel.",
        &compound_new,
        "Das Wort für „Apfel“ heißt 苹果 auf Chinesisch 🍎🍏 und schmeckt süß.",
        "Achtung: rot und verkehrt geschrieben.\u{7}",
        "Er wohnt in der Hauptstraße, die sehr laut ist, mit doppeltem Abstand.",
    ];
    let opts = DiffOptions {
        timeout: Duration::from_secs(10),
        ..DiffOptions::default()
    };
    let mut diff = diff_by_index(&old, &new, &opts);
    // Index pairing cannot produce both kinds, so add one by hand.
    let inserted = "Ein ganz neuer Absatz über die Straße.";
    diff.pairs.push(Pair {
        index: diff.pairs.len(),
        kind: PairKind::Inserted,
        old: String::new(),
        new: inserted.to_owned(),
        chunks: diff_words("", inserted, &opts),
        similarity: 0.0,
        old_paragraphs: 8..8,
        new_paragraphs: 8..9,
        alignment: crate::diff::Alignment::Inserted,
        rewritten: false,
    });
    diff
}

fn options(width: usize, layout: Layout, color: ColorMode) -> RenderOptions {
    RenderOptions {
        width,
        layout,
        color,
        titles: ("source".to_owned(), "repaired".to_owned()),
        context: Some(0),
        source: None,
        source_repairs: Vec::new(),
        notes: Vec::new(),
    }
}

fn render(diff: &DocumentDiff, opts: &RenderOptions) -> String {
    let mut out = Vec::new();
    render_diff(diff, opts, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("render writes UTF-8")
}

fn strip_ansi(line: &str) -> String {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Every line fits, no raw control or bidi character survives, and every escape sequence
/// is one of ours.
fn assert_fits(output: &str, width: usize) {
    let width = width.max(MIN_WIDTH);
    for line in output.lines() {
        let shown = strip_ansi(line);
        assert!(
            display_width(&shown) <= width,
            "line wider than {width}: {shown:?}"
        );
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{202E}' | '\u{200B}')),
            "raw control in {shown:?}"
        );
    }
}

const LAYOUTS: [Layout; 3] = [Layout::SideBySide, Layout::Stacked, Layout::Inline];

#[test]
fn every_layout_fits_every_width() {
    let diff = fixture();
    for width in [0, 20, 40, 80, 200] {
        for layout in LAYOUTS {
            for color in [ColorMode::Plain, ColorMode::Ansi] {
                for fold in [true, false] {
                    let opts = RenderOptions {
                        context: fold.then_some(0),
                        ..options(width, layout, color)
                    };
                    assert_fits(&render(&diff, &opts), width);
                }
            }
        }
    }
}

#[test]
fn side_by_side_panes_are_equal_and_capped() {
    let diff = fixture();
    for (width, pane) in [(80, 38), (200, 90), (20, 8)] {
        let opts = options(width, Layout::SideBySide, ColorMode::Plain);
        let output = render(&diff, &opts);
        let title = output.lines().next().expect("a title row");
        let left = title.split('│').next().expect("split yields one part");
        assert_eq!(display_width(left), pane + 1, "at {width}: {title:?}");
    }
}

#[test]
fn notes_are_counted_listed_and_never_folded() {
    let diff = diff_by_index(
        &[
            "Der Umsatz lag bei 4 Billionen.",
            "Unverändert.",
            "Auch gleich.",
        ],
        &["Revenue was 4 billion.", "Unverändert.", "Auch gleich."],
        &DiffOptions::default(),
    );
    let note = |level, text: &str| Note {
        level,
        text: text.to_owned(),
    };
    let opts = RenderOptions {
        notes: vec![
            vec![
                note(
                    NoteLevel::Error,
                    "quantity: „4 Billionen“ is 4 trillion, the English says 4 billion",
                ),
                note(NoteLevel::Warning, "form: length ratio 0.4"),
            ],
            vec![note(
                NoteLevel::Info,
                "source: repairable offline: glued quote",
            )],
        ],
        ..options(80, Layout::SideBySide, ColorMode::Plain)
    };
    let output = render(&diff, &opts);
    assert_fits(&output, 80);
    assert!(
        output.contains("¶ 1 · rewritten · 20% similar · ✗1 ⚠1"),
        "{output}"
    );
    assert!(
        output.contains("¶ 2 · unchanged · ℹ1"),
        "noted pairs stay: {output}"
    );
    assert!(output.contains("… 1 unchanged paragraph …"), "{output}");
    insta::assert_snapshot!(output);
}

#[test]
fn three_panes_with_the_source_when_wide() {
    let diff = diff_by_index(
        &["The firm is on the rear foot."],
        &["The company is on the back foot."],
        &DiffOptions::default(),
    );
    let source = Some((
        "German".to_owned(),
        vec!["Die Firma ist am hinteren Fuß.".to_owned()],
    ));
    let wide = RenderOptions {
        source: source.clone(),
        ..options(200, Layout::SideBySide, ColorMode::Plain)
    };
    let output = render(&diff, &wide);
    assert_fits(&output, 200);
    let body = output
        .lines()
        .find(|l| l.contains("hinteren"))
        .expect("German row");
    assert_eq!(body.matches('│').count(), 2, "{output}");
    assert!(
        output
            .lines()
            .next()
            .is_some_and(|t| t.starts_with("German"))
    );
    insta::assert_snapshot!(output);
    let narrow = RenderOptions {
        source,
        ..options(120, Layout::SideBySide, ColorMode::Plain)
    };
    assert!(
        !render(&diff, &narrow).contains("hinteren"),
        "two panes below 180 columns"
    );
}

/// The row of `output` on which `needle` is found in pane `pane` (panes split at `│`).
fn row_of(output: &str, pane: usize, needle: &str) -> Option<usize> {
    output.lines().position(|line| {
        line.split('│')
            .nth(pane)
            .is_some_and(|p| p.contains(needle))
    })
}

/// A paragraph pair whose sentences differ a lot in length: a long first sentence in the draft
/// and a short one in the final text, a short sentence rewritten as a long one, and the German
/// both come from.
pub(super) const DRAFT: &str = "The company, which was founded in 1998 by two engineers in a \
    small garage in Stuttgart and has grown steadily ever since, reported record sales for the \
    third quarter. It was good. Shares rose by 4 percent in early trading.";
pub(super) const FINAL: &str = "The company reported record sales for the third quarter. The \
    year has been an excellent one for everybody involved in the business, from suppliers to \
    staff. Shares rose by 4 percent in early trading.";
pub(super) const GERMAN: &str = "Das Unternehmen, das 1998 von zwei Ingenieuren in einer \
    kleinen Garage in Stuttgart gegründet wurde und seitdem stetig gewachsen ist, meldete \
    Rekordumsätze für das dritte Quartal. Es war gut. Die Aktie stieg im frühen Handel um 4 \
    Prozent.";

#[test]
fn side_by_side_rows_hold_the_same_sentence() {
    let diff = diff_by_index(&[DRAFT], &[FINAL], &DiffOptions::default());
    for width in [80, 120, 200] {
        let opts = RenderOptions {
            source: Some(("German".to_owned(), vec![GERMAN.to_owned()])),
            titles: ("draft".to_owned(), "final".to_owned()),
            ..options(width, Layout::SideBySide, ColorMode::Plain)
        };
        let output = render(&diff, &opts);
        assert_fits(&output, width);
        // Three panes from 180 columns: the German first.
        let (old, new) = if width >= THREE_PANE_WIDTH {
            (1, 2)
        } else {
            (0, 1)
        };
        for (said, fixed) in [
            ("The company", "The company"),
            ("It was good", "The year"),
            ("Shares rose", "Shares rose"),
        ] {
            let row = row_of(&output, old, said);
            assert!(row.is_some(), "at {width}: {said:?} in {output}");
            assert_eq!(row, row_of(&output, new, fixed), "at {width}: {output}");
        }
        if width >= THREE_PANE_WIDTH {
            assert_eq!(
                row_of(&output, 0, "Es war gut"),
                row_of(&output, old, "It was good")
            );
            assert_eq!(
                row_of(&output, 0, "Die Aktie"),
                row_of(&output, old, "Shares rose")
            );
        }
        insta::assert_snapshot!(format!("rows_correspond_{width}"), output);
    }
}

#[test]
fn aligned_headers_name_splits_merges_and_rewrites() {
    let first = "Die Fähre fährt jede Stunde vom Anleger am Markt ab.";
    let second = "Bei Sturm fällt sie aus, dann fährt ein Bus über die Brücke.";
    let third = "Fahrkarten gibt es am Automaten und beim Personal an Bord.";
    let fourth = "Kinder unter sechs Jahren fahren kostenlos mit.";
    let old = [
        format!("{first} {second}"),
        third.to_owned(),
        fourth.to_owned(),
        "Der Kiosk am Anleger verkauft auch Kaffee und Brötchen.".to_owned(),
    ];
    let new = [
        first.to_owned(),
        second.to_owned(),
        format!("{third} {fourth}"),
        "Am Anleger gibt es einen Kiosk, der morgens Brötchen hat.".to_owned(),
    ];
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    let diff = diff_document(&old, &new, &DiffOptions::default());
    let headers: Vec<String> = diff.pairs.iter().map(pair_header).collect();
    assert_eq!(
        headers,
        [
            "¶ 1 → 1–2 · split · 1 change",
            "¶ 2–3 → 3 · merged · 1 change",
            "¶ 4 · rewritten · 32% similar",
        ]
    );
    let output = render(&diff, &options(80, Layout::SideBySide, ColorMode::Plain));
    assert_fits(&output, 80);
    insta::assert_snapshot!(output);
}

#[test]
fn folding_and_identical_documents() {
    let same = ["Eins.", "Zwei.", "Drei."];
    let diff = diff_document(&same, &same, &DiffOptions::default());
    let opts = options(80, Layout::SideBySide, ColorMode::Plain);
    assert_eq!(
        render(&diff, &opts),
        "No differences: all 3 paragraphs are identical.\n"
    );
    let one = diff_document(
        &["Eins.", "Zwei."],
        &["Eins.", "Zwei!"],
        &DiffOptions::default(),
    );
    assert!(render(&one, &opts).contains("… 1 unchanged paragraph …"));
    let unfolded = RenderOptions {
        context: None,
        ..opts
    };
    assert!(render(&one, &unfolded).contains("¶ 1 · unchanged"));
}

#[test]
fn identical_documents_still_show_their_notes() {
    let same = ["Eins.", "Zwei.", "Drei."];
    let diff = diff_document(&same, &same, &DiffOptions::default());
    let doubt = Note::model(Severity::Warning, "the end of the sentence seems cut off");
    let opts = RenderOptions {
        notes: vec![Vec::new(), vec![doubt]],
        ..options(80, Layout::SideBySide, ColorMode::Plain)
    };
    let output = render(&diff, &opts);
    assert!(!output.contains("No differences"), "{output}");
    assert!(output.contains("¶ 2 · unchanged · ⚠1"), "{output}");
    assert!(
        output.contains("⚠ model doubt: the end of the sentence seems cut off"),
        "{output}"
    );
    assert!(output.contains("… 1 unchanged paragraph …"), "{output}");
}

#[test]
fn ansi_rows_always_end_reset() {
    let output = render(
        &fixture(),
        &options(40, Layout::SideBySide, ColorMode::Ansi),
    );
    for line in output.lines().filter(|line| line.contains('\x1b')) {
        let last_escape = line.rfind('\x1b').expect("line has an escape");
        assert!(line[last_escape..].starts_with("\x1b[0m"), "{line:?}");
    }
}

/// Every layout at 40, 80, 120 and 200 columns, without colour (markers) and with colour
/// shown as readable tags.
#[test]
fn every_layout_width_and_colour_mode() {
    let diff = fixture();
    for (layout, name) in LAYOUTS.iter().zip(["side_by_side", "stacked", "inline"]) {
        for width in [40, 80, 120, 200] {
            for (color, mode) in [(ColorMode::Plain, "plain"), (ColorMode::Debug, "debug")] {
                let output = render(&diff, &options(width, *layout, color));
                assert_fits(&output, width);
                insta::assert_snapshot!(format!("matrix_{name}_{width}_{mode}"), output);
            }
        }
    }
}

#[test]
fn context_keeps_neighbours_of_changes() {
    let same = |n: usize| format!("Absatz {n} bleibt.");
    let old: Vec<String> = (0..7).map(same).collect();
    let mut new = old.clone();
    new[3] = "Absatz 3 ist neu.".to_owned();
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    let diff = diff_by_index(&old, &new, &DiffOptions::default());
    let opts = RenderOptions {
        context: Some(1),
        ..options(80, Layout::SideBySide, ColorMode::Plain)
    };
    let output = render(&diff, &opts);
    assert!(output.contains("… 2 unchanged paragraphs …"), "{output}");
    assert!(output.contains("Absatz 2 bleibt.") && output.contains("Absatz 4 bleibt."));
    assert!(!output.contains("Absatz 1 bleibt."), "{output}");
}

#[test]
fn snapshot_side_by_side_plain_40() {
    let output = render(
        &fixture(),
        &options(40, Layout::SideBySide, ColorMode::Plain),
    );
    insta::assert_snapshot!(output);
}

#[test]
fn snapshot_side_by_side_plain_80() {
    let output = render(
        &fixture(),
        &options(80, Layout::SideBySide, ColorMode::Plain),
    );
    insta::assert_snapshot!(output);
}

#[test]
fn snapshot_side_by_side_plain_200() {
    let output = render(
        &fixture(),
        &options(200, Layout::SideBySide, ColorMode::Plain),
    );
    insta::assert_snapshot!(output);
}

#[test]
fn snapshot_stacked_plain_40() {
    let output = render(&fixture(), &options(40, Layout::Stacked, ColorMode::Plain));
    insta::assert_snapshot!(output);
}

#[test]
fn snapshot_inline_plain_80() {
    let output = render(&fixture(), &options(80, Layout::Inline, ColorMode::Plain));
    insta::assert_snapshot!(output);
}

#[test]
fn snapshot_side_by_side_ansi_80() {
    let output = render(
        &fixture(),
        &options(80, Layout::SideBySide, ColorMode::Ansi),
    );
    insta::assert_snapshot!(output.replace('\x1b', "␛"));
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zäöüß]{1,12}",
            Just(" ".to_owned()),
            Just("Donaudampfschifffahrtsgesellschaftskapitän".to_owned()),
            "[苹果🍎🍏]{1,6}",
            "[\t\n\x1b\x07\u{85}\u{202E}\u{301}.,„“]{1,3}",
        ],
        0..30,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_pairs_fit(
        old in prop::collection::vec(paragraph(), 0..4),
        new in prop::collection::vec(paragraph(), 0..4),
        width in 0usize..220,
        layout in prop::sample::select(LAYOUTS.to_vec()),
        ansi in any::<bool>(),
    ) {
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let diff = diff_document(&old, &new, &DiffOptions::default());
        let color = if ansi { ColorMode::Ansi } else { ColorMode::Plain };
        let opts = RenderOptions { context: None, ..options(width, layout, color) };
        assert_fits(&render(&diff, &opts), width);
    }
}
