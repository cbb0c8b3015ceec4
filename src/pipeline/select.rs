//! Stage 3, select: drop copied headings and long copied sentences, merge near-duplicates,
//! grade each candidate by its support and by what the grounding checks flag, and choose
//! the points of the summary, in source order.

use super::candidate::Candidate;
use super::Ctx;
use crate::ground;

/// Least quality (support, less 1 if flagged) of a point picked to cover its part of the document.
const MIN_SPREAD_QUALITY: f32 = 0.75;

/// The chosen candidates, in source order.
pub(super) fn run(cx: &Ctx, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let (doc, plan, opts) = (cx.doc, cx.plan, cx.opts);
    // Drop copies of long sentences and of headings (a line without final punctuation
    // states no fact), and near-duplicates.
    candidates.retain(|c| {
        !c.evidence.iter().any(|e| {
            let s = doc.text[plan.sentences[e.sentence].clone()].trim();
            let heading = !s.ends_with(['.', '!', '?', '"', '”', '’', ')']);
            (heading || s.split_whitespace().count() > opts.point_words) && ground::copies_sentence(&c.text, s)
        })
    });
    let mut candidates = dedup_candidates(candidates);
    for c in &mut candidates {
        // Grounded once here: a point the checks flag ranks below every clean one, and the
        // flags become its warnings if it is chosen.
        c.problem = problem(cx, &c.text);
        c.quality = if c.problem.is_some() { c.support - 1.0 } else { c.support };
        tracing::debug!(at = c.at, support = c.support, flagged = c.problem.is_some(), "candidate: {}", c.text);
    }
    let want = if opts.max_points > 0 { opts.max_points } else { (2 + plan.chunks.len()).clamp(3, 10) };
    let mut chosen = select_spread(candidates, want, doc.text.len());
    chosen.sort_by_key(|c| c.at);
    chosen
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

/// Near-duplicates removed, keeping the better-supported one.
fn dedup_candidates(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    cands.sort_by(|a, b| b.support.total_cmp(&a.support).then(a.at.cmp(&b.at)));
    for c in cands {
        if !out.iter().any(|o| ground::near_duplicate(&o.text, &c.text)) {
            out.push(c);
        }
    }
    out
}

/// `want` points spread over the document: split it into `want` equal parts by offset,
/// take the best-supported point of each part, then fill with the best of the rest.
fn select_spread(mut cands: Vec<Candidate>, want: usize, len: usize) -> Vec<Candidate> {
    if cands.len() <= want {
        return cands;
    }
    // Coverage first: the best point of each of `want` equal parts of the document, where
    // that point is well supported and clean. Then the best of the rest, earlier points
    // ahead by up to 0.2 (an article says what matters most first).
    cands.sort_by(|a, b| b.quality.total_cmp(&a.quality).then(a.at.cmp(&b.at)));
    let mut chosen = Vec::new();
    let part = len.div_ceil(want).max(1);
    for k in 0..want {
        if let Some(i) = cands.iter().position(|c| c.at / part == k && c.quality >= MIN_SPREAD_QUALITY) {
            chosen.push(cands.remove(i));
        }
    }
    let rank = |c: &Candidate| c.quality + 0.2 * (1.0 - c.at as f32 / len.max(1) as f32);
    cands.sort_by(|a, b| rank(b).total_cmp(&rank(a)));
    chosen.extend(cands.into_iter().take(want.saturating_sub(chosen.len())));
    chosen
}
