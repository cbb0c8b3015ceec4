//! Swapped attributions: a generated text that gives a name what the source says of
//! another name ("Mr. Kim's comments" where the source has "Mr. Cha's comments"; "the
//! United States is likely to receive" where it has "Kim Jong Un is likely to receive").
//! Every name in such a text may occur in the source, so the name check cannot see it.
//!
//! The rule, without a model: the words right after a name (its predicate: "'s comments",
//! "is likely to receive") are looked up in the source; if the source has them only after
//! other names, the text is flagged, and where it has them after exactly one other name,
//! the text can be repaired to that name. Pure text functions; must not touch files or
//! models.

use super::words::{is_stop, raw_words, stem, terms, Kind};
use std::collections::HashMap;

/// Words after a name that form its predicate.
const PREDICATE_WORDS: usize = 4;

/// A name run and the predicate words after it.
struct Claim {
    name: String,
    /// Bytes of the name in its text, and whether "the" comes right before it.
    at: std::ops::Range<usize>,
    article: bool,
    /// The last name word's normal form (what the source index is keyed against).
    head: String,
    /// Every name word's normal form: "Kim Jong Un" and "Mr. Kim" are one person.
    words: Vec<String>,
    /// Stemmed, lower-cased words after the name, and as written.
    predicate: Vec<String>,
    surface: Vec<String>,
}

