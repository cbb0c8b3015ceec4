//! Swapped attributions: a generated text that gives a name what the source says of
//! another name ("Mr. Kim's comments" where the source has "Mr. Cha's comments"; "the
//! United States is likely to receive" where it has "Kim Jong Un is likely to receive").
//! Every name in such a text may occur in the source, so the name check cannot see it.
//!
//! The rule, without a model: the words right after a name (its predicate: "'s comments",
//! "is likely to") are looked up in the source; if the source has them only after other
//! names, the text is flagged. Pure text functions; must not touch files or models.

use super::words::{is_stop, raw_words, stem, terms, Kind};
use std::collections::HashMap;

/// Words after a name that form its predicate.
const PREDICATE_WORDS: usize = 3;

/// A name run and the predicate words after it.
struct Claim {
    name: String,
    /// The last name word's normal form (what the source index is keyed against).
    head: String,
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
        out.push(Claim { name, head: ts[j - 1].norm.clone(), predicate, surface });
        i = j;
    }
    out
}

/// Claims of `text` whose predicate the source states only of other names, as
/// "NAME PREDICATE (the source: OTHER PREDICATE)".
pub fn swapped_attributions(text: &str, source: &str) -> Vec<String> {
    // Predicate → (head, the name and predicate as the source has them).
    let mut said_of: HashMap<Vec<String>, Vec<(String, String)>> = HashMap::new();
    for c in claims(source) {
        for n in 1..=c.predicate.len() {
            let said = (c.head.clone(), phrase(&c.name, &c.surface[..n]));
            said_of.entry(c.predicate[..n].to_vec()).or_default().push(said);
        }
    }
    let mut out = Vec::new();
    for c in claims(text) {
        // The longest predicate the source has, of two words or more ("'s" and its noun),
        // one of them a content word: enough to be a statement about the name.
        let found = (2..=c.predicate.len()).rev().find_map(|n| {
            let key = &c.predicate[..n];
            let content = key.iter().any(|w| w != "'s" && !is_stop(w));
            said_of.get(key).filter(|_| content).map(|names| (n, names))
        });
        let Some((n, names)) = found else { continue };
        if names.iter().any(|(head, _)| *head == c.head) {
            continue;
        }
        let flag = format!("{} (the source: {})", phrase(&c.name, &c.surface[..n]), names[0].1);
        if !out.contains(&flag) {
            out.push(flag);
        }
    }
    out
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
        assert_eq!(f, vec!["Kim's comments follow (the source: Cha's comments follow)"]);
        // Word forms and curly quotes do not hide the swap.
        let f = swapped_attributions("Mr. Kim’s comments following the summit.", SOURCE);
        assert_eq!(f, vec!["Kim’s comments following (the source: Cha's comments follow)"]);
        assert!(swapped_attributions("Mr. Cha's comments follow the summit.", SOURCE).is_empty());
    }

    #[test]
    fn flags_a_predicate_given_to_another_name() {
        let f = swapped_attributions("North Korea is seeking aid, and the United States is likely to receive support.", SOURCE);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].starts_with("United States is likely to"), "{f:?}");
        assert!(f[0].contains("Kim Jong Un is likely to"), "{f:?}");
        // The same predicate of the right name, or words the source never says of anyone, pass.
        assert!(swapped_attributions("North Korea is likely to use it.", SOURCE).is_empty());
        assert!(swapped_attributions("Kim Jong Un is likely to receive help.", SOURCE).is_empty());
        assert!(swapped_attributions("Japan is watching closely.", SOURCE).is_empty());
    }
}
