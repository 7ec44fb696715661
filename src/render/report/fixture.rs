//! A small hand-built diff for the report tests: every kind and alignment, every category, an
//! emphasis, a rewritten pair, findings, a German source and hostile text (markup, control and
//! bidi characters, CriticMarkup delimiters). Built by hand rather than by `diff_document` so the
//! snapshots test the reports, not the diff algorithm.

use super::{Langs, ReportInput};
use crate::diff::{Alignment, Category, Chunk, DocumentDiff, Emphasis, Pair, PairKind};
use crate::render::{Note, NoteLevel};

pub(super) struct Fixture {
    pub diff: DocumentDiff,
    pub source: Vec<String>,
    pub notes: Vec<Vec<Note>>,
}

fn same(text: &str) -> Chunk {
    Chunk::Same {
        text: text.to_owned(),
    }
}

fn change(old: &str, new: &str, category: Category) -> Chunk {
    Chunk::Change {
        old: old.to_owned(),
        new: new.to_owned(),
        category,
        emphasis: None,
    }
}

fn pieces(parts: &[(bool, &str)]) -> Vec<(bool, String)> {
    parts
        .iter()
        .map(|(emphasised, text)| (*emphasised, (*text).to_owned()))
        .collect()
}

/// A pair whose texts are its chunks joined, one paragraph per side unless told otherwise.
fn pair(index: usize, kind: PairKind, similarity: f32, chunks: Vec<Chunk>) -> Pair {
    let (mut old, mut new) = (String::new(), String::new());
    for chunk in &chunks {
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
    let alignment = match kind {
        PairKind::Inserted => Alignment::Inserted,
        PairKind::Deleted => Alignment::Deleted,
        _ => Alignment::OneToOne,
    };
    let side = |text: &str| index..index + usize::from(!text.is_empty());
    Pair {
        index,
        kind,
        old_paragraphs: side(&old),
        new_paragraphs: side(&new),
        old,
        new,
        chunks,
        similarity,
        alignment,
        rewritten: false,
    }
}

impl Fixture {
    pub fn new() -> Self {
        use Category::{Case, Punctuation, Whitespace, Words};
        let mut pairs = vec![
            pair(
                0,
                PairKind::Changed,
                0.6,
                vec![
                    same("The "),
                    change("firm", "company", Words),
                    same(" is on the "),
                    change("rear", "back", Words),
                    same(" foot"),
                    change(",", "", Punctuation),
                    same(" since rivals in the "),
                    Chunk::Change {
                        old: "Hauptstrasse".to_owned(),
                        new: "Hauptstraße".to_owned(),
                        category: Words,
                        emphasis: Some(Emphasis {
                            old: pieces(&[(false, "Hauptstra"), (true, "ss"), (false, "e")]),
                            new: pieces(&[(false, "Hauptstra"), (true, "ß"), (false, "e")]),
                        }),
                    },
                    same(" accelerate."),
                ],
            ),
            pair(
                1,
                PairKind::Unchanged,
                1.0,
                vec![same("This paragraph stays the same.")],
            ),
            pair(2, PairKind::Unchanged, 1.0, vec![same("So does this one.")]),
            pair(
                3,
                PairKind::Changed,
                0.7,
                vec![
                    same("Type <script>alert(\"x\")</script> & 'quotes' in "),
                    change("berlin", "Berlin", Case),
                    same(", then"),
                    change("  ", " ", Whitespace),
                    same("press\x1b[31m {++ and ~> "),
                    change("here\u{202E}", "here", Words),
                    change("", ".", Punctuation),
                ],
            ),
            pair(
                4,
                PairKind::Changed,
                0.9,
                vec![
                    same("One long paragraph."),
                    change(" ", "\n\n", Words),
                    same("It became two."),
                ],
            ),
            pair(
                5,
                PairKind::Changed,
                0.1,
                vec![change(
                    "Clouds of words without sense.",
                    "A clear sentence instead.",
                    Words,
                )],
            ),
            pair(
                6,
                PairKind::Deleted,
                0.0,
                vec![change("This paragraph is dropped.", "", Words)],
            ),
            pair(
                7,
                PairKind::Inserted,
                0.0,
                vec![change("", "A new paragraph.", Words)],
            ),
            pair(
                8,
                PairKind::Unchanged,
                1.0,
                vec![same("Revenue was 4 billion.")],
            ),
            pair(9, PairKind::Unchanged, 1.0, vec![same("The end.")]),
        ];
        pairs[4].alignment = Alignment::Split;
        pairs[4].new_paragraphs = 4..6;
        pairs[5].rewritten = true;
        let source = [
            "Die Firma ist am hinteren Fuß, da Rivalen in der Hauptstrasse beschleunigen.",
            "Dieser Absatz bleibt gleich.",
            "Dieser auch.",
            "Tippe <script> & 'Zitate' in berlin.",
            "Ein langer Absatz. Er wurde zu zwei.",
            "Klarer Satz.",
            "Dieser Absatz fällt weg.",
            "",
            "Der Umsatz lag bei 4 Billionen.",
            "Das Ende.",
        ]
        .map(str::to_owned)
        .to_vec();
        let note = |level, text: &str| Note {
            level,
            text: text.to_owned(),
        };
        let notes = vec![
            vec![note(
                NoteLevel::Warning,
                "idiom: „am hinteren Fuß“ is on the back foot",
            )],
            Vec::new(),
            Vec::new(),
            vec![note(NoteLevel::Info, "markup <b>kept</b> & <<} closed")],
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            vec![note(
                NoteLevel::Error,
                "quantity: „4 Billionen“ is 4 trillion, the English says 4 billion",
            )],
        ];
        Self {
            diff: DocumentDiff { pairs },
            source,
            notes,
        }
    }

    pub fn input(&self) -> ReportInput<'_> {
        ReportInput {
            source: Some(("German", &self.source)),
            notes: &self.notes,
            langs: Langs {
                old: Some("en"),
                new: Some("en"),
                source: Some("de"),
            },
            ..ReportInput::new(
                &self.diff,
                ("draft · <deepl>", "final & fixed"),
                "klartext test",
            )
        }
    }
}
