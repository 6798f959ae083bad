//! Writing rows in PostgreSQL's COPY text format (tab-separated, backslash escapes).

use std::fmt::Display;
use std::io::Write;

/// Builds a COPY text payload row by row.
#[derive(Default)]
pub struct CopyText {
    buf: Vec<u8>,
    at_row_start: bool,
}

impl CopyText {
    pub fn with_capacity(bytes: usize) -> Self {
        CopyText {
            buf: Vec::with_capacity(bytes),
            at_row_start: true,
        }
    }

    fn sep(&mut self) {
        if !self.at_row_start {
            self.buf.push(b'\t');
        }
        self.at_row_start = false;
    }

    /// A text value, escaped.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        for &b in value.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    /// A number or date: its Display form needs no escaping.
    pub fn value(&mut self, value: impl Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    pub fn opt(&mut self, value: Option<impl Display>) -> &mut Self {
        match value {
            Some(v) => self.value(v),
            None => {
                self.sep();
                self.buf.extend_from_slice(b"\\N");
                self
            }
        }
    }

    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.at_row_start = true;
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_copy_treats_specially() {
        let mut c = CopyText::with_capacity(64);
        c.text("a\tb\\c\nd").value(1.5f32).opt(None::<i32>);
        c.end_row();
        assert_eq!(c.into_bytes(), b"a\\tb\\\\c\\nd\t1.5\t\\N\n");
    }
}
