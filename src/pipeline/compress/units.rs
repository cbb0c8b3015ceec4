//! The units of a sentence that compression may delete: its clauses, and among them the
//! bracketed and comma- or dash-bounded asides, the scene-setting openings and the tails
//! that only add to a whole clause; and what a unit may not leave behind (a list without
//! its last item, half of a pair, a coordination left open).

use super::lexicon::{
    ends_clause, ends_dash, is_auxiliary, is_enumerator, lower, open_conjunction, opens_with_subject, participle,
    ASIDE_OPENERS, LEADING, NOT_A_VERB, PREPOSITIONS, SUBJECT_OPENERS,
};
use std::ops::Range;

/// Most deletable asides tried together (the search is over their subsets).
const MAX_UNITS: usize = 9;

/// Bracketed asides, as word ranges: `(GAO)`, `(3.4 million hectares)`.
fn asides(words: &[&str]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let close = match words[i].chars().next() {
            // "(1)", "(b)", "(ii)" number a list: they stay with their items.
            Some('(') if !is_enumerator(words[i]) => ')',
            Some('[') => ']',
            _ => {
                i += 1;
                continue;
            }
        };
        match (i..words.len().min(i + 16)).find(|&j| words[j].contains(close)) {
            Some(j) if i > 0 => {
                out.push(i..j + 1);
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether clause `k` is another name put between commas inside a phrase: "computer-based,
/// or cyber, attacks" (a short "or …," that the phrase goes on after).
fn alternative(words: &[&str], cl: &[Range<usize>], k: usize) -> bool {
    let Some(next) = cl.get(k + 1) else { return false };
    let this = &cl[k];
    let first = lower(words[this.start]);
    let after = lower(words[next.start]);
    first == "or"
        && this.len() <= 3
        && words[this.end - 1].ends_with(',')
        && k >= 1
        && words[cl[k - 1].end - 1].ends_with(',')
        && words[next.start].chars().next().is_some_and(char::is_lowercase)
        && !SUBJECT_OPENERS.contains(&after.as_str())
        && !LEADING.contains(&after.as_str())
        && !ASIDE_OPENERS.contains(&after.as_str())
}

/// The clauses of a sentence, as ranges of its words (a bracketed aside never splits).
pub(super) fn clauses(words: &[&str]) -> Vec<Range<usize>> {
    let mut inside = vec![false; words.len()];
    for r in asides(words) {
        inside[r.start..r.end - 1].iter_mut().for_each(|x| *x = true);
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, w) in words.iter().enumerate() {
        if ends_clause(w) && !inside[i] && i + 1 < words.len() {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out.push(start..words.len());
    out
}

/// Whether a sentence opens with a scene-setting clause: a preposition ("At the
/// laboratory, …") or a participle ("Based upon the evidence, …"; the first word's capital
/// aside).
pub(super) fn opens_scene(words: &[&str]) -> bool {
    let Some(w) = words.first() else { return false };
    PREPOSITIONS.contains(&lower(w).as_str()) || participle(&lower(w))
}

/// The clause (index into `cl`) where the main clause starts after a scene-setting
/// opening: the first after a comma or dash that opens with its subject ("Montana," in "At
/// the laboratory in Missoula, Montana, researchers …" is no subject); none if no clause
/// does.
pub(super) fn main_clause(words: &[&str], cl: &[Range<usize>]) -> Option<usize> {
    (1..cl.len()).find(|&k| {
        let (before, next) = (&cl[k - 1], &cl[k]);
        let mark = words[before.end - 1].ends_with(',') || ends_dash(words[before.end - 1]);
        mark && next.len() > 2
            && opens_with_subject(words[next.start])
            && !LEADING.contains(&lower(words[next.start]).as_str())
    })
}

/// Words that open a list of examples: "…, including A, B, and C." Such a list names some
/// of what it is about, so it may lose items from its end and stay true.
const EXAMPLE_OPENERS: &[&str] = &["including", "such as", "e.g.", "especially", "particularly", "notably"];

/// A list of examples that ends the sentence: the first word of each item, the first
/// item's after its opener ("including"). A list runs over clauses that end with commas
/// from its opener to a last item that opens with "and" or "or" and ends the sentence.
pub(super) fn example_list(words: &[&str], cl: &[Range<usize>]) -> Option<Vec<usize>> {
    let last = |r: &Range<usize>| words[r.end - 1];
    let k0 = (1..cl.len().saturating_sub(1)).find(|&k| {
        let before = last(&cl[k - 1]);
        (before.ends_with(',') || ends_dash(before))
            && EXAMPLE_OPENERS.iter().any(|o| {
                let o: Vec<&str> = o.split(' ').collect();
                cl[k].len() > o.len() && (0..o.len()).all(|j| lower(words[cl[k].start + j]) == o[j])
            })
    })?;
    // Its items end with commas, its last opens with "and" or "or" and ends the sentence.
    let closing = |r: &Range<usize>| matches!(lower(words[r.start]).as_str(), "and" | "or");
    let (end, body) = cl[k0..].split_last()?;
    let numbered = words[cl[k0].start..].iter().any(|w| is_enumerator(w));
    if numbered || !closing(end) || !body.iter().all(|r| last(r).ends_with(',')) {
        return None;
    }
    let opener = if lower(words[cl[k0].start]) == "such" { 2 } else { 1 };
    let mut items = vec![cl[k0].start + opener];
    items.extend(cl[k0 + 1..].iter().map(|r| r.start));
    Some(items)
}

/// Where a list of examples cut before item `at` (a word index) is mended: the word that
/// ends the next-to-last kept item, whose comma becomes " and" ("A, B, C, and D" cut
/// before C reads "A and B"). None where one item is left or the last kept opens with
/// "and" or "or".
pub(super) fn list_mend(words: &[&str], items: &[usize], at: usize) -> Option<usize> {
    let j = items.iter().position(|&s| s == at)?;
    if j < 2 || matches!(lower(words[items[j - 1]]).as_str(), "and" | "or") {
        return None;
    }
    Some(items[j - 1] - 1)
}

/// What may be deleted from a sentence, as word ranges: asides (each on its own or with
/// the others), openings (at most one), tails (at most one).
pub(super) struct Units {
    pub(super) asides: Vec<Range<usize>>,
    pub(super) openings: Vec<Range<usize>>,
    pub(super) tails: Vec<Range<usize>>,
}

pub(super) fn units(words: &[&str]) -> Units {
    let n = words.len();
    let mut aside = asides(words);
    let cl = clauses(words);
    let first = |r: &Range<usize>| lower(words[r.start]);
    let last = |r: &Range<usize>| words[r.end - 1];
    let list = example_list(words, &cl);
    // The clause that opens a list of examples is no aside: the items after it would be left.
    let list_opener = list.as_ref().and_then(|items| cl.iter().position(|r| r.contains(&items[0])));
    for k in 1..cl.len().saturating_sub(1) {
        if Some(k) == list_opener {
            continue;
        }
        let bracketed = (last(&cl[k - 1]).ends_with(',') && last(&cl[k]).ends_with(','))
            || (ends_dash(last(&cl[k - 1])) && ends_dash(last(&cl[k])));
        // A participle's aside goes only where the main clause goes on after it ("…, measured
        // a week later, was 80 times higher"), not where another aside follows ("…,
        // destroying 8.4 million acres, more than double …").
        let goes_on = {
            let next = words[cl[k + 1].start];
            let l = lower(next);
            next.chars().next().is_some_and(char::is_lowercase)
                && !SUBJECT_OPENERS.contains(&l.as_str())
                && !LEADING.contains(&l.as_str())
                && !NOT_A_VERB.contains(&l.as_str())
        };
        // A relative aside goes where the sentence goes on after it, not where only a
        // modifier is left ("…, which he thinks is because of X, not off vegetation").
        let relative = ASIDE_OPENERS.contains(&first(&cl[k]).as_str())
            && !NOT_A_VERB.contains(&lower(words[cl[k + 1].start]).as_str());
        // An apposition: "The time to first infection, the primary end point, was similar".
        let apposition = matches!(first(&cl[k]).as_str(), "the" | "a" | "an");
        // …and only between a subject and its verb: after a whole clause ("Forums are held
        // three times a year, allowing …, make …") what follows is the aside's own list.
        let subject_only = !words[..cl[k].start].iter().any(|w| is_auxiliary(w));
        // What interrupts a coordination ("and, with various permutations, in …") is an aside.
        let interrupts = open_conjunction(last(&cl[k - 1])) && last(&cl[k]).ends_with(',');
        if interrupts
            || alternative(words, &cl, k)
            || bracketed && (relative || ((participle(words[cl[k].start]) || apposition) && goes_on && subject_only))
        {
            aside.push(cl[k].clone());
        }
    }
    aside.truncate(MAX_UNITS);
    // A scene-setting opening: the clauses before one that opens with its subject.
    let scene = opens_scene(words);
    let main = if scene { main_clause(words, &cl) } else { Some(0) };
    let mut openings = Vec::new();
    for k in 0..if scene { cl.len().saturating_sub(1) } else { 0 } {
        if !last(&cl[k]).ends_with(',') && !ends_dash(last(&cl[k])) {
            break;
        }
        // "Montana," in "At the laboratory in Missoula, Montana, researchers …" is no subject.
        let next = &cl[k + 1];
        if next.len() > 2 && opens_with_subject(words[next.start]) && !LEADING.contains(&first(next).as_str()) {
            openings.push(0..cl[k].end);
        }
    }
    // A tail after a clause boundary, unless what is left ends in an aside that needs the
    // rest ("The goal of the project, named X."; an "-ing" clause may end it) or is only a scene-setting opening ("At the laboratory in
    // Missoula.").
    let mut tails = Vec::new();
    for k in 1..cl.len() {
        let before = &cl[k - 1];
        let in_aside = k >= 2
            && last(&cl[k - 2]).ends_with(',')
            && (ASIDE_OPENERS.contains(&first(before).as_str())
                || (participle(words[before.start]) && lower(words[before.start]).ends_with("ed")));
        // (Where no clause opens with its subject, the opening is taken to be the first.)
        let only_scene = k <= main.unwrap_or(1);
        // What goes must be an addition to a whole clause ("and …", "which …", "more
        // than …", "destroying …", after a dash or semicolon), not the main clause's rest
        // ("…, Montana, researchers have created …").
        let opener = first(&cl[k]);
        // After "— an aside —" the main clause goes on ("helicopters — including X — could
        // benefit"): what follows the closing dash is no addition.
        let closes_dash_pair = ends_dash(last(before)) && k >= 2 && ends_dash(last(&cl[k - 2]));
        let addition = [LEADING, ASIDE_OPENERS, NOT_A_VERB, PREPOSITIONS].iter().any(|l| l.contains(&opener.as_str()))
            || participle(words[cl[k].start])
            || (!last(before).ends_with(',') && !closes_dash_pair);
        // "A, B, and C": the last item of a list is no addition; cutting it leaves "A, B."
        let last_item = matches!(opener.as_str(), "and" | "or")
            && k >= 2
            && last(&cl[k - 2]).ends_with(',')
            && last(before).ends_with(',');
        // Nor the second half of a pair: "either A or B", "not only A but B".
        let kept: Vec<String> = words[..cl[k].start].iter().map(|w| lower(w)).collect();
        let gone: Vec<String> = words[cl[k].start..].iter().map(|w| lower(w)).collect();
        let has = |ws: &[String], w: &str| ws.iter().any(|x| x == w);
        let not_only = kept.windows(2).any(|p| p[0] == "not" && p[1] == "only");
        let paired = (has(&kept, "either") && has(&gone, "or")) || (not_only && has(&gone, "but"));
        // Nor may "(1) …" stay while "(2) …" goes.
        let numbered = words[..cl[k].start].iter().any(|w| is_enumerator(w))
            && words[cl[k].start..].iter().any(|w| is_enumerator(w));
        // Nor may an aside after "and," stay without what it interrupts ("used in Canada
        // and, with various permutations, in many other countries").
        let interrupted = open_conjunction(last(before)) || (k >= 2 && open_conjunction(last(&cl[k - 2])));
        if !in_aside
            && !only_scene
            && addition
            && !last_item
            && !numbered
            && !interrupted
            && !paired
            && !alternative(words, &cl, k)
        {
            tails.push(cl[k].start..n);
        }
    }
    // A list of examples may lose items from its end: "including A, B, and C" → "including A and B".
    for &at in list.iter().flatten().skip(1) {
        if !tails.iter().any(|t| t.start == at) {
            tails.push(at..n);
        }
    }
    Units { asides: aside, openings, tails }
}
