//! Pieces of a file written now and put together later, in another order: a run's report
//! gets one piece per document as each finishes (in any order), and is assembled at the end
//! in the run's order. The pieces wait in an anonymous temporary file, which the system
//! removes however the process ends, so memory stays flat in the number of documents.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

/// Numbered pieces of text kept in a temporary file.
pub struct Spool {
    file: BufWriter<File>,
    /// Where each piece lies in the file, by its number.
    pieces: Vec<Option<(u64, u64)>>,
    end: u64,
}

impl Spool {
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            file: BufWriter::new(tempfile::tempfile()?),
            pieces: Vec::new(),
            end: 0,
        })
    }

    /// Write piece `number` with `fill`. A number given again replaces the earlier piece.
    pub fn put(
        &mut self,
        number: usize,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut counted = Counting {
            inner: &mut self.file,
            written: 0,
        };
        let filled = fill(&mut counted);
        let (start, length) = (self.end, counted.written);
        // What a failed `fill` wrote stays in the file: later pieces start after it.
        self.end += length;
        filled?;
        if self.pieces.len() <= number {
            self.pieces.resize(number + 1, None);
        }
        self.pieces[number] = Some((start, length));
        Ok(())
    }

    /// Whether piece `number` was written.
    pub fn has(&self, number: usize) -> bool {
        self.pieces.get(number).is_some_and(Option::is_some)
    }

    /// Copy every piece to `out`, in the order of their numbers.
    pub fn copy_all(&mut self, out: &mut dyn Write) -> io::Result<()> {
        for number in 0..self.pieces.len() {
            self.copy(number, out)?;
        }
        Ok(())
    }

    /// Copy piece `number` to `out`; false when there is none.
    pub fn copy(&mut self, number: usize, out: &mut dyn Write) -> io::Result<bool> {
        let Some((start, length)) = self.pieces.get(number).copied().flatten() else {
            return Ok(false);
        };
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(start))?;
        io::copy(&mut (&*file).take(length), out)?;
        // Later pieces are appended at the end.
        file.seek(SeekFrom::End(0))?;
        Ok(true)
    }
}

/// A writer that counts the bytes going through it.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    written: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_in_any_order() {
        let mut spool = Spool::new().expect("a temporary file");
        for (number, text) in [(2, "two"), (0, "zero"), (5, "five")] {
            spool
                .put(number, |out| out.write_all(text.as_bytes()))
                .expect("write");
        }
        let mut out = Vec::new();
        for number in 0..6 {
            let found = spool.copy(number, &mut out).expect("read");
            assert_eq!(found, [0, 2, 5].contains(&number), "{number}");
        }
        assert_eq!(String::from_utf8(out).expect("UTF-8"), "zerotwofive");
        // Writing after reading appends, and a piece written again replaces the first.
        spool
            .put(2, |out| out.write_all(b"TWO"))
            .expect("write again");
        let mut out = Vec::new();
        spool.copy(2, &mut out).expect("read");
        spool.copy(0, &mut out).expect("read");
        assert_eq!(out, b"TWOzero");
        let mut out = Vec::new();
        spool.copy_all(&mut out).expect("read");
        assert_eq!(out, b"zeroTWOfive");
    }

    #[test]
    fn a_piece_that_failed_halfway_leaves_the_others_whole() {
        let mut spool = Spool::new().expect("a temporary file");
        spool.put(0, |out| out.write_all(b"zero")).expect("write");
        let failed = spool.put(1, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("the rest could not be rendered"))
        });
        assert!(failed.is_err());
        spool.put(2, |out| out.write_all(b"two")).expect("write");
        let mut out = Vec::new();
        spool.copy_all(&mut out).expect("read");
        assert_eq!(out, b"zerotwo");
        assert!(!spool.has(1));
    }
}
