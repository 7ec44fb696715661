//! Accepting and rejecting changes: the text that results from one decision per change.

use serde::{Deserialize, Serialize};

use super::{Chunk, DocumentDiff, Pair};

/// What the reviewer made of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Keep the new text.
    Accept,
    /// Keep the old text.
    Reject,
}

/// The pair's text after one decision per `Change` chunk, in order: the `Same` texts with each
/// change's `new` side if accepted, `old` side if rejected. A missing decision counts as
/// accepted, so no decisions give `pair.new` and all rejections give `pair.old`.
pub fn apply(pair: &Pair, decisions: &[Decision]) -> String {
    let mut text = String::with_capacity(pair.new.len().max(pair.old.len()));
    let mut decisions = decisions.iter();
    for chunk in &pair.chunks {
        match chunk {
            Chunk::Same { text: same } => text.push_str(same),
            Chunk::Change { old, new, .. } => match decisions.next() {
                Some(Decision::Reject) => text.push_str(old),
                Some(Decision::Accept) | None => text.push_str(new),
            },
        }
    }
    text
}

/// The document after the decisions for each pair (`decisions[k]` belongs to `diff.pairs[k]`;
/// missing ones count as accepted), paragraphs joined with `join`. Pairs that come out empty
/// (an accepted deletion, a rejected insertion) leave no paragraph behind. Split and merged
/// pairs keep the blank line ([`super::PARAGRAPH_JOIN`]) between their own paragraphs.
pub fn apply_document(diff: &DocumentDiff, decisions: &[Vec<Decision>], join: &str) -> String {
    let paragraphs: Vec<String> = diff
        .pairs
        .iter()
        .enumerate()
        .map(|(k, pair)| apply(pair, decisions.get(k).map_or(&[], Vec::as_slice)))
        .filter(|text| !text.is_empty())
        .collect();
    paragraphs.join(join)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diff::words::word_similarity;
    use crate::diff::{DiffOptions, PARAGRAPH_JOIN, PairKind, diff_by_index, diff_document};

    fn pair(old: &str, new: &str) -> Pair {
        let diff = diff_by_index(&[old], &[new], &DiffOptions::default());
        diff.pairs
            .into_iter()
            .next()
            .expect("one pair for one paragraph")
    }

    #[test]
    fn decisions_pick_sides_in_order() {
        let pair = pair("Der Hund bellt laut.", "Der große Hund bellt leise.");
        assert_eq!(pair.change_count(), 2);
        use Decision::{Accept, Reject};
        assert_eq!(apply(&pair, &[]), pair.new);
        assert_eq!(apply(&pair, &[Reject, Reject]), pair.old);
        assert_eq!(
            apply(&pair, &[Accept, Reject]),
            "Der große Hund bellt laut."
        );
        assert_eq!(apply(&pair, &[Reject]), "Der Hund bellt leise.");
        // Extra decisions are ignored.
        assert_eq!(apply(&pair, &[Reject, Reject, Accept]), pair.old);
    }

    #[test]
    fn documents_drop_empty_results() {
        let diff = diff_by_index(
            &["Eins.", "Zwei.", "Drei."],
            &["Eins!", "Zwei."],
            &DiffOptions::default(),
        );
        assert_eq!(apply_document(&diff, &[], "\n\n"), "Eins!\n\nZwei.");
        let all_rejected = vec![vec![Decision::Reject]; 3];
        assert_eq!(
            apply_document(&diff, &all_rejected, "\n"),
            "Eins.\nZwei.\nDrei."
        );
    }

    #[test]
    fn decisions_serialize_as_words() {
        let json = serde_json::to_string(&[Decision::Accept, Decision::Reject])
            .expect("plain data serializes");
        assert_eq!(json, r#"["accept","reject"]"#);
        let back: Vec<Decision> = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, [Decision::Accept, Decision::Reject]);
    }

    fn paragraph() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-zäöß]{1,7}",
                "[A-Z][a-z]{0,5}",
                Just(" ".to_owned()),
                Just("  ".to_owned()),
                "[.,!?„“\"–-]",
                Just("\n".to_owned()),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    /// Paragraphs as segmentation would give them: non-empty and without blank lines.
    fn paragraphs() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[A-Za-zä]{1,6}( [a-zä,.]{1,6}){0,6}", 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn decisions_rebuild_exactly(
            old in paragraph(),
            new in paragraph(),
            picks in prop::collection::vec(any::<bool>(), 0..16),
        ) {
            let pair = pair(&old, &new);
            let changes = pair.change_count();
            prop_assert_eq!(apply(&pair, &vec![Decision::Accept; changes]), new.clone());
            prop_assert_eq!(apply(&pair, &vec![Decision::Reject; changes]), old.clone());

            let decisions: Vec<Decision> = picks
                .iter()
                .map(|&accept| if accept { Decision::Accept } else { Decision::Reject })
                .collect();
            let mut expected = String::new();
            let (mut rebuilt_old, mut rebuilt_new) = (String::new(), String::new());
            let mut k = 0;
            for chunk in &pair.chunks {
                match chunk {
                    Chunk::Same { text } => {
                        expected.push_str(text);
                        rebuilt_old.push_str(text);
                        rebuilt_new.push_str(text);
                    }
                    Chunk::Change { old, new, .. } => {
                        let rejected = decisions.get(k) == Some(&Decision::Reject);
                        expected.push_str(if rejected { old } else { new });
                        rebuilt_old.push_str(old);
                        rebuilt_new.push_str(new);
                        k += 1;
                    }
                }
            }
            prop_assert_eq!(apply(&pair, &decisions), expected);
            prop_assert_eq!(rebuilt_old, old);
            prop_assert_eq!(rebuilt_new, new);
        }

        #[test]
        fn aligned_documents_rebuild_both_sides(old in paragraphs(), new in paragraphs()) {
            let old: Vec<&str> = old.iter().map(String::as_str).collect();
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            let diff = diff_document(&old, &new, &DiffOptions::default());
            let rejected: Vec<Vec<Decision>> = diff
                .pairs
                .iter()
                .map(|pair| vec![Decision::Reject; pair.change_count()])
                .collect();
            let (old_text, new_text) = (old.join(PARAGRAPH_JOIN), new.join(PARAGRAPH_JOIN));
            prop_assert_eq!(apply_document(&diff, &[], PARAGRAPH_JOIN), new_text);
            prop_assert_eq!(apply_document(&diff, &rejected, PARAGRAPH_JOIN), old_text);
            // The pairs' ranges tile both documents in order.
            let (mut next_old, mut next_new) = (0, 0);
            for (k, pair) in diff.pairs.iter().enumerate() {
                prop_assert_eq!(pair.index, k);
                prop_assert_eq!(pair.old_paragraphs.start, next_old);
                prop_assert_eq!(pair.new_paragraphs.start, next_new);
                (next_old, next_new) = (pair.old_paragraphs.end, pair.new_paragraphs.end);
            }
            prop_assert_eq!((next_old, next_new), (old.len(), new.len()));
            // A similarity the aligner reused is the one the pair would have computed.
            let changed = diff.pairs.iter().filter(|pair| pair.kind == PairKind::Changed);
            for pair in changed {
                let computed = word_similarity(&pair.old, &pair.new, &DiffOptions::default());
                prop_assert!((pair.similarity - computed).abs() < 1e-6);
            }
        }
    }
}
