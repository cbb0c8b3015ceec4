//! Property tests (proptest): the input reader, the sentence splitter and the chunker on
//! random bytes and random Unicode never panic, keep every offset inside the text, and
//! chunk the whole text in order; the GGUF metadata reader on mutated headers returns an
//! error or a table that fits the file, never a panic or a huge allocation.
mod common;

use precis::chunk;
use precis::engine::gguf::GgufInfo;
use precis::input::{Document, Format};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Bytes that are mostly text-like, with markup, entities, odd line endings and invalid UTF-8.
fn texty_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms: Vec<&'static [u8]> = vec![
        b"<p>",
        b"</p>",
        b"<div>",
        b"<span>",
        b"&amp;",
        b"&#x41;",
        b"&#",
        b"\r\n",
        b"\n\n",
        b"\n",
        b"# ",
        b"* ",
        b"`",
        b"[",
        b"](",
        b")",
        b"\xff",
        b"\xe2\x80",
        b"\xe2\x80\x9c",
        b"word",
        b" ",
        b"Mr. ",
        b". ",
        b"?! ",
        b"<!--",
        b"-->",
        b"<script>",
        b"</script>",
        b"\xef\xbb\xbf",
        b"\t",
        b"\x0c",
        "é".as_bytes(),
        "中文".as_bytes(),
        b"1.5",
        b"\"",
        b"'",
    ];
    prop_oneof![
        prop::collection::vec(prop::sample::select(atoms), 0..120).prop_map(|v| v.concat()),
        prop::collection::vec(any::<u8>(), 0..600),
    ]
}

/// Sentences are in order, inside the text, on character boundaries, and not empty.
fn check_sentences(text: &str, s: &[std::ops::Range<usize>]) {
    let mut prev = 0;
    for r in s {
        assert!(r.start >= prev && r.start < r.end && r.end <= text.len(), "{r:?} after {prev} in {}", text.len());
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        prev = r.end;
    }
}

/// Chunks are inside the text, in order, take their sentences in order, and together
/// cover every sentence.
fn check_chunks(text: &str, s: &[std::ops::Range<usize>], chunks: &[chunk::Chunk], budget: usize) {
    let mut covered = 0; // sentences 0..covered are in some chunk
    let mut prev_start = 0;
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.index, i);
        assert!(c.range.start <= c.range.end && c.range.end <= text.len(), "{:?}", c.range);
        assert!(text.is_char_boundary(c.range.start) && text.is_char_boundary(c.range.end));
        assert!(c.range.start >= prev_start, "chunks out of order");
        prev_start = c.range.start;
        assert!(c.sentences.start <= covered && c.sentences.end > c.sentences.start, "gap before chunk {i}");
        assert!(c.sentences.end <= s.len());
        covered = covered.max(c.sentences.end);
        // Counted in characters, only a chunk of one character can exceed the budget.
        assert!(c.tokens <= budget || text[c.range.clone()].chars().count() == 1, "{} > {budget}", c.tokens);
    }
    assert_eq!(covered, s.len(), "sentences left out of every chunk");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn reader_never_panics_and_maps_inside_the_source(raw in texty_bytes(), fmt in 0usize..4) {
        let format = [None, Some(Format::Text), Some(Format::Markdown), Some(Format::Html)][fmt];
        if let Ok(d) = Document::from_bytes(PathBuf::from("p.txt"), raw.clone(), format) {
            prop_assert!(!d.text.is_empty());
            let s = chunk::sentences(&d.text);
            check_sentences(&d.text, &s);
            for r in &s {
                let span = d.raw_span(r.clone());
                prop_assert!(span.start <= span.end && span.end <= raw.len(), "{span:?} of {}", raw.len());
                let _ = d.quote(span);
            }
        }
    }

    #[test]
    fn reader_from_a_file_agrees_with_from_bytes(raw in texty_bytes()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.txt");
        std::fs::write(&p, &raw).unwrap();
        match (Document::read(&p), Document::from_bytes(p.clone(), raw.clone(), None)) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a.text, b.text),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "read: {:?}, from_bytes: {:?}", a.map(|d| d.text), b.map(|d| d.text)),
        }
    }

    #[test]
    fn sentences_and_chunks_of_random_unicode(text in "\\PC{0,400}|[a-z .!?\\n]{0,400}", budget in 16usize..60, overlap in 0usize..3) {
        let s = chunk::sentences(&text);
        check_sentences(&text, &s);
        let chunks = chunk::plan(&text, &s, budget, overlap, &mut |t: &str| t.chars().count());
        check_chunks(&text, &s, &chunks, budget);
    }

    #[test]
    fn chunks_of_read_documents(raw in texty_bytes(), budget in 16usize..80) {
        if let Ok(d) = Document::from_bytes(PathBuf::from("c.md"), raw, None) {
            let s = chunk::sentences(&d.text);
            let chunks = chunk::plan(&d.text, &s, budget, 1, &mut |t: &str| t.chars().count());
            check_chunks(&d.text, &s, &chunks, budget);
        }
    }
}

