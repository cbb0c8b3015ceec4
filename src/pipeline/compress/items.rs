//! A sentence that lists what something includes, said one item at a time: "The
//! challenges included (1) A, (2) B, and (3) C." gives "The challenges included A.", "…
//! included B." and "… included C."; "…, including A, B, and C." likewise. Each is true of
//! the source (an inclusive list names some of what it is about), and each is a point the
//! selection may choose where the whole sentence is too long to say.

use super::lexicon::{is_enumerator, lower};
use super::units::{clauses, example_list};

/// Words that end the head of a list whose items may be said one at a time.
const INCLUSIVE: &[&str] = &["include", "includes", "included", "including", "as", "e.g.", "especially", "notably"];

/// The sentence once per item of its inclusive list (none if it has no such list of two
/// items or more).
pub(crate) fn item_sentences(sentence: &str) -> Vec<String> {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let (head, items) = match numbered(&words).or_else(|| examples(&words)) {
        Some(x) => x,
        None => return Vec::new(),
    };
    if items.len() < 2 || head.is_empty() || !INCLUSIVE.contains(&lower(words[head.end - 1]).as_str()) {
        return Vec::new();
    }
    let head = words[head].join(" ");
    items
        .into_iter()
        .map(|r| {
            let item = words[r].join(" ");
            let item = item.trim_end_matches([',', ';', ':', '.', ' ']);
            let item = item.strip_prefix("and ").or_else(|| item.strip_prefix("or ")).unwrap_or(item);
            format!("{} {item}.", head.trim_end_matches([',', ':']))
        })
        .collect()
}

/// "X included (1) A, (2) B, and (3) C": the head's words and each item's, without its number.
fn numbered(words: &[&str]) -> Option<(std::ops::Range<usize>, Vec<std::ops::Range<usize>>)> {
    let marks: Vec<usize> = (0..words.len()).filter(|&i| is_enumerator(words[i])).collect();
    let first = *marks.first()?;
    let mut items = Vec::new();
    for (k, &m) in marks.iter().enumerate() {
        let mut end = marks.get(k + 1).copied().unwrap_or(words.len());
        // "…, and (3)": the conjunction before the next number belongs to no item.
        if end > m + 1 && matches!(lower(words[end - 1]).as_str(), "and" | "or") {
            end -= 1;
        }
        if end <= m + 1 {
            return None;
        }
        items.push(m + 1..end);
    }
    Some((0..first, items))
}

/// "X, including A, B, and C.": the head through its opener, and each item.
fn examples(words: &[&str]) -> Option<(std::ops::Range<usize>, Vec<std::ops::Range<usize>>)> {
    let cl = clauses(words);
    let starts = example_list(words, &cl)?;
    let mut items = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        items.push(s..starts.get(k + 1).copied().unwrap_or(words.len()));
    }
    Some((0..starts[0], items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inclusive_list_is_said_one_item_at_a_time() {
        let s = "Other challenges included (1) developing agreements on the use of shared information, \
                 (2) obtaining adequate funding, and (3) retaining a membership base.";
        assert_eq!(
            item_sentences(s),
            [
                "Other challenges included developing agreements on the use of shared information.",
                "Other challenges included obtaining adequate funding.",
                "Other challenges included retaining a membership base."
            ]
        );
        let s = "Researchers use many techniques, including search, formal logic, and neural networks.";
        assert_eq!(
            item_sentences(s),
            [
                "Researchers use many techniques, including search.",
                "Researchers use many techniques, including formal logic.",
                "Researchers use many techniques, including neural networks."
            ]
        );
    }

    #[test]
    fn a_list_that_is_not_inclusive_stays_whole() {
        // "were" says what all of them were: one item alone would say less than the source.
        let s = "The three factors were (1) trust, (2) secure communication, and (3) management support.";
        assert!(item_sentences(s).is_empty());
        assert!(item_sentences("The board met twice.").is_empty());
    }
}
