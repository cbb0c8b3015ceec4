//! The tokenizer, built from GGUF metadata (no tokenizer.json exists offline): byte-level
//! BPE from `tokenizer.ggml.tokens` and `.merges`, the pre-tokenizer that
//! `tokenizer.ggml.pre` names, and the control tokens. Owns the end-of-generation set.
//! Article text is always encoded with special-token parsing off, in bounded pieces (see
//! [`pieces`]), so that a long document or a pathological "word" costs time and memory in
//! proportion to its length.

use super::gguf::{GgufInfo, Value};
use crate::error::{Error, Result};
use std::collections::HashSet;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

/// GGUF token type of control tokens (llama.cpp's LLAMA_TOKEN_TYPE_CONTROL).
const TOKEN_TYPE_CONTROL: u64 = 3;

/// Qwen2's pre-tokenizer pattern (as in its tokenizer.json and llama.cpp's `qwen2`).
const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A GGUF model's tokenizer, in two modes: plain text and template markup.
#[derive(Clone)]
pub struct GgufTokenizer {
    /// Special-token text is parsed into control tokens: for the chat template's markup.
    with_specials: Tokenizer,
    /// Special-token text is ordinary text: for article text and every message content.
    plain: Tokenizer,
    eog: HashSet<u32>,
    vocab: Vec<String>,
}

