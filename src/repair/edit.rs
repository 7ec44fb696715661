//! Edits proposed by one pass over the current text, kept sorted, non-overlapping and out of
//! protected ranges.

use std::ops::Range;

use super::Rule;

/// Replace `range` of the current text with `after`. Never empty: an insertion is expressed
/// by replacing the neighbouring mark with itself plus the space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Edit {
    pub rule: Rule,
    pub range: Range<usize>,
    pub after: String,
}

/// The edits of one pass.
pub(super) struct EditSet<'p> {
    text: &'p str,
    protected: &'p [Range<usize>],
    edits: Vec<Edit>,
}

impl<'p> EditSet<'p> {
    pub fn new(text: &'p str, protected: &'p [Range<usize>]) -> Self {
        Self {
            text,
            protected,
            edits: Vec::new(),
        }
    }

    pub fn protected(&self) -> &'p [Range<usize>] {
        self.protected
    }

    /// Propose an edit; it is dropped when it touches a protected range, overlaps an edit
    /// already proposed, or changes nothing.
    pub fn propose(&mut self, rule: Rule, range: Range<usize>, after: impl Into<String>) {
        let after = after.into();
        if range.is_empty() || self.text.get(range.clone()).is_none_or(|b| b == after) {
            return;
        }
        let touches = |r: &Range<usize>| r.start < range.end && range.start < r.end;
        if self.protected.iter().any(touches) || self.edits.iter().any(|e| touches(&e.range)) {
            return;
        }
        self.edits.push(Edit { rule, range, after });
    }

    pub fn into_edits(mut self) -> Vec<Edit> {
        self.edits.sort_by_key(|e| e.range.start);
        self.edits
    }
}