/// A valid tiny GGUF file and the length of its header, metadata and tensor table.
fn tiny_gguf() -> &'static (Vec<u8>, usize) {
    static FILE: OnceLock<(Vec<u8>, usize)> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tiny.gguf");
        common::tiny_gguf::write(&p, "llama", candle_core::quantized::GgmlDType::Q8_0);
        let info = GgufInfo::read(&p).unwrap();
        (std::fs::read(&p).unwrap(), info.data_offset as usize)
    })
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    /// Overwrites 8 bytes with a little-endian u64 (lengths and counts are u64s).
    SetU64(usize, u64),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0usize..4096;
    let big = prop_oneof![Just(u64::MAX), Just(1u64 << 40), Just(1 << 20), Just(0u64), any::<u64>(), 0u64..64];
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (at.clone(), big).prop_map(|(i, v)| Mutation::SetU64(i, v)),
        at.clone().prop_map(Mutation::Truncate),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (at, 1usize..64).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, header: usize, m: &Mutation) {
    let clamp = |i: usize| i % header.max(1);
    match m {
        Mutation::Set(i, b) => bytes[clamp(*i)] = *b,
        Mutation::SetU64(i, v) => {
            let i = clamp(*i).min(bytes.len() - 8);
            bytes[i..i + 8].copy_from_slice(&v.to_le_bytes());
        }
        Mutation::Truncate(i) => bytes.truncate(clamp(*i)),
        Mutation::Insert(i, v) => {
            let i = clamp(*i);
            bytes.splice(i..i, v.iter().copied());
        }
        Mutation::Remove(i, n) => {
            let i = clamp(*i);
            bytes.drain(i..(i + n).min(bytes.len()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn gguf_reader_on_mutated_headers(muts in prop::collection::vec(mutation(), 1..4)) {
        let (good, header) = tiny_gguf();
        let mut bytes = good.clone();
        for m in &muts {
            if bytes.len() < 16 {
                break;
            }
            let h = (*header).min(bytes.len());
            apply(&mut bytes, h, m);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        std::fs::write(&p, &bytes).unwrap();
        match GgufInfo::read(&p) {
            Err(e) => {
                let msg = e.to_string();
                // (A mangled key is quoted verbatim and may hold a newline; `cli::report`
                // prints every error on one line.)
                prop_assert!(msg.starts_with(&p.display().to_string()), "{msg}");
            }
            Ok(info) => {
                // Whatever it accepted fits in the file.
                prop_assert_eq!(info.file_size, bytes.len() as u64);
                prop_assert!(info.data_offset <= info.file_size);
                for t in &info.tensors {
                    prop_assert!(info.data_offset + t.offset + t.n_bytes() <= info.file_size, "{}", t.name);
                }
                let _ = info.check_supported();
                let _ = precis::engine::tokenizer::GgufTokenizer::from_gguf(&info, &[]);
            }
        }
    }
}