impl GgufTokenizer {
    /// Builds the tokenizer of `gguf`; `eog_texts` (from the model card) name the
    /// end-of-generation tokens, to which the file's own EOS is added.
    pub fn from_gguf(gguf: &GgufInfo, eog_texts: &[String]) -> Result<Self> {
        let bad = |msg: String| Error::model(&gguf.path, msg);
        let model = gguf.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(bad(format!("unsupported tokenizer model {model:?} (precis supports gpt2 byte-level BPE)")));
        }
        let tokens: Vec<String> = strings(gguf, "tokenizer.ggml.tokens")?;
        let merges: Vec<(String, String)> = strings(gguf, "tokenizer.ggml.merges")?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| bad(format!("tokenizer.ggml.merges: malformed merge {m:?}")))
            })
            .collect::<Result<_>>()?;
        let types: Vec<u64> = match gguf.get("tokenizer.ggml.token_type").and_then(Value::as_array) {
            Some(a) => a.iter().map(|v| v.as_u64().unwrap_or(1)).collect(),
            None => vec![1; tokens.len()],
        };
        let vocab: tokenizers::models::bpe::Vocab =
            tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| bad(format!("tokenizer: {e}")))?;

        let pre_name = gguf.get("tokenizer.ggml.pre").and_then(Value::as_str).unwrap_or("default");
        let byte_level = ByteLevel::new(false, true, true);
        let pre: PreTokenizerWrapper = match pre_name {
            "smollm" => Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into(),
            "qwen2" => {
                let split =
                    Split::new(SplitPattern::Regex(QWEN2_PATTERN.into()), SplitDelimiterBehavior::Isolated, false)
                        .map_err(|e| bad(format!("tokenizer pattern: {e}")))?;
                Sequence::new(vec![split.into(), ByteLevel::new(false, true, false).into()]).into()
            }
            "gpt-2" | "default" | "gpt2" => byte_level.into(),
            other => {
                return Err(bad(format!(
                    "unsupported pre-tokenizer tokenizer.ggml.pre = {other:?} (precis supports smollm, qwen2, gpt-2)"
                )))
            }
        };

        let mut tk = Tokenizer::new(bpe);
        tk.with_pre_tokenizer(Some(pre));
        tk.with_decoder(Some(ByteLevelDecoder::default()));
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(&types)
            .filter(|(_, &ty)| ty == TOKEN_TYPE_CONTROL)
            .map(|(t, _)| AddedToken::from(t.clone(), true))
            .collect();
        tk.add_special_tokens(specials).map_err(|e| bad(format!("tokenizer: {e}")))?;
        let mut plain = tk.clone();
        plain.set_encode_special_tokens(true);

        let mut eog = HashSet::new();
        for text in eog_texts {
            let id = tokens.iter().position(|t| t == text).ok_or_else(|| {
                bad(format!("end-of-generation token {text:?} (from the model card) is not in the vocabulary"))
            })?;
            eog.insert(id as u32);
        }
        if let Some(id) = gguf.get("tokenizer.ggml.eos_token_id").and_then(Value::as_u64) {
            eog.insert(id as u32);
        }
        Ok(GgufTokenizer { with_specials: tk, plain, eog, vocab: tokens })
    }

    /// Tokens of text, with no special-token parsing: `<|im_end|>` in an article is text.
    /// Long text is encoded piece by piece (cut before a space between two words, which
    /// the pre-tokenizers cut at anyway), and a run of more than [`MAX_RUN`] bytes without
    /// whitespace is cut into runs of at most that, bounding the cost of BPE on one word.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        if text.len() <= MAX_RUN {
            return Self::run(&self.plain, text);
        }
        let mut ids = Vec::new();
        for piece in pieces(text) {
            ids.extend(Self::run(&self.plain, piece)?);
        }
        Ok(ids)
    }

    /// Tokens of template markup, with control-token text parsed into control tokens.
    pub fn encode_special(&self, text: &str) -> Result<Vec<u32>> {
        Self::run(&self.with_specials, text)
    }

    fn run(tk: &Tokenizer, text: &str) -> Result<Vec<u32>> {
        let enc = tk.encode_fast(text, false).map_err(|e| Error::Engine(format!("tokenize: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of tokens; control tokens are left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.with_specials.decode(ids, true).map_err(|e| Error::Engine(format!("detokenize: {e}")))
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.contains(&id)
    }

    pub fn eog(&self) -> &HashSet<u32> {
        &self.eog
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The token's text as stored in the vocabulary (byte-level form).
    pub fn piece(&self, id: u32) -> Option<&str> {
        self.vocab.get(id as usize).map(String::as_str)
    }
}

/// The longest run without whitespace handed to BPE as one piece.
pub(crate) const MAX_RUN: usize = 256;
/// Text is encoded in pieces of about this many bytes.
const PIECE: usize = 8 << 10;

/// Splits `text` into consecutive pieces that concatenate to it: each ends before a space
/// that stands between two non-space characters once it holds [`PIECE`] bytes (at any
/// whitespace once it holds four times that), and no piece holds a whitespace-free run of
/// more than [`MAX_RUN`] bytes.
pub(crate) fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut run) = (0usize, 0usize);
    let mut prev: Option<char> = None;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        let len = i - start;
        let cut = if c.is_whitespace() {
            run = 0;
            let between_words =
                c == ' ' && prev.is_some_and(|p| !p.is_whitespace()) && next.is_some_and(|n| !n.is_whitespace());
            (len >= PIECE && between_words) || len >= 4 * PIECE
        } else {
            run += c.len_utf8();
            run > MAX_RUN
        };
        if cut && i > start {
            out.push(&text[start..i]);
            start = i;
            if !c.is_whitespace() {
                run = c.len_utf8();
            }
        }
        prev = Some(c);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn strings(gguf: &GgufInfo, key: &str) -> Result<Vec<String>> {
    let arr = gguf
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::model(&gguf.path, format!("missing metadata array {key}")))?;
    arr.iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| Error::model(&gguf.path, format!("{key}: non-string entry")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_text_and_bound_runs() {
        let long_word = "x".repeat(10_000);
        let prose = "The council met on Monday. ".repeat(2_000);
        let mixed = format!("{prose}{long_word} {prose}\n\n{}", "é".repeat(3_000));
        for text in ["", "short", long_word.as_str(), prose.as_str(), mixed.as_str()] {
            let p = pieces(text);
            assert_eq!(p.concat(), text);
            for piece in &p {
                let longest = piece.split(char::is_whitespace).map(str::len).max().unwrap_or(0);
                assert!(longest <= MAX_RUN, "run of {longest} bytes");
                assert!(piece.len() <= 4 * PIECE + MAX_RUN);
            }
        }
        // Prose is cut only before a space between words.
        for w in pieces(&prose).windows(2) {
            assert!(w[1].starts_with(' ') && !w[0].ends_with(' '), "{:?}", &w[1][..10]);
        }
        assert!(pieces(&prose).len() > 1);
    }
}
