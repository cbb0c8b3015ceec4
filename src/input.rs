//! Reading documents: bytes from a file or stdin → checked, decoded, clean text to
//! summarise, with a map from every byte of that text back to the source file.
//!
//! Owns: format detection, binary/empty/too-short checks, lossy UTF-8 decoding and its
//! warning, plain text normalisation, and the `Document` API (`raw_span`, `quote`).
//! Bounded reading lives in `input/read.rs`; Markdown and HTML extraction in
//! `input/markdown.rs` and `input/html.rs`; the offset map in `input/textmap.rs`. Must not
//! touch sentences, chunks, tokens or models.

use std::ops::Range;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

mod html;
mod markdown;
mod read;
mod textmap;

pub use read::DEFAULT_MAX_INPUT_BYTES;

/// Fewer words than this is too little text to summarise: a summary of it would be made up.
pub const MIN_WORDS: usize = 20;

use textmap::{Fix, OffsetMap, Sep, TextBuilder};

/// How a document's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    /// By extension: `.md`/`.markdown` → Markdown, `.html`/`.htm` → Html, else Text.
    pub fn from_path(path: &Path) -> Format {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" | "xhtml" => Format::Html,
            _ => Format::Text,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

/// A document as read: the raw bytes, and the clean text to summarise.
#[derive(Debug, Clone)]
pub struct Document {
    /// The path as given; `-` for stdin.
    pub path: PathBuf,
    /// The source file exactly as read; evidence offsets index into it.
    pub raw: Vec<u8>,
    /// Hex SHA-256 of `raw`.
    pub sha256: String,
    pub format: Format,
    /// Clean text: segments copied from the decoded source, joined by "\n\n" between blocks,
    /// "\n" between lines and " " within a block.
    pub text: String,
    pub warnings: Vec<String>,
    map: OffsetMap,
}

impl Document {
    /// Reads a regular file, or stdin when `path` is `-`, of at most
    /// [`DEFAULT_MAX_INPUT_BYTES`].
    pub fn read(path: &Path) -> Result<Document> {
        Self::read_limited(path, DEFAULT_MAX_INPUT_BYTES)
    }

    /// Reads a regular file, or stdin when `path` is `-`, of at most `max_bytes`.
    pub fn read_limited(path: &Path, max_bytes: u64) -> Result<Document> {
        let raw = read::read_bounded(path, max_bytes)?;
        Self::from_bytes(path.to_path_buf(), raw, None)
    }

    /// Words in the clean text (whitespace-separated runs with a letter or digit).
    pub fn words(&self) -> usize {
        self.text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
    }

    /// Errs when the document has too little text to summarise ([`MIN_WORDS`]).
    pub fn check_enough_text(&self) -> Result<()> {
        let n = self.words();
        if n < MIN_WORDS {
            let what = if n == 1 { "1 word".to_string() } else { format!("{n} words") };
            return Err(Error::input(
                &self.path,
                format!("too little text to summarise: {what} (precis needs at least {MIN_WORDS})"),
            ));
        }
        Ok(())
    }

    /// Builds a document from bytes; `format` defaults to [`Format::from_path`], except that
    /// a source with no known extension that starts like an HTML page is read as HTML.
    pub fn from_bytes(path: PathBuf, raw: Vec<u8>, format: Option<Format>) -> Result<Document> {
        if let Some(why) = read::not_text(&raw) {
            return Err(Error::input(path, why));
        }
        if looks_binary(&raw) {
            return Err(Error::input(path, "binary file, not text"));
        }
        let (decoded, fixes) = decode(&raw);
        if decoded.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').is_empty() {
            return Err(Error::input(path, "empty document"));
        }
        let mut warnings = Vec::new();
        if let Some(f) = fixes.first() {
            warnings.push(format!("{}: invalid UTF-8 at byte {}; decoded lossily", path.display(), f.raw.start));
        }
        let base = if decoded.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        let body = &decoded[base..];
        let format = format.unwrap_or_else(|| sniff(&path, body));
        let mut b = TextBuilder::new();
        match format {
            Format::Text => plain(body, base, &mut b),
            Format::Markdown => markdown::extract(body, base, &mut b),
            Format::Html => {
                if !html::extract(body, base, &mut b) {
                    warnings.push(format!(
                        "{}: HTML nested more than {} levels deep; read as text with the markup removed",
                        path.display(),
                        html::MAX_DEPTH
                    ));
                }
            }
        }
        if b.is_empty() {
            return Err(Error::input(path, "empty document (no text left after removing markup)"));
        }
        let (text, mut map) = b.finish();
        map.set_fixes(fixes);
        let sha256 = hex::encode(Sha256::digest(&raw));
        Ok(Document { path, raw, sha256, format, text, warnings, map })
    }

    /// The byte range in `raw` holding the text at `text_range` of `text` (for a range that
    /// spans separators, from its first source byte to its last; decoded entities and
    /// replaced bytes are covered whole).
    pub fn raw_span(&self, text_range: Range<usize>) -> Range<usize> {
        self.map.raw_span(text_range, self.raw.len())
    }

    /// The source bytes at `raw_range` (clamped to the file), decoded lossily.
    pub fn quote(&self, raw_range: Range<usize>) -> String {
        let end = raw_range.end.min(self.raw.len());
        let start = raw_range.start.min(end);
        String::from_utf8_lossy(&self.raw[start..end]).into_owned()
    }
}

