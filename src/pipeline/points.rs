//! Stage 4, ground: the chosen candidates become the summary's key points. `--strict`
//! drops what the checks flag; a person's first mention gets the full name the source
//! gives; each point gets its evidence spans in the source file, and its warnings.

use super::candidate::Candidate;
use super::Ctx;
use crate::ground;
use crate::summary::{EvidenceSpan, KeyPoint};

/// Key points from the chosen candidates (in their order); warnings are appended.
pub(super) fn run(cx: &Ctx, chosen: Vec<Candidate>, warnings: &mut Vec<String>) -> Vec<KeyPoint> {
    let (doc, plan) = (cx.doc, cx.plan);
    let mut kept = Vec::new();
    for c in chosen {
        match &c.problem {
            Some(problem) if cx.opts.strict => {
                warnings.push(format!("dropped (--strict) a point with {problem}: {}", c.text));
            }
            _ => kept.push(c),
        }
    }
    // First mentions are introduced before the warnings quote the points.
    let mut texts: Vec<String> = kept.iter().map(|c| c.text.clone()).collect();
    for (i, from, to) in ground::introduce_names(&mut texts, &doc.text) {
        tracing::debug!("key point {i}: first mention {from:?} -> {to:?}");
    }
    let mut key_points = Vec::new();
    for (c, text) in kept.into_iter().zip(texts) {
        for r in &c.repaired {
            warnings.push(format!("key point corrected to the source's attribution ({r}): {text}"));
        }
        if let Some(problem) = &c.problem {
            warnings.push(format!("key point has {problem}: {text}"));
        } else if c.support < 0.5 {
            warnings.push(format!("key point weakly supported by the source (support {:.2}): {text}", c.support));
        }
        let evidence = c
            .evidence
            .iter()
            .map(|e| {
                let raw = doc.raw_span(plan.sentences[e.sentence].clone());
                EvidenceSpan { start: raw.start, end: raw.end, quote: doc.quote(raw) }
            })
            .collect();
        key_points.push(KeyPoint { text, evidence, support: (c.support * 100.0).round() / 100.0 });
    }
    key_points
}
