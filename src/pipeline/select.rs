//! Stage 3, select: the sentences the summary's key points will say. The most salient
//! body sentences are taken by maximal marginal relevance (a sentence's salience, less its
//! closeness to what is already chosen or to a section already covered), within a count
//! that grows with the document and a word budget; they are returned in source order.

use super::candidate::Candidate;
use super::salience::Salience;
use super::{text, Ctx};

/// Salience against novelty in maximal marginal relevance.
const LAMBDA: f32 = 0.7;
/// Least "closeness" of two sentences of the same section (spreads points over sections).
const SAME_SECTION: f32 = 0.5;
/// Salience kept by a sentence that compresses only by a hard cut.
const HARD_CUT: f32 = 0.8;
/// Sentences considered, best first (MMR is quadratic in them).
const POOL: usize = 80;

/// How many key points a document of `words` words gets: 5 up to 1,000 words, two more
/// each time the length doubles, at most 10.
pub(super) fn points_for(words: usize) -> usize {
    let doublings = (words.max(1) as f32 / 1000.0).log2().max(0.0);
    (5.0 + 2.0 * doublings).round().clamp(5.0, 10.0) as usize
}

/// Up to `want` candidates whose compressed texts fit `budget` words, in source order.
pub(super) fn run(cx: &Ctx, sal: &Salience, want: usize, budget: usize) -> Vec<Candidate> {
    let ranked: Vec<usize> = sal.ranked().into_iter().take(POOL).collect();
    let Some(&best) = ranked.first() else { return Vec::new() };
    let top = sal.score[best].max(1e-6);
    for &i in ranked.iter().take(15) {
        tracing::debug!(score = sal.score[i], sentence = i, "salient: {}", &cx.doc.text[cx.plan.sentences[i].clone()]);
    }
    let mut pool: Vec<Candidate> = ranked
        .iter()
        .map(|&i| {
            let compressed = text::compress(&cx.doc.text[cx.plan.sentences[i].clone()], cx.opts.point_words);
            let factor = if text::hard_cut(&compressed) { HARD_CUT } else { 1.0 };
            Candidate {
                sentence: i,
                salience: factor * sal.score[i] / top,
                text: compressed.clone(),
                compressed,
                support: 1.0,
                rewritten: false,
            }
        })
        .collect();
    let mut chosen: Vec<Candidate> = Vec::new();
    let mut words = 0;
    while chosen.len() < want && !pool.is_empty() {
        let closeness = |c: &Candidate| {
            chosen
                .iter()
                .map(|o| {
                    let same = sal.section[o.sentence] == sal.section[c.sentence] && sal.section[c.sentence] > 0;
                    let mut s = sal.similarity(o.sentence, c.sentence);
                    if same {
                        s = s.max(SAME_SECTION);
                    }
                    s
                })
                .fold(0.0f32, f32::max)
        };
        let mmr = |c: &Candidate| LAMBDA * c.salience - (1.0 - LAMBDA) * closeness(c);
        let Some(k) = (0..pool.len())
            .filter(|&k| words + pool[k].text.split_whitespace().count() <= budget)
            .max_by(|&a, &b| mmr(&pool[a]).total_cmp(&mmr(&pool[b])).then(b.cmp(&a)))
        else {
            break;
        };
        let c = pool.swap_remove(k);
        words += c.text.split_whitespace().count();
        chosen.push(c);
    }
    chosen.sort_by_key(|c| c.sentence);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_grow_with_the_document() {
        assert_eq!(points_for(300), 5);
        assert_eq!(points_for(900), 5);
        assert_eq!(points_for(2000), 7);
        assert_eq!(points_for(4000), 9);
        assert_eq!(points_for(20_000), 10);
    }
}
