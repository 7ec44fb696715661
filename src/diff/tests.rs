use super::*;

fn opts() -> DiffOptions {
    DiffOptions::default()
}

fn change(old: &str, new: &str) -> Chunk {
    Chunk::Change {
        old: old.into(),
        new: new.into(),
        category: Category::Words,
        emphasis: None,
    }
}

/// Each pair as (alignment, old paragraphs, new paragraphs).
fn shape(diff: &DocumentDiff) -> Vec<(Alignment, Range<usize>, Range<usize>)> {
    diff.pairs
        .iter()
        .map(|pair| {
            (
                pair.alignment,
                pair.old_paragraphs.clone(),
                pair.new_paragraphs.clone(),
            )
        })
        .collect()
}

const FIRST: &str = "Die Stadt wurde im Jahr 1871 gegründet und wuchs danach sehr schnell.";
const SECOND: &str = "Heute leben dort mehr als zweihunderttausend Menschen aus vielen Ländern.";
const THIRD: &str = "Der Hafen ist der wichtigste Arbeitgeber der ganzen Region am Fluss.";
const FOURTH: &str = "Im Sommer kommen viele Touristen wegen der alten Brücken und Kirchen.";

#[test]
fn document_pairs_by_index() {
    let doc = diff_by_index(
        &["Gleich.", "Der Hund bellt.", "Nur alt."],
        &["Gleich.", "Der Hund schläft.", "Nur alt.", "Ganz neu."],
        &opts(),
    );
    let kinds: Vec<PairKind> = doc.pairs.iter().map(|pair| pair.kind).collect();
    assert_eq!(
        kinds,
        [
            PairKind::Unchanged,
            PairKind::Changed,
            PairKind::Unchanged,
            PairKind::Inserted
        ]
    );
    assert!(!doc.is_identical());
    assert_eq!(doc.changed_pairs(), 2);
    assert_eq!(doc.change_count(), 2);
    assert_eq!(doc.pairs[3].chunks, [change("", "Ganz neu.")]);
    assert_eq!(doc.pairs[3].new_paragraphs, 3..4);
    assert_eq!(doc.pairs[3].old_paragraphs, 3..3);

    let deleted = diff_by_index(&["a", "b"], &["a"], &opts());
    assert_eq!(deleted.pairs[1].kind, PairKind::Deleted);
    assert_eq!(deleted.pairs[1].alignment, Alignment::Deleted);
    assert_eq!(deleted.pairs[1].chunks, [change("b", "")]);
    assert!(diff_by_index(&["a"], &["a"], &opts()).is_identical());
}

#[test]
fn one_to_one_with_small_edits() {
    let edited = FIRST.replace("sehr schnell", "rasch");
    let diff = diff_document(&[FIRST, SECOND], &[&edited, SECOND], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::OneToOne, 0..1, 0..1),
            (Alignment::OneToOne, 1..2, 1..2)
        ]
    );
    assert_eq!(diff.pairs[0].kind, PairKind::Changed);
    assert!(!diff.pairs[0].rewritten);
    assert_eq!(diff.pairs[1].kind, PairKind::Unchanged);
}

#[test]
fn whitespace_only_differences_still_anchor() {
    let rewrapped = FIRST.replace(" und ", "\nund  ");
    let diff = diff_document(&[FIRST, SECOND], &[&rewrapped, SECOND], &opts());
    assert_eq!(diff.pairs.len(), 2);
    assert_eq!(diff.pairs[0].kind, PairKind::Changed);
    assert_eq!(diff.pairs[0].similarity, 1.0);
    assert!(diff.pairs[0].chunks.iter().all(|chunk| match chunk {
        Chunk::Change { category, .. } => *category == Category::Whitespace,
        Chunk::Same { .. } => true,
    }));
}

#[test]
fn a_paragraph_split_in_two() {
    let joined = format!("{FIRST} {SECOND}");
    let diff = diff_document(&[&joined, THIRD], &[FIRST, SECOND, THIRD], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::Split, 0..1, 0..2),
            (Alignment::OneToOne, 1..2, 2..3)
        ]
    );
    let split = &diff.pairs[0];
    assert_eq!(split.new, format!("{FIRST}\n\n{SECOND}"));
    assert_eq!(split.kind, PairKind::Changed);
    // The only change is the paragraph break.
    assert_eq!(split.change_count(), 1);
}

#[test]
fn two_paragraphs_merged() {
    let merged = format!("{SECOND} {THIRD}");
    let diff = diff_document(&[FIRST, SECOND, THIRD], &[FIRST, &merged], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::OneToOne, 0..1, 0..1),
            (Alignment::Merge, 1..3, 1..2)
        ]
    );
    assert_eq!(diff.pairs[1].old, format!("{SECOND}\n\n{THIRD}"));
    assert_eq!(diff.pairs[1].index, 1);
}

#[test]
fn inserted_and_deleted_paragraphs() {
    let edited = SECOND.replace("vielen", "allen");
    let diff = diff_document(&[FIRST, SECOND, THIRD], &[FIRST, FOURTH, &edited], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::OneToOne, 0..1, 0..1),
            (Alignment::Inserted, 1..1, 1..2),
            (Alignment::OneToOne, 1..2, 2..3),
            (Alignment::Deleted, 2..3, 3..3)
        ]
    );
    let kinds: Vec<PairKind> = diff.pairs.iter().map(|pair| pair.kind).collect();
    assert_eq!(
        kinds,
        [
            PairKind::Unchanged,
            PairKind::Inserted,
            PairKind::Changed,
            PairKind::Deleted
        ]
    );
}

