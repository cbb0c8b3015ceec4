//! Centrality: TF-IDF vectors of a document's sentences, and how central each body
//! sentence is among them (LexRank, or closeness to the centroid for very long documents).

use super::Role;
use crate::ground;
use std::collections::HashMap;

/// Body sentences above which centroid closeness stands in for LexRank (quadratic).
pub(super) const LEXRANK_MAX: usize = 2000;

/// TF-IDF vectors of the sentences (empty for all but body sentences and headings; the
/// title's vector is kept for title closeness).
pub(super) fn tfidf(lines: &[&str], role: &[Role]) -> Vec<Vec<(u32, f32)>> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut counts: Vec<Vec<(u32, f32)>> = Vec::with_capacity(lines.len());
    for (l, r) in lines.iter().zip(role) {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        if *r != Role::Fragment || l.starts_with("Title:") {
            for w in ground::content_words(l) {
                if w.len() < 2 {
                    continue;
                }
                let next = ids.len() as u32;
                *tf.entry(*ids.entry(w).or_insert(next)).or_default() += 1.0;
            }
        }
        counts.push(tf.into_iter().collect());
    }
    let mut df = vec![0u32; ids.len()];
    for v in &counts {
        for (t, _) in v {
            df[*t as usize] += 1;
        }
    }
    let n = counts.iter().filter(|v| !v.is_empty()).count().max(1) as f32;
    for v in &mut counts {
        for (t, x) in v.iter_mut() {
            *x = (1.0 + x.ln()) * ((n + 1.0) / (df[*t as usize] as f32 + 1.0)).ln().max(0.0);
        }
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v.sort_by_key(|(t, _)| *t);
    }
    counts
}

pub(super) fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

/// Centrality of each body sentence (in `body` order), scaled so that the most central is 1.
pub(super) fn centrality(vectors: &[Vec<(u32, f32)>], body: &[usize]) -> Vec<f32> {
    let n = body.len();
    if n == 0 {
        return Vec::new();
    }
    let raw = if n <= LEXRANK_MAX { lexrank(vectors, body) } else { centroid(vectors, body) };
    let max = raw.iter().cloned().fold(0.0f32, f32::max);
    raw.iter().map(|x| if max > 0.0 { x / max } else { 0.0 }).collect()
}

/// LexRank: PageRank over the graph whose edges join sentences of cosine ≥ 0.1, weighted
/// by that cosine.
pub(super) fn lexrank(vectors: &[Vec<(u32, f32)>], body: &[usize]) -> Vec<f32> {
    const THRESHOLD: f32 = 0.1;
    const DAMPING: f32 = 0.85;
    let n = body.len();
    let mut edges: Vec<Vec<(usize, f32)>> = vec![Vec::new(); n];
    for a in 0..n {
        for b in a + 1..n {
            let s = cosine(&vectors[body[a]], &vectors[body[b]]);
            if s >= THRESHOLD {
                edges[a].push((b, s));
                edges[b].push((a, s));
            }
        }
    }
    let out: Vec<f32> = edges.iter().map(|e| e.iter().map(|(_, s)| s).sum()).collect();
    let mut p = vec![1.0 / n as f32; n];
    for _ in 0..40 {
        let mut next = vec![(1.0 - DAMPING) / n as f32; n];
        let mut dangling = 0.0;
        for a in 0..n {
            if out[a] == 0.0 {
                dangling += p[a];
                continue;
            }
            for &(b, s) in &edges[a] {
                next[b] += DAMPING * p[a] * s / out[a];
            }
        }
        next.iter_mut().for_each(|x| *x += DAMPING * dangling / n as f32);
        p = next;
    }
    p
}

/// Closeness of each sentence to the centroid of all of them.
pub(super) fn centroid(vectors: &[Vec<(u32, f32)>], body: &[usize]) -> Vec<f32> {
    let mut c: HashMap<u32, f32> = HashMap::new();
    for &i in body {
        for (t, x) in &vectors[i] {
            *c.entry(*t).or_default() += x;
        }
    }
    body.iter().map(|&i| vectors[i].iter().map(|(t, x)| x * c.get(t).copied().unwrap_or(0.0)).sum()).collect()
}
