//! Stage 5, ground: each chosen candidate becomes a key point. The model's rewrite of its
//! sentence is kept only where it is shorter and faithful (backed by the sentence, with no
//! word, number or negation the sentence lacks); else the compressed
//! sentence stands. `--strict` drops what the checks still flag; a person's first mention
//! gets the full name the source gives; each point gets its evidence span in the source.

use super::candidate::Candidate;
use super::{text, Ctx};
use crate::ground;
use crate::summary::{EvidenceSpan, KeyPoint};

/// Least support of a rewrite by its own sentence.
const MIN_REWRITE_SUPPORT: f32 = 0.8;
/// Fewest words of a rewrite.
const MIN_REWRITE_WORDS: usize = 5;

/// The candidates with their final text chosen from `rewrites` (same order): the model's
/// rewrite (cut to the point's words at a clause where it is longer) where it is faithful
/// and carries more information than the compressed sentence, else that sentence.
pub(super) fn choose(cx: &Ctx, mut candidates: Vec<Candidate>, rewrites: &[String]) -> Vec<Candidate> {
    for (c, r) in candidates.iter_mut().zip(rewrites) {
        let sentence = &cx.doc.text[cx.plan.sentences[c.sentence].clone()];
        if let Some(r) = faithful_rewrite(cx, sentence, r) {
            let (ri, ci) = (text::information(&r), text::information(&c.compressed));
            let shorter = r.split_whitespace().count() < c.compressed.split_whitespace().count();
            if ri > ci || (ri == ci && shorter) || (text::hard_cut(&c.compressed) && !text::hard_cut(&r)) {
                c.text = r;
                c.rewritten = true;
            }
        }
        c.support = ground::support(&c.text, sentence);
        tracing::debug!(sentence = c.sentence, rewritten = c.rewritten, "point: {}", c.text);
    }
    candidates
}

/// The model's rewrite `r` of `sentence`, within the point's words, where it may stand
/// for the sentence: a complete sentence, backed by the sentence, naming nothing the
/// source lacks.
fn faithful_rewrite(cx: &Ctx, sentence: &str, r: &str) -> Option<String> {
    let complete = r.trim_end_matches(['"', '”', '’', ')']).ends_with(['.', '!', '?']);
    if !complete || r.split_whitespace().count() < MIN_REWRITE_WORDS {
        return None;
    }
    let r = text::compress(r, cx.point_words);
    if !text::ends_cleanly(sentence, &r) {
        tracing::debug!("rewrite stops inside its sentence's clause or list: {r}");
        return None;
    }
    // Saying a word more often than the sentence does is padding or a loop ("The duration
    // of 1h30s is 1h30s.").
    let counts = |s: &str| {
        let mut m = std::collections::HashMap::<String, usize>::new();
        ground::content_words(s).into_iter().for_each(|w| *m.entry(w).or_default() += 1);
        m
    };
    let (said, source) = (counts(&r), counts(sentence));
    if let Some((w, _)) = said.iter().find(|(w, n)| **n > source.get(*w).copied().unwrap_or(0)) {
        tracing::debug!("rewrite repeats {w:?}: {r}");
        return None;
    }
    let mut novel = ground::novel_words(&r, sentence);
    novel.extend(ground::dropped_hedges(&r, sentence).into_iter().map(|h| format!("(no {h:?})")));
    novel.extend(ground::changed_units(&r, sentence).into_iter().map(|u| format!("({u:?})")));
    if !novel.is_empty() {
        tracing::debug!("rewrite says what its sentence does not ({}): {r}", novel.join(", "));
        return None;
    }
    (ground::support(&r, sentence) >= MIN_REWRITE_SUPPORT && problem(cx, &r).is_none()).then_some(r)
}