/// NUL bytes, many control characters, or mostly invalid UTF-8.
fn looks_binary(raw: &[u8]) -> bool {
    if raw.contains(&0) {
        return true;
    }
    let head = &raw[..raw.len().min(64 * 1024)];
    let control =
        head.iter().filter(|&&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c)) || c == 0x7f).count();
    let invalid: usize = head.utf8_chunks().map(|c| c.invalid().len()).sum();
    control * 10 > head.len() || (head.len() >= 32 && invalid * 4 > head.len())
}

/// Lossy UTF-8 decoding that records where replacement characters stand for which bytes.
fn decode(raw: &[u8]) -> (String, Vec<Fix>) {
    let mut s = String::with_capacity(raw.len());
    let mut fixes = Vec::new();
    let mut pos = 0;
    for chunk in raw.utf8_chunks() {
        s.push_str(chunk.valid());
        pos += chunk.valid().len();
        let bad = chunk.invalid().len();
        if bad > 0 {
            let at = s.len();
            s.push('\u{FFFD}');
            fixes.push(Fix { dec: at..s.len(), raw: pos..pos + bad });
            pos += bad;
        }
    }
    (s, fixes)
}

fn sniff(path: &Path, body: &str) -> Format {
    let format = Format::from_path(path);
    let known = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("text"));
    if format == Format::Text && !known {
        let head: String = body.trim_start().chars().take(15).collect::<String>().to_ascii_lowercase();
        if head.starts_with("<!doctype html") || head.starts_with("<html") {
            return Format::Html;
        }
    }
    format
}