/// The name runs of `s`, each with the lower-cased words after it; a possessive "'s" is a
/// word of its own, and the predicate stops at sentence punctuation.
fn claims(s: &str) -> Vec<Claim> {
    let raw = raw_words(s);
    let ts = terms(s);
    // Lower-cased words with possessives split off, and where each raw word starts in them.
    let mut words: Vec<String> = Vec::new();
    let mut surface: Vec<String> = Vec::new();
    let mut first: Vec<usize> = Vec::new();
    let mut breaks_after: Vec<bool> = Vec::new();
    let mut possessive: Vec<bool> = Vec::new();
    for (k, &(at, w)) in raw.iter().enumerate() {
        first.push(words.len());
        let next_at = raw.get(k + 1).map_or(s.len(), |n| n.0);
        let gap = &s[at + w.len()..next_at];
        let lower = w.to_lowercase().replace('’', "'");
        possessive.push(lower.ends_with("'s"));
        match lower.strip_suffix("'s") {
            Some(owner) => {
                words.push(stem(owner));
                // The apostrophe is the second char from the end ("’s" or "'s").
                let cut = w.char_indices().rev().nth(1).map_or(w.len(), |(i, _)| i);
                surface.push(w[..cut].to_string());
                breaks_after.push(false);
                words.push("'s".into());
                surface.push(w[cut..].to_string());
            }
            None => {
                words.push(stem(&lower));
                surface.push(w.to_string());
            }
        }
        breaks_after.push(gap.contains(['.', ';', ':', ',', '!', '?', '"', '“', '”', '(', ')']));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < ts.len() {
        if ts[i].kind != Kind::Name {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        // A possessive ends the run: "Korea's Nuclear Program" is two things.
        while j < ts.len() && ts[j].kind == Kind::Name && !ts[j].sentence_start && !possessive[j - 1] {
            j += 1;
        }
        // Predicate: the words after the run's last word (its "'s" included), up to a break.
        let last = first[j - 1];
        let mut w = last + 1;
        while w < words.len() && w - last - 1 < PREDICATE_WORDS && !breaks_after[w - 1] {
            w += 1;
        }
        let name = ts[i..j].iter().map(|t| t.surface).collect::<Vec<_>>().join(" ");
        let (predicate, surface) = (words[last + 1..w].to_vec(), surface[last + 1..w].to_vec());
        let at = raw[i].0..raw[j - 1].0 + ts[j - 1].surface.len();
        let article = s[..at.start].len() >= 4
            && s.is_char_boundary(at.start - 4)
            && s[at.start - 4..at.start].eq_ignore_ascii_case("the ");
        let words = ts[i..j].iter().map(|t| t.norm.clone()).collect();
        out.push(Claim { name, at, article, head: ts[j - 1].norm.clone(), words, predicate, surface });
        i = j;
    }
    out
}

/// A name in a text given words that the source says of other names.
struct Swap {
    /// "NAME PREDICATE (the source: OTHER PREDICATE)".
    flag: String,
    at: std::ops::Range<usize>,
    article: bool,
    /// The one other name the source says it of (as written there, and whether "the"
    /// comes before it), if there is exactly one.
    other: Option<(String, bool)>,
}

/// The claims of a source, indexed by predicate: built once per document, then asked about
/// any number of generated texts.
pub struct SourceClaims {
    claims: Vec<Claim>,
    /// Predicate (every prefix of one) → the claims that make it.
    said_of: HashMap<Vec<String>, Vec<usize>>,
}

impl SourceClaims {
    pub fn new(source: &str) -> SourceClaims {
        let claims = claims(source);
        let mut said_of: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
        for (i, c) in claims.iter().enumerate() {
            for n in 1..=c.predicate.len() {
                said_of.entry(c.predicate[..n].to_vec()).or_default().push(i);
            }
        }
        SourceClaims { claims, said_of }
    }

    fn swaps(&self, text: &str) -> Vec<Swap> {
        let mut out = Vec::new();
        for c in claims(text) {
            // The longest predicate the source has, of two words or more ("'s" and its noun),
            // one of them a content word: enough to be a statement about the name.
            let found = (2..=c.predicate.len()).rev().find_map(|n| {
                let key = &c.predicate[..n];
                let content = key.iter().any(|w| w != "'s" && !is_stop(w));
                self.said_of.get(key).filter(|_| content).map(|names| (n, names))
            });
            let Some((n, others)) = found else { continue };
            let others: Vec<&Claim> = others.iter().map(|&i| &self.claims[i]).collect();
            if others.iter().any(|o| o.head == c.head || c.words.contains(&o.head) || o.words.contains(&c.head)) {
                continue;
            }
            let first = others[0];
            let flag = format!(
                "{} (the source: {})",
                phrase(&c.name, &c.surface[..n]),
                phrase(&first.name, &first.surface[..n])
            );
            let unique = others.iter().all(|o| o.head == first.head);
            let other = unique.then(|| (first.name.clone(), first.article));
            out.push(Swap { flag, at: c.at, article: c.article, other });
        }
        out
    }

    /// Claims of `text` whose predicate the source states only of other names, as
    /// "NAME PREDICATE (the source: OTHER PREDICATE)".
    pub fn swapped(&self, text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self.swaps(text) {
            if !out.contains(&s.flag) {
                out.push(s.flag);
            }
        }
        out
    }

    /// `text` with each swapped name replaced by the one name the source says those words
    /// of ("Mr. Kim's comments follow" → "Mr. Cha's comments follow"), and the flags of the
    /// swaps it repaired. A swap whose words the source says of several names is left alone.
    pub fn repair(&self, text: &str) -> (String, Vec<String>) {
        let mut out = text.to_string();
        let mut fixed = Vec::new();
        // From the end, so that earlier byte ranges stay valid.
        for s in self.swaps(text).into_iter().rev() {
            let Some((name, article)) = s.other else { continue };
            let mut start = s.at.start;
            if s.article && !article {
                start -= "the ".len();
            }
            out.replace_range(start..s.at.end, &name);
            fixed.push(s.flag);
        }
        fixed.reverse();
        (out, fixed)
    }
}

/// [`SourceClaims::swapped`] for one text (indexes the source on each call).
pub fn swapped_attributions(text: &str, source: &str) -> Vec<String> {
    SourceClaims::new(source).swapped(text)
}

/// [`SourceClaims::repair`] for one text (indexes the source on each call).
pub fn repair_attributions(text: &str, source: &str) -> (String, Vec<String>) {
    SourceClaims::new(source).repair(text)
}

/// A name and its predicate's words, a possessive ending attached to the name.
fn phrase(name: &str, words: &[String]) -> String {
    let mut out = name.to_string();
    for w in words {
        if !w.starts_with(['\'', '’']) {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Victor Cha said that Kim Jong Un is likely to receive support from Russia. \
        Mr. Cha's comments follow the summit between Mr. Kim and Russian President Vladimir Putin. \
        North Korea is likely to use the opportunity, he said.";

    #[test]
    fn flags_a_possessive_given_to_another_name() {
        let f = swapped_attributions("Mr. Kim's comments follow the summit.", SOURCE);
        assert_eq!(f, vec!["Kim's comments follow the (the source: Cha's comments follow the)"]);
        // Word forms and curly quotes do not hide the swap.
        let f = swapped_attributions("Mr. Kim’s comments following the summit.", SOURCE);
        assert_eq!(f, vec!["Kim’s comments following the (the source: Cha's comments follow the)"]);
        assert!(swapped_attributions("Mr. Cha's comments follow the summit.", SOURCE).is_empty());
        // A fuller form of the same person's name is the same person.
        assert!(swapped_attributions("Victor Cha's comments follow the summit.", SOURCE).is_empty());
        assert!(
            swapped_attributions("It was between Kim Jong Un and Russian President Vladimir Putin.", SOURCE).is_empty()
        );
    }

    #[test]
    fn flags_a_predicate_given_to_another_name() {
        let f = swapped_attributions(
            "North Korea is seeking aid, and the United States is likely to receive support.",
            SOURCE,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].starts_with("United States is likely to"), "{f:?}");
        assert!(f[0].contains("Kim Jong Un is likely to"), "{f:?}");
        // The same predicate of the right name, or words the source never says of anyone, pass.
        assert!(swapped_attributions("North Korea is likely to use it.", SOURCE).is_empty());
        assert!(swapped_attributions("Kim Jong Un is likely to receive help.", SOURCE).is_empty());
        assert!(swapped_attributions("Japan is watching closely.", SOURCE).is_empty());
    }

    #[test]
    fn repairs_a_swap_the_source_settles() {
        let (text, fixed) = repair_attributions("Mr. Kim's comments follow the summit.", SOURCE);
        assert_eq!(text, "Mr. Cha's comments follow the summit.");
        assert_eq!(fixed.len(), 1);
        let (text, _) =
            repair_attributions("North Korea seeks aid, and the United States is likely to receive support.", SOURCE);
        assert_eq!(text, "North Korea seeks aid, and Kim Jong Un is likely to receive support.");
        // "is likely to" alone: the source says it of two names, so nothing is repaired.
        let (text, fixed) = repair_attributions("Japan is likely to win.", SOURCE);
        assert_eq!((text.as_str(), fixed.len()), ("Japan is likely to win.", 0));
    }
}