/// Key points from the candidates (in their order), each with its salience; warnings are
/// appended.
pub(super) fn run(cx: &Ctx, candidates: Vec<Candidate>, warnings: &mut Vec<String>) -> Vec<(KeyPoint, f32)> {
    let (doc, plan) = (cx.doc, cx.plan);
    let mut kept = Vec::new();
    for c in candidates {
        let (text, repaired) = cx.claims.repair(&c.text);
        let problem = problem(cx, &text);
        match problem {
            Some(problem) if cx.opts.strict => {
                warnings.push(format!("dropped (--strict) a point with {problem}: {text}"));
            }
            _ => kept.push((c, text, repaired, problem)),
        }
    }
    // First mentions are introduced before the warnings quote the points.
    let mut texts: Vec<String> = kept.iter().map(|(_, t, _, _)| t.clone()).collect();
    for (i, from, to) in ground::introduce_names(&mut texts, &doc.text) {
        tracing::debug!("key point {i}: first mention {from:?} -> {to:?}");
    }
    let mut key_points = Vec::new();
    for ((c, _, repaired, problem), text) in kept.into_iter().zip(texts) {
        for r in &repaired {
            warnings.push(format!("key point corrected to the source's attribution ({r}): {text}"));
        }
        if let Some(problem) = &problem {
            warnings.push(format!("key point has {problem}: {text}"));
        } else if c.support < 0.5 {
            warnings.push(format!("key point weakly supported by the source (support {:.2}): {text}", c.support));
        }
        let raw = doc.raw_span(plan.sentences[c.sentence].clone());
        let evidence = vec![EvidenceSpan { start: raw.start, end: raw.end, quote: doc.quote(raw) }];
        key_points.push((KeyPoint { text, evidence, support: (c.support * 100.0).round() / 100.0 }, c.salience));
    }
    key_points
}

/// What the grounding checks flag in a generated text: names or numbers the source lacks,
/// or words it gives a name that the source says of another.
pub(super) fn problem(cx: &Ctx, text: &str) -> Option<String> {
    let missing = ground::unsupported_terms(text, &cx.doc.text);
    if !missing.is_empty() {
        return Some(format!("terms not in the source ({})", missing.join(", ")));
    }
    let swapped = cx.claims.swapped(text);
    if !swapped.is_empty() {
        return Some(format!("words the source says of another name ({})", swapped.join("; ")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::with_ctx;
    use super::*;

    const ARTICLE: &str =
        "The steering council is expected to accept the proposal to make the lock optional, with a gradual rollout.\n\n\
        The council put the cost of the rollout at three years of work by the core team.";

    /// The candidate for the article's first sentence, compressed by a hard cut, with
    /// `rewrite` as the model's reply.
    fn chosen(rewrite: &str) -> Candidate {
        with_ctx(ARTICLE, |cx, _| {
            let cut = "The steering council is expected to accept the proposal to make the lock …".to_string();
            assert!(text::hard_cut(&cut));
            let c = Candidate {
                sentence: 0,
                salience: 1.0,
                compressed: cut.clone(),
                text: cut,
                support: 1.0,
                rewritten: false,
            };
            choose(cx, vec![c], &[rewrite.to_string()]).remove(0)
        })
    }

    #[test]
    fn a_shorter_faithful_rewrite_is_kept() {
        let c = chosen("The steering council is expected to accept the proposal, with a gradual rollout.");
        assert!(c.rewritten, "{}", c.text);
    }

    #[test]
    fn a_rewrite_that_changes_a_word_a_negation_or_a_hedge_is_not() {
        for r in [
            "The steering council is expected to reject the proposal, with a gradual rollout.",
            "The steering council is not expected to accept the proposal to make the lock optional.",
            "The steering council is expected to accept the proposal, with a rollout over five years.",
            "The steering council is expected to accept the proposal: a gradual rollout, a gradual rollout.",
            "The steering council accepts the proposal to make the lock optional, with a gradual rollout.",
        ] {
            let c = chosen(r);
            assert!(!c.rewritten && c.text.starts_with("The steering council is expected"), "{r} -> {}", c.text);
        }
    }
}