/// Plain text: lines trimmed, blank-line runs → "\n\n"; hard-wrapped paragraphs (lines of
/// similar length under 100 characters) are joined with spaces.
fn plain(src: &str, base: usize, b: &mut TextBuilder) {
    let mut lines: Vec<Option<(usize, &str)>> = Vec::new();
    let mut start = 0;
    let bytes = src.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || bytes[i] == b'\n' || bytes[i] == b'\r' {
            let line = &src[start..i];
            let trimmed = line.trim();
            let lead = line.len() - line.trim_start().len();
            lines.push((!trimmed.is_empty()).then_some((start + lead, trimmed)));
            if i + 1 < bytes.len() && bytes[i] == b'\r' && bytes[i + 1] == b'\n' {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    let width = |s: &str| s.chars().count();
    let max = lines.iter().flatten().map(|(_, s)| width(s)).max().unwrap_or(0);
    let wrapped = is_hard_wrapped(&lines, max);
    for (k, line) in lines.iter().enumerate() {
        let Some((at, s)) = line else {
            b.sep(Sep::Para);
            continue;
        };
        b.verbatim(base + at, s);
        let next = lines.get(k + 1).copied().flatten();
        let joins = wrapped && width(s) * 10 >= max * 6 && next.is_some_and(|(_, n)| !starts_item(n));
        b.sep(if joins { Sep::Space } else { Sep::Line });
    }
}

/// Most lines that continue a paragraph are nearly as long as the longest line, which is
/// under 100 characters.
fn is_hard_wrapped(lines: &[Option<(usize, &str)>], max: usize) -> bool {
    if !(30..=100).contains(&max) {
        return false;
    }
    let inner: Vec<usize> = lines
        .windows(2)
        .filter_map(|w| match (w[0], w[1]) {
            (Some((_, a)), Some(_)) => Some(a.chars().count()),
            _ => None,
        })
        .collect();
    let long = inner.iter().filter(|&&n| n * 10 >= max * 7).count();
    inner.len() >= 2 && long * 10 >= inner.len() * 6
}

/// A line that starts a list item ("- x", "* x", "• x", "1. x", "2) x").
fn starts_item(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &line[digits..];
    if digits > 0 {
        return rest.starts_with(". ") || rest.starts_with(") ");
    }
    ["- ", "* ", "+ ", "• ", "– "].iter().any(|m| line.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, raw: &[u8]) -> Result<Document> {
        Document::from_bytes(PathBuf::from(name), raw.to_vec(), None)
    }

    /// Every alphanumeric run of `text` quotes back to itself (for sources without
    /// entities or escapes).
    fn assert_words_round_trip(d: &Document) {
        let mut pos = 0;
        for w in d.text.split(|c: char| !c.is_alphanumeric()) {
            let at = d.text[pos..].find(w).unwrap() + pos;
            pos = at + w.len();
            if !w.is_empty() {
                assert_eq!(d.quote(d.raw_span(at..pos)), w, "word {w:?}");
            }
        }
    }

    #[test]
    fn formats_by_extension_and_sniffing() {
        assert_eq!(Format::from_path(Path::new("a/B.MD")), Format::Markdown);
        assert_eq!(Format::from_path(Path::new("x.markdown")), Format::Markdown);
        assert_eq!(Format::from_path(Path::new("x.htm")), Format::Html);
        assert_eq!(Format::from_path(Path::new("x.txt")), Format::Text);
        assert_eq!(Format::from_path(Path::new("-")), Format::Text);
        assert_eq!(doc("-", b"<!DOCTYPE html><p>Hi there.</p>").unwrap().format, Format::Html);
        assert_eq!(doc("a.txt", b"<html><p>Hi there.</p>").unwrap().format, Format::Text);
    }

    #[test]
    fn plain_text_crlf_and_blank_lines() {
        let raw = b"\xEF\xBB\xBFTitle here\r\n\r\n\r\n  First line.  \r\nSecond line.\r\n";
        let d = doc("a.txt", raw).unwrap();
        assert_eq!(d.text, "Title here\n\nFirst line.\nSecond line.");
        assert!(d.warnings.is_empty());
        assert_eq!(d.sha256.len(), 64);
        assert_words_round_trip(&d);
        let s = d.text.find("First").unwrap();
        assert_eq!(d.quote(d.raw_span(s..d.text.len())), "First line.  \r\nSecond line.");
        assert_eq!(d.raw_span(0..5), 3..8);
    }

    #[test]
    fn hard_wrapped_paragraphs_are_joined() {
        let raw = "A Headline\n\nThis paragraph was wrapped by an editor at about sixty\n\
                   characters so that every line is nearly the same length,\n\
                   which is how plain text email and old articles look.\n\n\
                   - a list item\n- another one\n";
        let d = doc("w.txt", raw.as_bytes()).unwrap();
        assert!(d.text.contains("about sixty characters so that"), "{}", d.text);
        assert!(d.text.starts_with("A Headline\n\n"));
        assert!(d.text.ends_with("look.\n\n- a list item\n- another one"));
        assert_words_round_trip(&d);
    }

    #[test]
    fn example_article_is_unchanged_and_maps_exactly() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/article.txt");
        let raw = std::fs::read(path).expect("examples/article.txt");
        let d = Document::from_bytes(PathBuf::from(path), raw.clone(), None).unwrap();
        assert_eq!(d.text, String::from_utf8(raw).unwrap().trim());
        assert_words_round_trip(&d);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_with_a_warning() {
        let d = doc("bad.txt", b"Caf\xe9 au lait. Ol\xff\xfe\xfd!").unwrap();
        assert_eq!(d.text, "Caf\u{FFFD} au lait. Ol\u{FFFD}\u{FFFD}\u{FFFD}!");
        assert_eq!(d.warnings, vec!["bad.txt: invalid UTF-8 at byte 3; decoded lossily".to_string()]);
        let au = d.text.find("au").unwrap();
        assert_eq!(d.raw_span(au..au + 2), 5..7);
        assert_eq!(d.raw_span(0..au - 1), 0..4);
        let ol = d.text.find("Ol").unwrap();
        assert_eq!(d.quote(d.raw_span(ol..d.text.len())), "Ol\u{FFFD}\u{FFFD}\u{FFFD}!");
        assert_eq!(d.raw_span(ol..d.text.len()), 14..20);
    }

    #[test]
    fn binary_and_empty_are_errors() {
        let msg = |r: Result<Document>| r.unwrap_err().to_string();
        assert_eq!(msg(doc("x.bin", b"ab\0cd")), "x.bin: binary file, not text");
        assert_eq!(msg(doc("x.txt", &[1, 2, 3, 4, 5, 6, b'a', b'b'])), "x.txt: binary file, not text");
        assert_eq!(msg(doc("e.txt", b"")), "e.txt: empty document");
        assert_eq!(msg(doc("e.txt", b" \r\n\t \n")), "e.txt: empty document");
        assert!(msg(doc("e.html", b"<html><script>x()</script></html>")).starts_with("e.html: empty document"));
        let e = Document::read(Path::new("/nonexistent/precis-test.txt")).unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
    }

    #[test]
    fn markdown_and_html_map_back_to_source() {
        let md = "# Heading\n\nSome *emphasis* and [a link](http://e.x).\n";
        let d = doc("a.md", md.as_bytes()).unwrap();
        assert_eq!(d.text, "Heading\n\nSome emphasis and a link.");
        assert_words_round_trip(&d);
        let s = d.text.find("Some").unwrap();
        assert_eq!(d.quote(d.raw_span(s..d.text.len())), "Some *emphasis* and [a link](http://e.x).");

        let html = "<body><p>Fish &amp; chips, caf&eacute;.</p></body>";
        let d = doc("a.html", html.as_bytes()).unwrap();
        assert_eq!(d.text, "Fish & chips, café.");
        assert_eq!(d.quote(d.raw_span(0..d.text.len())), "Fish &amp; chips, caf&eacute;.");
    }

    #[test]
    fn out_of_range_and_odd_spans_do_not_panic() {
        let d = doc("a.txt", "héllo wörld".as_bytes()).unwrap();
        assert_eq!(d.raw_span(100..200), d.raw.len()..d.raw.len());
        #[allow(clippy::reversed_empty_ranges)]
        let (backwards, quote_backwards) = (d.raw_span(2..1), d.quote(50..40));
        assert!(backwards.is_empty());
        assert_eq!(quote_backwards, "");
        let _ = d.quote(d.raw_span(2..3));
        assert_eq!(d.quote(6..100), " wörld");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let alphabet: &[&[u8]] = &[
            b"<p>",
            b"</p>",
            b"&amp;",
            b"&#",
            b"\r\n",
            b"\n\n",
            b"# ",
            b"*",
            b"`",
            b"[",
            b"](",
            b")",
            b"\xff",
            b"\xe2\x80",
            b"\xe2\x80\x9c",
            b"a",
            b" ",
            b"Mr.",
            b"<!--",
            b"<script>",
            b"-->",
        ];
        for _ in 0..300 {
            let mut raw = Vec::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                raw.extend_from_slice(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            for name in ["f.txt", "f.md", "f.html"] {
                if let Ok(d) = doc(name, &raw) {
                    for a in 0..=d.text.len() {
                        let _ = d.quote(d.raw_span(a..d.text.len()));
                        let _ = d.raw_span(0..a);
                    }
                }
            }
        }
    }
}
