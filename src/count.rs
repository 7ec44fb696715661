//! Counts as people read them: `12345` → `12,345`, and `1 paragraph` but `2 paragraphs`. One
//! spelling for every message, summary, screen and report line.

/// `n` with a comma between groups of three digits.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `n` and its noun: `counted(1, "file", "files")` is `1 file`, `counted(1200, …)` is
/// `1,200 files`.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n as u64), plural(n, one, many))
}

/// The counts that are not zero, joined: `2 errors and 1 warning`; `None` when all are zero.
pub fn nonzero(parts: &[(usize, &str, &str)]) -> Option<String> {
    let parts: Vec<String> = parts
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| counted(*n, one, many))
        .collect();
    match parts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [init @ .., last] => Some(format!("{} and {last}", init.join(", "))),
    }
}

/// A size in bytes as people read it: `512 bytes`, `3.4 KB`, `12.0 MB`.
pub fn bytes(n: u64) -> String {
    const KB: f64 = 1000.0;
    let n_f = n as f64;
    if n < 1000 {
        counted(n as usize, "byte", "bytes")
    } else if n_f < KB * KB {
        format!("{:.1} KB", n_f / KB)
    } else if n_f < KB * KB * KB {
        format!("{:.1} MB", n_f / (KB * KB))
    } else {
        format!("{:.1} GB", n_f / (KB * KB * KB))
    }
}

/// `one` or `many`, by `n`: `plural(n, "entry", "entries")`.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_three() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(12), "12");
        assert_eq!(grouped(123), "123");
        assert_eq!(grouped(1_234), "1,234");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(plural(1, "entry", "entries"), "entry");
        assert_eq!(plural(0, "entry", "entries"), "entries");
        assert_eq!(counted(1, "file", "files"), "1 file");
        assert_eq!(counted(1200, "file", "files"), "1,200 files");
    }

    #[test]
    fn only_what_is_not_zero() {
        let tally = |e, w| nonzero(&[(e, "error", "errors"), (w, "warning", "warnings")]);
        assert_eq!(tally(0, 0), None);
        assert_eq!(tally(0, 1).as_deref(), Some("1 warning"));
        assert_eq!(tally(2, 1).as_deref(), Some("2 errors and 1 warning"));
        let three = nonzero(&[(1, "a", "as"), (2, "b", "bs"), (3, "c", "cs")]);
        assert_eq!(three.as_deref(), Some("1 a, 2 bs and 3 cs"));
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(4096), "4.1 KB");
        assert_eq!(bytes(12_300_000), "12.3 MB");
    }
}
