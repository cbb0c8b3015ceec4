//! Grounding without a model: how well source sentences back a generated point, which
//! names and numbers in a point the source lacks, and near-duplicate points.
//!
//! Owns: `support`, `evidence`, `unsupported_terms`, `near_duplicate`/`dedup` and
//! `copies_sentence`; word normalisation and `content_words` live in `ground/words.rs`,
//! swapped attributions in `ground/attribution.rs`, first mentions of people in
//! `ground/names.rs`.
//! Pure text functions over strings and sentence ranges; must not touch files, chunking,
//! models or the summary type.

use std::collections::HashSet;
use std::ops::Range;

mod attribution;
mod names;
mod words;

pub use attribution::{repair_attributions, swapped_attributions, SourceClaims};
pub use names::{full_name, introduce_names};
pub use words::content_words;
use words::{close, raw_words, terms, Kind, Term};

/// The content words of a point with weights (names and numbers count double) and bigrams.
struct Point {
    words: Vec<(String, f32, Kind)>,
    bigrams: Vec<(String, String)>,
}

impl Point {
    fn new(s: &str) -> Point {
        let content: Vec<Term> = terms(s).into_iter().filter(|t| !t.stop).collect();
        let mut words: Vec<(String, f32, Kind)> = Vec::new();
        for t in &content {
            let w = if t.kind == Kind::Word { 1.0 } else { 2.0 };
            match words.iter_mut().find(|(n, _, _)| *n == t.norm) {
                Some(e) => e.1 = e.1.max(w),
                None => words.push((t.norm.clone(), w, t.kind)),
            }
        }
        let mut bigrams: Vec<(String, String)> = Vec::new();
        for pair in content.windows(2) {
            let b = (pair[0].norm.clone(), pair[1].norm.clone());
            if !bigrams.contains(&b) {
                bigrams.push(b);
            }
        }
        Point { words, bigrams }
    }
}

/// The content words and bigrams of one or more source sentences.
#[derive(Default, Clone)]
struct Bag {
    words: HashSet<String>,
    bigrams: HashSet<(String, String)>,
}

impl Bag {
    fn new(s: &str) -> Bag {
        let words = content_words(s);
        let bigrams = words.windows(2).map(|p| (p[0].clone(), p[1].clone())).collect();
        Bag { words: words.into_iter().collect(), bigrams }
    }

    /// Credit for a point word: 1 if present; 0.7 for a word sharing a long prefix with one
    /// present ("cooperating"/"cooperation"); names and numbers must match exactly.
    fn credit(&self, word: &str, kind: Kind) -> f32 {
        if self.words.contains(word) {
            return 1.0;
        }
        if kind != Kind::Word {
            return 0.0;
        }
        if self.words.iter().any(|v| close(word, v)) {
            0.7
        } else {
            0.0
        }
    }
}

/// Support of `p` by the union of `bags`: 0.8 × weighted word coverage + 0.2 × bigram
/// coverage (the word coverage again when the point has no bigrams).
fn score(p: &Point, bags: &[&Bag]) -> f32 {
    let total: f32 = p.words.iter().map(|w| w.1).sum();
    if total == 0.0 {
        return 0.0;
    }
    let got: f32 = p
        .words
        .iter()
        .map(|(w, weight, kind)| weight * bags.iter().map(|b| b.credit(w, *kind)).fold(0.0, f32::max))
        .sum();
    let uni = got / total;
    let bi = if p.bigrams.is_empty() {
        uni
    } else {
        p.bigrams.iter().filter(|b| bags.iter().any(|g| g.bigrams.contains(*b))).count() as f32 / p.bigrams.len() as f32
    };
    (0.8 * uni + 0.2 * bi).clamp(0.0, 1.0)
}

/// How well `sentence` backs `point`, from 0 (nothing in common) to 1 (every content word,
/// and every pair of adjacent content words, of the point is in the sentence).
pub fn support(point: &str, sentence: &str) -> f32 {
    score(&Point::new(point), &[&Bag::new(sentence)])
}

/// One source sentence backing a point.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// Index into the sentence list.
    pub sentence: usize,
    /// `support(point, sentence)`.
    pub score: f32,
}