#[test]
fn replaced_paragraphs_list_deletions_first() {
    let diff = diff_document(&[FIRST, SECOND], &[THIRD, FOURTH], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::Deleted, 0..1, 0..0),
            (Alignment::Deleted, 1..2, 0..0),
            (Alignment::Inserted, 2..2, 0..1),
            (Alignment::Inserted, 2..2, 1..2)
        ]
    );
}

/// A swap is shown as one paragraph deleted at its old place and inserted at its new one; when
/// both swapped paragraphs were also edited, the same happens around the pair that is kept.
#[test]
fn swapped_paragraphs_become_a_deletion_and_an_insertion() {
    let diff = diff_document(&[FIRST, SECOND, THIRD], &[SECOND, FIRST, THIRD], &opts());
    let mut around_swap: Vec<Alignment> = diff.pairs[..3].iter().map(|p| p.alignment).collect();
    around_swap.sort_by_key(|alignment| format!("{alignment:?}"));
    assert_eq!(
        around_swap,
        [Alignment::Deleted, Alignment::Inserted, Alignment::OneToOne]
    );
    assert_eq!(diff.pairs[1].kind, PairKind::Unchanged);
    assert_eq!(diff.pairs[3].kind, PairKind::Unchanged);
    assert_eq!(diff.pairs.len(), 4);
    // Edited as well: the closer of the two matches is kept.
    let first = FIRST.replace("1871", "1872");
    let second = SECOND.replace("mehr als", "über");
    let diff = diff_document(&[FIRST, SECOND, THIRD], &[&second, &first, THIRD], &opts());
    assert_eq!(
        shape(&diff),
        [
            (Alignment::Inserted, 0..0, 0..1),
            (Alignment::OneToOne, 0..1, 1..2),
            (Alignment::Deleted, 1..2, 2..2),
            (Alignment::OneToOne, 2..3, 2..3)
        ]
    );
    assert_eq!(diff.pairs[1].kind, PairKind::Changed);
}

#[test]
fn identical_and_empty_documents() {
    let same = diff_document(&[FIRST, SECOND], &[FIRST, SECOND], &opts());
    assert!(same.is_identical());
    assert_eq!(same.pairs.len(), 2);
    assert!(diff_document(&[], &[], &opts()).pairs.is_empty());
    let all_new = diff_document(&[], &[FIRST, SECOND], &opts());
    assert_eq!(
        shape(&all_new),
        [
            (Alignment::Inserted, 0..0, 0..1),
            (Alignment::Inserted, 0..0, 1..2)
        ]
    );
    let all_gone = diff_document(&[FIRST], &[], &opts());
    assert_eq!(shape(&all_gone), [(Alignment::Deleted, 0..1, 0..0)]);
    assert_eq!(all_gone.pairs[0].kind, PairKind::Deleted);
}

#[test]
fn equal_counts_of_similar_paragraphs_pair_by_index() {
    let old = [FIRST, SECOND, THIRD];
    let edited: Vec<String> = old.iter().map(|text| text.replace("der", "die")).collect();
    let new: Vec<&str> = edited.iter().map(String::as_str).collect();
    let diff = diff_document(&old, &new, &opts());
    assert!(
        diff.pairs
            .iter()
            .all(|pair| pair.alignment == Alignment::OneToOne)
    );
}

#[test]
fn rewrites_are_one_whole_change() {
    let diff = diff_by_index(
        &["Der Umsatz lag im letzten Jahr bei vier Milliarden Euro."],
        &["Im Vorjahr setzte die Firma rund vier Milliarden um."],
        &opts(),
    );
    let pair = &diff.pairs[0];
    assert!(pair.similarity < 0.35, "{}", pair.similarity);
    assert!(pair.rewritten);
    assert_eq!(pair.chunks, [change(&pair.old, &pair.new)]);

    let never = DiffOptions {
        rewrite_below: 0.0,
        ..opts()
    };
    let diff = diff_by_index(&[&pair.old], &[&pair.new], &never);
    assert!(!diff.pairs[0].rewritten);
    assert!(diff.pairs[0].change_count() > 1);
}

#[test]
fn serializes_kebab_case() {
    let doc = diff_document(&["Der Hund bellt"], &["Der Hund schläft"], &opts());
    let json = serde_json::to_value(&doc).expect("plain data serializes");
    assert_eq!(json["pairs"][0]["kind"], "changed");
    assert_eq!(json["pairs"][0]["alignment"], "one-to-one");
    assert_eq!(json["pairs"][0]["chunks"][1]["kind"], "change");
    assert_eq!(json["pairs"][0]["chunks"][1]["category"], "words");
}

/// Too big for one band search (600 × 1,300 paragraphs, nothing equal): words found in one
/// paragraph of each side anchor it first.
#[test]
fn a_long_block_inserted_into_an_edited_document() {
    let paragraph = |k: usize| format!("Absatz {k} handelt von Thema{k} und Ort{k} am Ende.");
    let old: Vec<String> = (0..600).map(paragraph).collect();
    let mut new: Vec<String> = (1000..1700).map(paragraph).collect();
    new.extend(
        old.iter()
            .map(|text| text.replace("handelt von", "behandelt")),
    );
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    let diff = diff_document(&old, &new, &opts());
    assert_eq!(diff.pairs.len(), 1300);
    assert!(
        diff.pairs[..700]
            .iter()
            .all(|pair| pair.alignment == Alignment::Inserted)
    );
    assert!(diff.pairs[700..].iter().all(|pair| {
        pair.alignment == Alignment::OneToOne
            && pair.kind == PairKind::Changed
            && pair.old_paragraphs.start + 700 == pair.new_paragraphs.start
    }));
}
