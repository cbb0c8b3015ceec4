//! Sentence splitting and the token-budgeted chunk plan.
//!
//! Owns: `sentences` (the rule-based splitter, in `chunk/sentences.rs`) and `plan`
//! (greedy, paragraph-aware packing of whole sentences into chunks that fit a token budget,
//! with overlap). Pure: token counting is passed in as a closure. Must not touch files, models,
//! tokenizers or prompts.

use std::ops::Range;

mod sentences;

pub use sentences::sentences;
use sentences::{is_closer, is_terminal};

/// A run of the text that is summarised in one model call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chunk {
    pub index: usize,
    /// Byte range in the text (from the first sentence's start to the last one's end, or a
    /// piece of one sentence that alone exceeds the budget).
    pub range: Range<usize>,
    /// Indexes into the sentence list.
    pub sentences: Range<usize>,
    /// `count` of `text[range]`.
    pub tokens: usize,
}

/// Packs sentences into chunks of at most `budget` tokens (as counted by `count` on each
/// chunk's text).
///
/// Greedy over whole sentences; when a chunk is full it ends at its last line or paragraph
/// break (not right after a headline) if the chunk is at least 60% full there. Each chunk
/// after the first starts with up to `overlap_sentences` sentences of the previous one
/// (fewer when they would not fit, never all of it), and always adds at least one new
/// sentence. A sentence longer than the budget
/// becomes chunks of its own, split at word boundaries (inside a word only when one word
/// alone is too long); such chunks share that sentence's index. Only a single character that
/// exceeds the budget can make a chunk exceed it.
pub fn plan(
    text: &str,
    sentences: &[Range<usize>],
    budget: usize,
    overlap_sentences: usize,
    count: &mut dyn FnMut(&str) -> usize,
) -> Vec<Chunk> {
    let estimate = sentences.iter().map(|r| count(text.get(r.clone()).unwrap_or(""))).collect();
    let p = Packer { text, sentences, estimate, budget };
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut fresh = 0; // the first sentence in no chunk yet
    while fresh < sentences.len() {
        let prev_len = chunks.last().map_or(0, |c| c.sentences.len());
        let max_overlap = overlap_sentences.min(prev_len.saturating_sub(1));
        match (0..=max_overlap).rev().find_map(|k| p.pack(fresh - k, fresh, count)) {
            Some((s0, end, tokens)) => {
                let range = sentences[s0].start..sentences[end - 1].end;
                chunks.push(Chunk { index: chunks.len(), range, sentences: s0..end, tokens });
                fresh = end;
            }
            None => {
                for (range, tokens) in split_long(text, sentences[fresh].clone(), budget, count) {
                    chunks.push(Chunk { index: chunks.len(), range, sentences: fresh..fresh + 1, tokens });
                }
                fresh += 1;
            }
        }
    }
    chunks
}

struct Packer<'a> {
    text: &'a str,
    sentences: &'a [Range<usize>],
    /// Token count of each sentence alone.
    estimate: Vec<usize>,
    budget: usize,
}

impl<'a> Packer<'a> {
    /// The text of sentences `a..b`.
    fn slice(&self, a: usize, b: usize) -> &'a str {
        self.text.get(self.sentences[a].start..self.sentences[b - 1].end).unwrap_or("")
    }

    /// Whether a line or paragraph break follows sentence `i`, and `i` is not a headline
    /// (which belongs with the text after it).
    fn breaks_after(&self, i: usize) -> bool {
        let (ss, text) = (self.sentences, self.text);
        let headline = text
            .get(ss[i].clone())
            .and_then(|s| s.chars().next_back())
            .is_none_or(|c| !is_terminal(c) && !is_closer(c));
        !headline && ss.get(i + 1).is_some_and(|next| text.get(ss[i].end..next.start).is_some_and(|g| g.contains('\n')))
    }

    /// Packs from sentence `s0` through at least sentence `fresh`: (s0, end, tokens), or
    /// `None` when `s0..=fresh` does not fit.
    fn pack(&self, s0: usize, fresh: usize, count: &mut dyn FnMut(&str) -> usize) -> Option<(usize, usize, usize)> {
        let (n, budget) = (self.sentences.len(), self.budget);
        // Jump ahead on per-sentence counts, then correct with exact counts.
        let mut end = fresh + 1;
        let mut est: usize = self.estimate[s0..end].iter().sum();
        while end < n && est + self.estimate[end] <= budget {
            est += self.estimate[end];
            end += 1;
        }
        let mut tokens = count(self.slice(s0, end));
        while tokens > budget && end > fresh + 1 {
            end -= 1;
            tokens = count(self.slice(s0, end));
        }
        if tokens > budget {
            return None;
        }
        while end < n {
            let t = count(self.slice(s0, end + 1));
            if t > budget {
                break;
            }
            end += 1;
            tokens = t;
        }
        if end < n && !self.breaks_after(end - 1) {
            // Full: prefer the last line break at which the chunk is at least 60% full.
            if let Some(e) = (fresh + 1..end).rev().find(|&e| self.breaks_after(e - 1)) {
                let t = count(self.slice(s0, e));
                if t * 10 >= budget * 6 {
                    return Some((s0, e, t));
                }
            }
        }
        Some((s0, end, tokens))
    }
}