/// The best 1..=`max` sentences backing `point` (best first; a further sentence only when it
/// covers words of the point that the ones before lack), and the support of the point by
/// their union. No evidence and 0 when nothing in the text shares a content word with it.
pub fn evidence(point: &str, text: &str, sentences: &[Range<usize>], max: usize) -> (Vec<Evidence>, f32) {
    let p = Point::new(point);
    if p.words.is_empty() || max == 0 {
        return (Vec::new(), 0.0);
    }
    let bags: Vec<Bag> = sentences.iter().map(|r| Bag::new(text.get(r.clone()).unwrap_or(""))).collect();
    let scores: Vec<f32> = bags.iter().map(|b| score(&p, &[b])).collect();
    let Some(best) = (0..bags.len()).fold(None, |acc: Option<usize>, i| match acc {
        Some(j) if scores[j] >= scores[i] => Some(j),
        _ => Some(i),
    }) else {
        return (Vec::new(), 0.0);
    };
    if scores[best] <= 0.0 {
        return (Vec::new(), 0.0);
    }
    let mut chosen = vec![best];
    let mut overall = scores[best];
    while chosen.len() < max {
        let union: Vec<&Bag> = chosen.iter().map(|&i| &bags[i]).collect();
        let missing: Vec<&String> =
            p.words.iter().filter(|(w, _, k)| union.iter().all(|b| b.credit(w, *k) < 1.0)).map(|(w, _, _)| w).collect();
        let mut next: Option<(usize, f32)> = None;
        for (i, bag) in bags.iter().enumerate() {
            if chosen.contains(&i) || !missing.iter().any(|w| bag.words.contains(*w)) {
                continue;
            }
            let mut with = union.clone();
            with.push(bag);
            let s = score(&p, &with);
            if s >= overall + 0.05 && next.is_none_or(|(_, b)| s > b) {
                next = Some((i, s));
            }
        }
        let Some((i, s)) = next else { break };
        chosen.push(i);
        overall = s;
    }
    (chosen.into_iter().map(|i| Evidence { sentence: i, score: scores[i] }).collect(), overall)
}

