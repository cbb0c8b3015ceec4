//! Building the clean text of a document together with its offset map.
//!
//! Owns: `TextBuilder` (appends source segments and separators) and `OffsetMap` (maps a byte
//! range of the clean text back to a byte range of the raw file). Knows nothing about
//! formats; must not touch files, parsing or sentence logic.

use std::ops::Range;

/// One mapped run of the clean text. `exact` runs are byte-for-byte copies of the decoded
/// source (`text.len() == src.len()`); the others (decoded entities, replaced bytes) map as a
/// whole onto their source range.
#[derive(Debug, Clone)]
struct Piece {
    text: usize,
    len: usize,
    src: Range<usize>,
    exact: bool,
}

/// A separator between copied segments; the strongest one asked for wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Sep {
    Space,
    Line,
    Para,
}

/// Appends source segments (with their decoded-source offsets) and separators.
#[derive(Debug, Default)]
pub(crate) struct TextBuilder {
    text: String,
    pieces: Vec<Piece>,
    pending: Option<Sep>,
}

impl TextBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Asks for a separator before the next segment (never emitted at the start or end).
    pub(crate) fn sep(&mut self, s: Sep) {
        if self.pending.is_none_or(|p| s > p) {
            self.pending = Some(s);
        }
    }

    fn flush(&mut self) {
        if let Some(p) = self.pending.take() {
            if !self.text.is_empty() {
                self.text.push_str(match p {
                    Sep::Space => " ",
                    Sep::Line => "\n",
                    Sep::Para => "\n\n",
                });
            }
        }
    }

    /// Appends `s`, which is the decoded source at `src_start..src_start + s.len()`.
    pub(crate) fn verbatim(&mut self, src_start: usize, s: &str) {
        if s.is_empty() {
            return;
        }
        self.flush();
        let at = self.text.len();
        self.text.push_str(s);
        if let Some(last) = self.pieces.last_mut() {
            if last.exact && last.text + last.len == at && last.src.end == src_start {
                last.len += s.len();
                last.src.end += s.len();
                return;
            }
        }
        self.pieces.push(Piece { text: at, len: s.len(), src: src_start..src_start + s.len(), exact: true });
    }

    /// Appends `s`, which stands for the whole source range `src` (an entity, a line ending).
    pub(crate) fn replaced(&mut self, src: Range<usize>, s: &str) {
        if s.is_empty() {
            return;
        }
        self.flush();
        let at = self.text.len();
        self.text.push_str(s);
        self.pieces.push(Piece { text: at, len: s.len(), src, exact: false });
    }

    /// Appends unmapped text (a marker), flushing any pending separator first.
    pub(crate) fn marker(&mut self, s: &str) {
        self.flush();
        self.text.push_str(s);
    }

    /// Appends the words of `s` (decoded source at `src_start`), whitespace runs becoming
    /// single spaces.
    pub(crate) fn words(&mut self, src_start: usize, s: &str) {
        for (off, run, ws) in runs(s) {
            if ws {
                self.sep(Sep::Space);
            } else {
                self.verbatim(src_start + off, run);
            }
        }
    }

    /// Copies `range` of another built text (`from`), keeping its mapping; whitespace runs
    /// become single spaces.
    pub(crate) fn copy_words(&mut self, from: &(String, OffsetMap), range: Range<usize>) {
        let (text, map) = from;
        let Some(s) = text.get(range.clone()) else {
            return;
        };
        for (off, run, ws) in runs(s) {
            if ws {
                self.sep(Sep::Space);
                continue;
            }
            let r = range.start + off..range.start + off + run.len();
            let first = map.pieces.partition_point(|p| p.text + p.len <= r.start);
            let mut pos = r.start;
            for p in &map.pieces[first..] {
                if p.text >= r.end {
                    break;
                }
                let a = pos.max(p.text);
                let b = r.end.min(p.text + p.len);
                if a > pos {
                    self.marker(&text[pos..a]); // unmapped bytes inside the word
                }
                if p.exact {
                    self.verbatim(p.src.start + (a - p.text), &text[a..b]);
                } else {
                    self.replaced(p.src.clone(), &text[a..b]);
                }
                pos = b;
            }
            if pos < r.end {
                self.marker(&text[pos..r.end]);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub(crate) fn finish(self) -> (String, OffsetMap) {
        (self.text, OffsetMap { pieces: self.pieces, fixes: Vec::new() })
    }
}

/// Splits `s` into alternating runs: (offset, run, is_whitespace).
fn runs(s: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let mut rest = s.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, c) = rest.next()?;
        let ws = c.is_whitespace();
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = rest.peek() {
            if d.is_whitespace() != ws {
                break;
            }
            end = i + d.len_utf8();
            rest.next();
        }
        Some((start, &s[start..end], ws))
    })
}