/// Bytes one token may cover, at most, when bounding where a piece can end. A larger real
/// figure only makes pieces smaller than they could be, never over budget.
const MAX_BYTES_PER_TOKEN: usize = 64;

/// Splits one over-long sentence into pieces of at most `budget` tokens at word boundaries
/// (inside a word only when the word alone is over budget). Pieces exclude whitespace.
fn split_long(
    text: &str,
    range: Range<usize>,
    budget: usize,
    count: &mut dyn FnMut(&str) -> usize,
) -> Vec<(Range<usize>, usize)> {
    let s = text.get(range.clone()).unwrap_or("");
    let word_ends: Vec<usize> = s
        .char_indices()
        .filter(|&(i, c)| !c.is_whitespace() && s[i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace))
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    let mut out = Vec::new();
    let mut pos = 0;
    // Bytes per token assumed for how far ahead cuts are tried; it follows the text (about
    // 1.3 for base64, 4–5 for English) and doubles while the farthest cut tried still fits,
    // up to MAX_BYTES_PER_TOKEN. Only cuts within reach are counted, so a huge run of text
    // without sentence ends costs time linear in its length.
    let mut bpt = 4;
    while pos < s.len() {
        let mut fit = |e: usize| Some(count(&s[pos..e])).filter(|&t| t <= budget);
        let (end, tokens) = loop {
            let window = pos.saturating_add(budget.max(1).saturating_mul(bpt));
            let can_grow = bpt < MAX_BYTES_PER_TOKEN && window < s.len();
            let first = word_ends.partition_point(|&e| e <= pos);
            let last = word_ends.partition_point(|&e| e <= window).max(first);
            let words = &word_ends[first..last];
            if can_grow && words.last().is_some_and(|&e| fit(e).is_some()) {
                bpt = (bpt * 2).min(MAX_BYTES_PER_TOKEN);
                continue;
            }
            if let Some(piece) = largest_fitting(words, &mut fit) {
                break piece;
            }
            // The first word alone is too long: cut inside it at a char boundary, keeping
            // at least one char so that the plan always advances.
            let word_end = word_ends.get(first).copied().unwrap_or(s.len());
            let cuts: Vec<usize> = s[pos..word_end]
                .char_indices()
                .map(|(i, c)| pos + i + c.len_utf8())
                .take_while(|&e| e <= window)
                .collect();
            if can_grow && word_end > window && cuts.last().is_some_and(|&e| fit(e).is_some()) {
                bpt = (bpt * 2).min(MAX_BYTES_PER_TOKEN);
                continue;
            }
            break match largest_fitting(&cuts, &mut fit) {
                Some(piece) => piece,
                None => {
                    let e = cuts.first().copied().unwrap_or(s.len());
                    (e, count(&s[pos..e]))
                }
            };
        };
        bpt = ((end - pos).div_ceil(tokens.max(1)) * 2).clamp(2, MAX_BYTES_PER_TOKEN);
        out.push((range.start + pos..range.start + end, tokens));
        pos = end + s[end..].len() - s[end..].trim_start().len();
    }
    out
}