/// Names (capitalised words or runs of them not at a sentence start; acronyms such as
/// "U.S." or "CSIS" anywhere) and numbers ("4", "2,023", "3.5%", "five") in `point` that
/// `source_text` does not contain. Names compare case-insensitively and by stem, with
/// "U.S." = "US"; numbers compare as normalised digits, with number words as digits. A run
/// of capitalised words that is missing whole is reported as one term.
pub fn unsupported_terms(point: &str, source_text: &str) -> Vec<String> {
    let src = terms(source_text);
    let words: HashSet<&str> = src.iter().map(|t| t.norm.as_str()).collect();
    let acronyms: HashSet<&str> = src.iter().filter(|t| t.acronym).map(|t| t.norm.as_str()).collect();
    let known = |t: &Term| match t.kind {
        Kind::Number => words.contains(t.norm.as_str()),
        _ if t.acronym => acronyms.contains(t.norm.as_str()) || (t.norm.len() >= 3 && words.contains(t.norm.as_str())),
        _ => words.contains(t.norm.as_str()),
    };
    let pts = terms(point);
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    let mut i = 0;
    while i < pts.len() {
        let t = &pts[i];
        if t.kind == Kind::Number {
            if !known(t) {
                push(t.surface.to_string());
            }
            i += 1;
            continue;
        }
        // A run of names; a capitalised non-stopword at a sentence start joins the run after it.
        let is_name = |t: &Term| t.kind == Kind::Name;
        let starts_run = is_name(t)
            || (t.capital
                && t.sentence_start
                && !t.stop
                && pts.get(i + 1).is_some_and(|n| is_name(n) && !n.sentence_start));
        if !starts_run {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < pts.len() && is_name(&pts[j]) && !pts[j].sentence_start {
            j += 1;
        }
        let run = &pts[i..j];
        let missing: Vec<&Term> = run.iter().filter(|t| !known(t)).collect();
        if run.len() > 1 && missing.len() == run.len() {
            push(run.iter().map(|t| t.surface).collect::<Vec<_>>().join(" "));
        } else {
            missing.into_iter().for_each(|t| push(t.surface.to_string()));
        }
        i = j;
    }
    out
}

/// Words that deny: a text that adds or drops one says the opposite of its evidence.
const NEGATIONS: &[&str] = &["not", "no", "never", "nor", "neither", "without", "none", "nobody", "nothing", "cannot"];

/// What `text` says that `evidence` does not: its content words (names, numbers and plain
/// words alike) with no same or close form in the evidence, as a rewrite that turns
/// "accepts" into "rejects" or "promised" into "will pay" would have; and "(negation)" when
/// one of the two denies and the other does not. Empty when the text only deletes,
/// reorders or inflects the evidence's words.
pub fn novel_words(text: &str, evidence: &str) -> Vec<String> {
    let ev = terms(evidence);
    let known: HashSet<&str> = ev.iter().filter(|t| !t.stop).map(|t| t.norm.as_str()).collect();
    let ts = terms(text);
    let mut out: Vec<String> = Vec::new();
    for t in ts.iter().filter(|t| !t.stop) {
        let seen =
            known.contains(t.norm.as_str()) || (t.kind != Kind::Number && known.iter().any(|k| close(k, &t.norm)));
        if !seen && !out.iter().any(|o| o == t.surface) {
            out.push(t.surface.to_string());
        }
    }
    let denies = |ts: &[Term]| {
        ts.iter().any(|t| {
            let w = t.surface.to_lowercase().replace('’', "'");
            NEGATIONS.contains(&w.as_str()) || w.ends_with("n't")
        })
    };
    if denies(&ts) != denies(&ev) {
        out.push("(negation)".to_string());
    }
    out
}

/// Words that hedge a claim: a shortening that drops one states as certain what its
/// source only expects, estimates or reports.
const HEDGES: &[&str] = &[
    "expected",
    "expects",
    "may",
    "might",
    "could",
    "would",
    "likely",
    "unlikely",
    "possibly",
    "probably",
    "perhaps",
    "estimated",
    "estimate",
    "estimates",
    "approximately",
    "nearly",
    "almost",
    "roughly",
    "reportedly",
    "allegedly",
    "planned",
    "plans",
    "proposed",
    "proposes",
    "suggests",
    "suggested",
];

/// The hedges of `evidence` ("expected", "may", "estimated", …) that `text` leaves out.
pub fn dropped_hedges(text: &str, evidence: &str) -> Vec<String> {
    let words = |s: &str| -> HashSet<String> { raw_words(s).into_iter().map(|(_, w)| w.to_lowercase()).collect() };
    let (t, e) = (words(text), words(evidence));
    HEDGES.iter().filter(|h| e.contains(**h) && !t.contains(**h)).map(|h| h.to_string()).collect()
}

/// The numbers of `text` that count something else than in `evidence`: a number followed
/// by a word that never follows it there ("350 documents" from "350 boxes of documents").
pub fn changed_units(text: &str, evidence: &str) -> Vec<String> {
    let lower = |s: &str| raw_words(s).into_iter().map(|(_, w)| w.to_lowercase()).collect::<Vec<_>>();
    let (t, e) = (lower(text), lower(evidence));
    let number = |w: &str| w.chars().any(|c| c.is_ascii_digit());
    let word = |w: &str| w.chars().all(char::is_alphabetic);
    let mut out = Vec::new();
    for k in 0..t.len().saturating_sub(1) {
        let (n, unit) = (&t[k], &t[k + 1]);
        if !number(n) || !word(unit) {
            continue;
        }
        let units: Vec<&String> = (0..e.len().saturating_sub(1)).filter(|&j| e[j] == *n).map(|j| &e[j + 1]).collect();
        if !units.is_empty() && units.iter().all(|u| word(u) && *u != unit) {
            out.push(format!("{n} {unit}"));
        }
    }
    out
}

/// Whether two points say nearly the same: Jaccard similarity of their content-word sets
/// ≥ 0.6, or (with at least three content words in the smaller) ≥ 85% of the smaller's
/// words in the larger; words match when equal or sharing a long prefix. Points without
/// content words compare by their lower-cased words.
pub fn near_duplicate(a: &str, b: &str) -> bool {
    let sa: HashSet<String> = content_words(a).into_iter().collect();
    let sb: HashSet<String> = content_words(b).into_iter().collect();
    if sa.is_empty() || sb.is_empty() {
        let plain = |s: &str| raw_words(s).into_iter().map(|(_, w)| w.to_lowercase()).collect::<Vec<_>>();
        return plain(a) == plain(b);
    }
    let shared = |x: &HashSet<String>, y: &HashSet<String>| x.iter().filter(|w| y.iter().any(|v| close(w, v))).count();
    let inter = shared(&sa, &sb).min(shared(&sb, &sa));
    let union = sa.len() + sb.len() - inter;
    let small = sa.len().min(sb.len());
    inter * 10 >= union * 6 || (small >= 3 && inter * 20 >= small * 17)
}

/// `points` without near-duplicates, keeping the first of each group, in order.
pub fn dedup(points: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for p in points {
        if !kept.iter().any(|k| near_duplicate(k, &p)) {
            kept.push(p);
        }
    }
    kept
}

/// Whether `point` is (nearly) the whole `sentence` word for word: their longest common
/// word subsequence covers at least 80% of the words of each.
pub fn copies_sentence(point: &str, sentence: &str) -> bool {
    const CAP: usize = 600;
    let words = |s: &str| {
        raw_words(s).into_iter().take(CAP).map(|(_, w)| w.to_lowercase().replace('’', "'")).collect::<Vec<_>>()
    };
    let (p, s) = (words(point), words(sentence));
    if p.is_empty() || s.is_empty() {
        return false;
    }
    let mut row = vec![0usize; s.len() + 1];
    for pw in &p {
        let mut diag = 0;
        for (j, sw) in s.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if pw == sw { diag + 1 } else { above.max(row[j]) };
            diag = above;
        }
    }
    let lcs = row[s.len()];
    lcs * 5 >= p.len() * 4 && lcs * 5 >= s.len() * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn month_names_match_their_abbreviations() {
        let src = "Lawmakers were told on Oct. 4 during a hearing. Sept. 12 was quiet.";
        assert!(unsupported_terms("The hearing on October 4 was held.", src).is_empty());
        assert!(unsupported_terms("Nothing happened in September 12.", src).is_empty());
        assert_eq!(unsupported_terms("The hearing was on November 4.", src), vec!["November"]);
    }

    #[test]
    fn a_dropped_hedge_is_found() {
        let src = "The first trams are expected to carry passengers in 2029.";
        assert_eq!(dropped_hedges("The first trams will carry passengers in 2029.", src), ["expected"]);
        assert!(dropped_hedges("The first trams are expected to carry passengers.", src).is_empty());
    }

    #[test]
    fn a_number_keeps_what_it_counts() {
        let src = "By May, the staff had reviewed over 350 boxes of documents, including 12 reports.";
        assert_eq!(changed_units("The staff reviewed over 350 documents.", src), ["350 documents"]);
        assert!(changed_units("The staff reviewed 350 boxes of documents and 12 reports.", src).is_empty());
        assert!(changed_units("In May the staff reviewed 350 boxes.", src).is_empty());
    }

    #[test]
    fn novel_words_catch_changed_meaning_but_not_deletions() {
        let src = "The Steering Council accepts PEP 703, but with clear proviso: that the rollout be gradual.";
        assert!(novel_words("The Steering Council accepts PEP 703; the rollout must be gradual.", src).is_empty());
        assert_eq!(novel_words("The Steering Council rejects PEP 703.", src), ["rejects"]);
        assert_eq!(novel_words("The Steering Council does not accept PEP 703.", src), ["(negation)"]);
        assert_eq!(novel_words("The council accepts PEP 704.", src), ["704"]);
        let promise =
            "The council put the cost at 212 million euros, of which the government has promised 140 million.";
        assert!(novel_words("The government promised 140 million euros of the cost.", promise).is_empty());
        assert_eq!(novel_words("The government will pay 140 million euros.", promise), ["pay"]);
        assert_eq!(novel_words("The plan was approved.", "The plan was not approved by the board."), ["(negation)"]);
    }

    #[test]
    fn support_scores() {
        let s = "North Korea is seeking Russian aid for its nuclear weapons programs, lawmakers were told.";
        assert!(support("North Korea seeks Russian aid for nuclear weapons programs", s) >= 0.9);
        let partial = support("North Korea seeks Chinese aid for its satellites", s);
        assert!(partial > 0.3 && partial < 0.7, "{partial}");
        assert_eq!(support("North Korea is seeking Russian aid for its nuclear weapons programs", s), 1.0);
        let wrong = support("China sent 40 tanks to Taiwan", s);
        assert_eq!(wrong, 0.0);
        // Names and numbers weigh more than plain words.
        let a = support("Russia gave aid in 2023", "Russia gave aid.");
        let b = support("Russia gave aid yesterday", "Russia gave aid.");
        assert!(a < b, "{a} {b}");
        assert_eq!(support("", s), 0.0);
        assert_eq!(support("the of and", s), 0.0);
    }

    #[test]
    fn evidence_picks_best_and_adds_coverage() {
        let text = "Kim met Putin in Vostok. The summit covered satellites. Russia wants munitions for Ukraine.";
        let ss = crate::chunk::sentences(text);
        let (ev, all) = evidence("Kim met Putin and Russia wants munitions", text, &ss, 2);
        assert_eq!(ev.iter().map(|e| e.sentence).collect::<Vec<_>>(), [0, 2]); // a tie goes to the first
        assert!(all > ev[0].score && all > 0.8, "{all}");
        let (ev, all) = evidence("Kim met Putin and Russia wants munitions", text, &ss, 1);
        assert_eq!(ev.len(), 1);
        assert_eq!(all, ev[0].score);
        // A second sentence that adds nothing new is not taken.
        let (ev, _) = evidence("The summit covered satellites", text, &ss, 3);
        assert_eq!(ev.len(), 1);
        assert_eq!(evidence("Bananas are yellow", text, &ss, 2), (vec![], 0.0));
        assert_eq!(evidence("Kim", "", &[], 2), (vec![], 0.0));
    }

    #[test]
    fn evidence_on_the_example_article() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/article.txt");
        let text = std::fs::read_to_string(path).expect("examples/article.txt");
        let ss = crate::chunk::sentences(&text);
        let (ev, all) = evidence("Mayor Helen Okafor called the tram vote a turning point", &text, &ss, 2);
        assert!(text[ss[ev[0].sentence].clone()].starts_with("Mayor Helen Okafor"), "{ev:?}");
        assert!(all >= 0.7, "{all}");
        let (_, bad) = evidence("The council will build a nuclear-powered ferry across the ocean", &text, &ss, 2);
        assert!(bad < all);
        let missing = unsupported_terms("The tram was approved by Senator Okafor of Glasgow in 1999", &text);
        assert!(missing.iter().any(|t| t == "Senator"), "{missing:?}");
        assert!(missing.iter().any(|t| t == "Glasgow"), "{missing:?}");
        assert!(missing.iter().any(|t| t == "1999"), "{missing:?}");
        assert!(
            unsupported_terms("The council of Harrowgate voted 7 to 2 for a 14-kilometre tram line", &text).is_empty()
        );
    }

    #[test]
    fn unsupported_names_and_numbers() {
        let src = "The U.S. Senate met on Oct. 4, 2023. Growth was 3.5% among three states, said Victor Cha.";
        assert!(unsupported_terms("The US Senate met in 2023 with 3 states", src).is_empty());
        assert_eq!(
            unsupported_terms("Growth hit 4.5% as Joe Biden and Victor Chan spoke to NATO", src),
            ["4.5", "Joe Biden", "Chan", "NATO"]
        );
        assert_eq!(unsupported_terms("Five states met; Senate growth was 3.5 percent", src), ["Five"]);
        assert_eq!(unsupported_terms("Washington Post reporters agreed", src), ["Washington Post"]);
        assert!(unsupported_terms("Officials agreed", src).is_empty());
        assert_eq!(unsupported_terms("Victor Cha met Mr. Smith in the U.S. Congress", src), ["Smith", "Congress"]);
        assert!(unsupported_terms("", src).is_empty());
    }

    #[test]
    fn duplicates() {
        assert!(near_duplicate(
            "North Korea seeks Russian aid for weapons",
            "North Korea is seeking aid from Russia for its weapons"
        ));
        assert!(near_duplicate(
            "Cha warned US strategy would fail",
            "Mr. Cha warned that the current U.S. diplomatic strategy would likely fail to deter North Korea"
        ));
        assert!(!near_duplicate("Russia needs munitions", "China is building nuclear weapons"));
        assert!(near_duplicate("It is.", "it is"));
        let points = vec![
            "Kim met Putin at a summit".to_string(),
            "Russia needs ammunition".into(),
            "Putin met Kim at the summit".into(),
        ];
        assert_eq!(dedup(points), ["Kim met Putin at a summit", "Russia needs ammunition"]);
    }

    #[test]
    fn copied_sentences() {
        let s = "To that end, Mr. Cha warned that the current U.S. diplomatic strategy would likely fail to deter North Korea.";
        assert!(copies_sentence(s, s));
        assert!(copies_sentence(
            "Mr. Cha warned that the current U.S. diplomatic strategy would likely fail to deter North Korea",
            s
        ));
        assert!(!copies_sentence("Cha: U.S. strategy will fail", s));
        assert!(!copies_sentence("To that end, Mr. Cha warned", s));
        assert!(!copies_sentence("", s));
    }
}
