//! A segment's identity within its document: its index, written `s0`, `s1`, … wherever it is
//! shown, stored or sent (protocol ids, findings, records, saved decisions).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `n`th segment of a document (0-based; blocks are not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SegmentId(pub usize);

impl SegmentId {
    pub fn index(self) -> usize {
        self.0
    }

    /// The 1-based paragraph number people read (`¶ 3` for `s2`).
    pub fn paragraph(self) -> usize {
        self.0 + 1
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// Not of the form `s0`, `s1`, ….
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a segment id (s0, s1, …)")]
pub struct NotASegmentId(String);

impl FromStr for SegmentId {
    type Err = NotASegmentId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix('s')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .map(SegmentId)
            .ok_or_else(|| NotASegmentId(text.to_owned()))
    }
}

impl Serialize for SegmentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SegmentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_s_and_a_number() {
        assert_eq!(SegmentId(12).to_string(), "s12");
        assert_eq!("s0".parse(), Ok(SegmentId(0)));
        for bad in ["", "s", "0", "s-1", "p1", "s1x", "S1"] {
            assert!(bad.parse::<SegmentId>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&SegmentId(3)).expect("serializes");
        assert_eq!(json, "\"s3\"");
        let back: SegmentId = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, SegmentId(3));
        assert!(serde_json::from_str::<SegmentId>("\"x\"").is_err());
        assert_eq!(SegmentId(2).paragraph(), 3);
    }
}
