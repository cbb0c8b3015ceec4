//! Stage 3, select: the sentences the summary's key points will say, chosen to cover the
//! document's concepts within a word budget.
//!
//! A concept is a content word (normalised and stemmed by `ground::content_words`); one
//! that several sentences share is part of what the document is about, and weighs
//! ln(1 + the number of body sentences that hold it); a word that occurs once weighs
//! nothing, a number as much as a word said twice. Points are picked greedily, as in
//! budgeted maximum coverage: each time the candidate whose compressed text adds the most
//! weight of concepts not yet covered, times its salience, per share of the budgets it
//! spends (its words of the word budget, plus one of the points). A sentence of no
//! salience is never picked. What the title and the tl;dr's sentence say counts as covered
//! from the start, so points add to them rather than repeat them. Repetition needs no
//! penalty of its own: a point that says again what is said adds nothing. The points
//! come back in source order. A sentence that lists what something includes is offered
//! whole and once per item ("Other challenges included obtaining adequate funding."); one
//! form of it at most is chosen.

use super::candidate::Candidate;
use super::salience::Salience;
use super::text;
use crate::ground;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// How much a selection may hold.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    /// Most points.
    pub(super) points: usize,
    /// Most words of all points together.
    pub(super) words: usize,
    /// Most words of one point.
    pub(super) point_words: usize,
}

/// Salience kept by a sentence that compresses only by a hard cut.
const HARD_CUT: f32 = 0.8;

/// How many key points a document of `words` words gets: 5 up to 1,000 words, two more
/// each time the length doubles, at most 10.
pub(super) fn points_for(words: usize) -> usize {
    let doublings = (words.max(1) as f32 / 1000.0).log2().max(0.0);
    (5.0 + 2.0 * doublings).round().clamp(5.0, 10.0) as usize
}

/// The concepts of a text: its distinct content words.
fn concepts(s: &str) -> HashSet<String> {
    ground::content_words(s).into_iter().filter(|w| w.chars().count() > 1).collect()
}