/// A place where lossy decoding replaced invalid bytes `raw` by U+FFFD at `dec`.
#[derive(Debug, Clone)]
pub(crate) struct Fix {
    pub(crate) dec: Range<usize>,
    pub(crate) raw: Range<usize>,
}

/// Maps clean-text byte ranges to decoded-source ranges, then to raw-file ranges.
#[derive(Debug, Clone, Default)]
pub(crate) struct OffsetMap {
    pieces: Vec<Piece>,
    fixes: Vec<Fix>,
}

impl OffsetMap {
    pub(crate) fn set_fixes(&mut self, fixes: Vec<Fix>) {
        self.fixes = fixes;
    }

    /// The decoded-source range that `text_range` was copied from (the hull of its pieces).
    pub(crate) fn source_span(&self, text_range: Range<usize>) -> Range<usize> {
        let (s, e) = (text_range.start, text_range.end.max(text_range.start));
        let first = self.pieces.partition_point(|p| p.text + p.len <= s);
        let (mut lo, mut hi) = (usize::MAX, 0);
        for p in &self.pieces[first..] {
            if p.text >= e {
                break;
            }
            let a = s.max(p.text) - p.text;
            let b = e.min(p.text + p.len) - p.text;
            let (ps, pe) = if p.exact { (p.src.start + a, p.src.start + b) } else { (p.src.start, p.src.end) };
            lo = lo.min(ps);
            hi = hi.max(pe);
        }
        if lo == usize::MAX {
            let at = match self.pieces.get(first) {
                Some(p) => p.src.start,
                None => self.pieces.last().map_or(0, |p| p.src.end),
            };
            return at..at;
        }
        lo..hi
    }

    /// The raw-file byte range of `text_range`, clamped to `raw_len`.
    pub(crate) fn raw_span(&self, text_range: Range<usize>, raw_len: usize) -> Range<usize> {
        let d = self.source_span(text_range);
        let start = self.to_raw(d.start, false).min(raw_len);
        let end = if d.is_empty() { start } else { self.to_raw(d.end, true).clamp(start, raw_len) };
        start..end
    }

    fn to_raw(&self, d: usize, ceil: bool) -> usize {
        let i = self.fixes.partition_point(|f| f.dec.end <= d);
        if let Some(f) = self.fixes.get(i) {
            if f.dec.start < d {
                return if ceil { f.raw.end } else { f.raw.start };
            }
        }
        match i.checked_sub(1).map(|j| &self.fixes[j]) {
            Some(f) => d - f.dec.end + f.raw.end,
            None => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_collapse_and_never_lead_or_trail() {
        let src = "  alpha   beta\n\ngamma ";
        let mut b = TextBuilder::new();
        b.sep(Sep::Para);
        b.words(0, &src[..14]);
        b.sep(Sep::Para);
        b.sep(Sep::Space);
        b.words(16, &src[16..]);
        let (text, map) = b.finish();
        assert_eq!(text, "alpha beta\n\ngamma");
        assert_eq!(map.source_span(0..10), 2..14);
        assert_eq!(&src[map.source_span(12..17)], "gamma");
        assert_eq!(map.source_span(10..12), 16..16);
    }

    #[test]
    fn replaced_pieces_map_whole() {
        let src = "AT&amp;T";
        let mut b = TextBuilder::new();
        b.verbatim(0, "AT");
        b.replaced(2..7, "&");
        b.verbatim(7, "T");
        let (text, map) = b.finish();
        assert_eq!(text, "AT&T");
        assert_eq!(&src[map.source_span(0..4)], "AT&amp;T");
        assert_eq!(&src[map.source_span(2..3)], "&amp;");
        assert_eq!(&src[map.source_span(3..4)], "T");
    }

    #[test]
    fn fixes_shift_offsets() {
        // raw: "a" 0xFF 0xFE "bc" -> decoded "a\u{FFFD}bc" (one replacement for two bytes).
        let mut b = TextBuilder::new();
        b.verbatim(0, "a\u{FFFD}bc");
        let (_, mut map) = b.finish();
        map.set_fixes(vec![Fix { dec: 1..4, raw: 1..3 }]);
        assert_eq!(map.raw_span(0..1, 5), 0..1);
        assert_eq!(map.raw_span(4..6, 5), 3..5);
        assert_eq!(map.raw_span(0..6, 5), 0..5);
        assert_eq!(map.raw_span(2..5, 5), 1..4);
        assert_eq!(map.raw_span(9..12, 5), 5..5);
    }
}