/// Binary search for the largest cut in `ends` whose piece fits (assuming counts grow with
/// length): (cut, tokens), or `None` if even the first does not fit.
fn largest_fitting(ends: &[usize], fit: &mut dyn FnMut(usize) -> Option<usize>) -> Option<(usize, usize)> {
    let first = *ends.first()?;
    let mut best = (first, fit(first)?);
    let (mut lo, mut hi) = (1, ends.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match fit(ends[mid]) {
            Some(t) => {
                best = (ends[mid], t);
                lo = mid + 1;
            }
            None => hi = mid,
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    fn check(text: &str, ss: &[Range<usize>], chunks: &[Chunk], budget: usize) {
        let mut covered = vec![false; text.len()];
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.index, i);
            assert!(c.tokens <= budget, "chunk {i} has {} > {budget}", c.tokens);
            assert_eq!(c.tokens, words(&text[c.range.clone()]));
            covered[c.range.clone()].iter_mut().for_each(|x| *x = true);
        }
        for (i, c) in text.char_indices() {
            assert!(c.is_whitespace() || covered[i], "byte {i} lost");
        }
        for w in chunks.windows(2) {
            assert!(w[1].sentences.end > w[0].sentences.end || w[1].range.start > w[0].range.start);
        }
        let _ = ss;
    }

    #[test]
    fn plan_packs_within_budget_with_overlap() {
        let text = "One two three. Four five six.\nSeven eight nine. Ten eleven twelve. Thirteen fourteen fifteen.";
        let ss = sentences(text);
        assert_eq!(ss.len(), 5);
        let chunks = plan(text, &ss, 7, 1, &mut words);
        check(text, &ss, &chunks, 7);
        let spans: Vec<_> = chunks.iter().map(|c| c.sentences.clone()).collect();
        assert_eq!(spans, [0..2, 1..3, 2..4, 3..5]);
        let chunks = plan(text, &ss, 9, 0, &mut words);
        let spans: Vec<_> = chunks.iter().map(|c| c.sentences.clone()).collect();
        assert_eq!(spans, [0..2, 2..5]); // the line break at 6 of 9 wins
                                         // A large overlap never repeats a whole chunk nor loops.
        let chunks = plan(text, &ss, 9, 10, &mut words);
        check(text, &ss, &chunks, 9);
        assert_eq!(chunks.last().unwrap().sentences.end, 5);
        assert!(chunks.len() <= 5);
    }

    #[test]
    fn plan_prefers_paragraph_breaks() {
        let text = "A b c d. E f g h.\n\nI j k l. M n o p. Q r s t.";
        let ss = sentences(text);
        let spans: Vec<_> = plan(text, &ss, 13, 0, &mut words).into_iter().map(|c| c.sentences).collect();
        assert_eq!(spans, [0..2, 2..5]);
    }

    #[test]
    fn plan_splits_huge_sentences_and_tiny_budgets() {
        let long = (0..50).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let text = format!("Short one. Then {long}. Tail here.");
        let ss = sentences(&text);
        let chunks = plan(&text, &ss, 8, 1, &mut words);
        check(&text, &ss, &chunks, 8);
        assert!(chunks.iter().filter(|c| c.sentences == (1..2)).count() >= 7);
        // Budget smaller than any sentence: everything is split, nothing is lost.
        let chunks = plan(&text, &ss, 1, 2, &mut words);
        check(&text, &ss, &chunks, 1);
        // One giant word: cut inside it by characters.
        let text = "x".repeat(100);
        let ss = sentences(&text);
        let chunks = plan(&text, &ss, 10, 0, &mut |s: &str| s.len().div_ceil(30));
        assert!(chunks.iter().all(|c| c.tokens <= 10));
        assert_eq!(chunks.iter().map(|c| c.range.len()).sum::<usize>(), 100);
        // Budget 0 still terminates, one char per chunk.
        let chunks = plan("ab\u{00e9}", &sentences("ab\u{00e9}"), 0, 0, &mut |s: &str| s.chars().count());
        assert_eq!(chunks.len(), 3);
    }

    #[test]
    fn plan_empty_and_deterministic() {
        assert!(plan("", &[], 100, 2, &mut words).is_empty());
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/article.txt");
        let text = std::fs::read_to_string(path).expect("examples/article.txt");
        let ss = sentences(&text);
        let a = plan(&text, &ss, 120, 1, &mut words);
        let b = plan(&text, &ss, 120, 1, &mut words);
        assert_eq!(a, b);
        check(&text, &ss, &a, 120);
        assert!(a.len() > 3);
    }
}