/// Candidates from the `sentences` of `text` within `budget`, in source order. `covered`
/// is text the summary says anyway (its title, its tl;dr's sentence). Each candidate's
/// `salience` is its priority: earlier picks rank higher.
pub(super) fn run(
    text: &str,
    sentences: &[Range<usize>],
    sal: &Salience,
    budget: Budget,
    covered: &[String],
) -> Vec<Candidate> {
    let ranked = sal.ranked();
    let Some(&best) = ranked.first() else { return Vec::new() };
    let top = sal.score[best].max(1e-6);
    for &i in ranked.iter().take(15) {
        tracing::debug!(score = sal.score[i], sentence = i, "salient: {}", &text[sentences[i].clone()]);
    }
    let sentence = |i: usize| &text[sentences[i].clone()];
    let mut df: HashMap<String, u32> = HashMap::new();
    for &i in &ranked {
        for c in concepts(sentence(i)) {
            *df.entry(c).or_default() += 1;
        }
    }
    // A figure is a fact even where it is given once: it weighs as a word said twice.
    let weight = |c: &String| {
        let d = df.get(c).copied().unwrap_or(0);
        let d = if c.chars().any(|ch| ch.is_ascii_digit()) { d.max(2) } else { d };
        if d >= 2 {
            (1.0 + d as f32).ln()
        } else {
            0.0
        }
    };
    let mut seen: HashSet<String> = covered.iter().flat_map(|s| concepts(s)).collect();
    // A sentence of no salience (a lead-in, a piece of a sentence, a line without a verb)
    // is never a point, not even to fill the budget.
    let mut pool: Vec<(Candidate, HashSet<String>)> = ranked
        .iter()
        .filter(|&&i| sal.score[i] > 0.0)
        .flat_map(|&i| {
            // A sentence that lists what something includes is also offered one item at a
            // time: the list may be too long for a point where one item is not.
            std::iter::once(sentence(i).to_string()).chain(text::item_sentences(sentence(i))).map(move |f| (i, f))
        })
        .map(|(i, form)| {
            let compressed = text::compress(&form, budget.point_words);
            let factor = if text::hard_cut(&compressed) { HARD_CUT } else { 1.0 };
            let cs = concepts(&compressed);
            let c = Candidate {
                sentence: i,
                salience: factor * sal.score[i] / top,
                text: compressed.clone(),
                compressed,
                support: 1.0,
                rewritten: false,
            };
            (c, cs)
        })
        .collect();
    let mut chosen: Vec<Candidate> = Vec::new();
    let mut words = 0;
    while chosen.len() < budget.points {
        let value = |(c, cs): &(Candidate, HashSet<String>)| {
            let gain: f32 = cs.difference(&seen).map(weight).sum();
            // A point spends words and one of the points: its cost is its share of both.
            let words = c.text.split_whitespace().count().max(1) as f32;
            gain * c.salience / (words / budget.words.max(1) as f32 + 1.0 / budget.points.max(1) as f32)
        };
        // The best value; ties (nothing new anywhere) go to salience, then source order.
        let Some(k) = (0..pool.len())
            .filter(|&k| words + pool[k].0.text.split_whitespace().count() <= budget.words)
            .max_by(|&a, &b| {
                value(&pool[a])
                    .total_cmp(&value(&pool[b]))
                    .then(pool[a].0.salience.total_cmp(&pool[b].0.salience))
                    .then(b.cmp(&a))
            })
        else {
            break;
        };
        let (c, cs) = pool.swap_remove(k);
        // One point per sentence: its other forms go.
        pool.retain(|(o, _)| o.sentence != c.sentence);
        words += c.text.split_whitespace().count();
        seen.extend(cs);
        chosen.push(c);
    }
    let n = chosen.len() as f32;
    for (k, c) in chosen.iter_mut().enumerate() {
        c.salience = 1.0 - k as f32 / (n + 1.0);
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

    fn pick(text: &str, covered: &[&str], points: usize) -> Vec<String> {
        let s = crate::chunk::sentences(text);
        let sal = Salience::new(text, &s);
        let covered: Vec<String> = covered.iter().map(|c| c.to_string()).collect();
        run(text, &s, &sal, Budget { points, words: 200, point_words: 25 }, &covered)
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    const REPORT: &str = "The city council approved a new transport budget of 40 million dollars on Monday.\n\n\
        The transport budget adds twelve bus lines and extends the tram network to the airport.\n\n\
        The council said the transport budget adds twelve bus lines to the network.\n\n\
        Opponents argued that higher ticket fares for commuters would pay for the airport extension.\n\n\
        The mayor promised commuters that ticket fares would not rise before the election.";

    #[test]
    fn a_point_that_repeats_another_adds_nothing() {
        let points = pick(REPORT, &[], 3);
        assert_eq!(points.len(), 3);
        let repeats = |a: &str| a.contains("twelve bus lines");
        assert_eq!(points.iter().filter(|p| repeats(p)).count(), 1, "{points:?}");
    }

    #[test]
    fn a_sentence_of_no_salience_never_fills_the_budget() {
        let text = format!("{REPORT}\n\nThe council listed the transport budget lines as follows:");
        let points = pick(&text, &[], 10);
        assert!(points.len() >= 3, "{points:?}");
        assert!(!points.iter().any(|p| p.contains("as follows")), "{points:?}");
    }

    #[test]
    fn what_the_title_and_tldr_say_counts_as_covered() {
        let free = pick(REPORT, &[], 1);
        let said = pick(REPORT, &[&free[0]], 1);
        assert_ne!(free, said, "the point already said is not picked again");
    }

    #[test]
    fn a_long_inclusive_list_gives_a_point_of_one_item() {
        let text = "The council reviewed how the city shares its transport data.\n\n\
            The challenges included (1) developing agreements on how the neighbours may use and protect shared \
            transport data, (2) obtaining adequate funding for the regional data exchange and its staff, and \
            (3) retaining the members of the exchange over many years.\n\n\
            Sharing transport data lets the region plan bus lines together.";
        let s = crate::chunk::sentences(text);
        let sal = Salience::new(text, &s);
        let got = run(text, &s, &sal, Budget { points: 3, words: 60, point_words: 12 }, &[]);
        let texts: Vec<&str> = got.iter().map(|c| c.text.as_str()).collect();
        assert!(texts.iter().any(|t| t.starts_with("The challenges included") && !t.contains("(2)")), "{texts:?}");
        assert!(!texts.iter().any(|t| t.ends_with('…')), "{texts:?}");
        assert_eq!(got.iter().filter(|c| c.sentence == 1).count(), 1, "one point per sentence: {texts:?}");
    }

    #[test]
    fn points_keep_source_order_and_the_word_budget() {
        let s = crate::chunk::sentences(REPORT);
        let sal = Salience::new(REPORT, &s);
        let got = run(REPORT, &s, &sal, Budget { points: 5, words: 30, point_words: 25 }, &[]);
        assert!(got.windows(2).all(|w| w[0].sentence < w[1].sentence));
        assert!(got.iter().map(|c| c.text.split_whitespace().count()).sum::<usize>() <= 30);
        assert!(!got.is_empty());
    }
}
