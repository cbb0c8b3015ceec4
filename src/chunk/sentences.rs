//! The sentence splitter: rule-based sentence boundaries over clean text.
//!
//! Owns: abbreviation, initial and acronym lists; quote/bracket and line-break rules. Pure;
//! must not touch chunking, tokens, files or models.

use std::ops::Range;

/// Titles after which a full stop never ends a sentence.
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "mx", "dr", "prof", "st", "gen", "sen", "rep", "gov", "lt", "col", "capt",
    "sgt", "rev", "hon", "pres", "supt", "messrs", "mme", "mlle", "fr", "cmdr", "adm", "maj",
    "brig", "cpl", "pvt", "amb", "atty", "vs", "v", "e.g", "i.e", "cf", "viz", "approx", "ca",
];
/// Abbreviations that end a sentence only before a capitalised word.
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no",
    "nos", "vol", "vols", "fig", "figs", "p", "pp", "ch", "sec", "art", "op", "ed", "eds", "est",
    "inc", "ltd", "co", "corp", "dept", "univ", "assn", "bros", "etc", "al", "jr", "sr", "mt", "ft",
    "ave", "blvd", "rd", "min", "max",
];
/// Words that usually start a sentence: after an initial or a dotted acronym ("U.S.") they
/// make the full stop a sentence end.
#[rustfmt::skip]
const STARTERS: &[&str] = &[
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "You", "But", "And", "So", "Yet", "In",
    "On", "At", "As", "This", "That", "These", "Those", "There", "Then", "When", "While", "After",
    "Before", "However", "Meanwhile", "Some", "Many", "Most", "His", "Her", "Its", "Their", "Our",
    "If", "For", "What", "Why", "How", "Who", "Where", "Still", "Now",
];

pub(super) fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？' | '‼' | '⁇' | '⁈' | '⁉')
}
pub(super) fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '}' | '»' | '›')
}
fn is_opener(c: char) -> bool {
    "\"'“‘”’([{«‹¡¿*_".contains(c)
}

/// Splits `text` into sentences: byte ranges without surrounding whitespace, covering every
/// non-whitespace byte exactly once, in order.
///
/// A full stop, `!`, `?` or ellipsis (with any closing quotes or brackets after it) ends a
/// sentence unless the next word starts in lower case, or the stop follows a title ("Mr.",
/// "Dr."), an abbreviation before a number ("Oct. 4", "No. 5"), an initial ("J. R. R.") or a
/// dotted acronym ("U.S.") not followed by a typical sentence opener. A stop with no space
/// after it ends a sentence only between a lower-case word and a capitalised one
/// ("Ukraine.It's"). Blank lines always end a sentence, and so does a line break, unless the
/// line ends in a letter, digit or comma and the next line starts in lower case (a wrapped
/// line).
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(i, _)| i);
    let mut bounds = Vec::new();
    let mut k = 0;
    while k < n {
        let c = chars[k].1;
        if c == '\n' {
            let mut j = k;
            let mut newlines = 0;
            while j < n && chars[j].1.is_whitespace() {
                newlines += usize::from(chars[j].1 == '\n');
                j += 1;
            }
            if newlines >= 2 || !wrapped_line(text, at(k), chars.get(j).map(|&(_, c)| c)) {
                bounds.push(at(k));
            }
            k = j;
        } else if is_terminal(c) {
            let mut j = k;
            while j < n && is_terminal(chars[j].1) {
                j += 1;
            }
            let single_stop = j == k + 1 && c == '.';
            while j < n && is_closer(chars[j].1) {
                j += 1;
            }
            if ends_sentence(text, at(k), at(j), single_stop) {
                bounds.push(at(j));
            }
            k = j;
        } else {
            k += 1;
        }
    }
    bounds.push(text.len());
    let mut out = Vec::new();
    let mut prev = 0;
    for b in bounds {
        let seg = &text[prev..b];
        let lead = seg.len() - seg.trim_start().len();
        let trimmed = seg.trim();
        if !trimmed.is_empty() {
            out.push(prev + lead..prev + lead + trimmed.len());
        }
        prev = b;
    }
    out
}

/// Whether the line ending at `nl` continues on the next line (which starts with `next`).
fn wrapped_line(text: &str, nl: usize, next: Option<char>) -> bool {
    let last = text[..nl].trim_end().chars().next_back();
    next.is_some_and(char::is_lowercase) && last.is_some_and(|c| c.is_alphanumeric() || c == ',')
}

/// Decides whether the terminal run at `stop` (ending, with closers, at `after`) ends a
/// sentence.
fn ends_sentence(text: &str, stop: usize, after: usize, single_stop: bool) -> bool {
    // The word before the stop (looking back a bounded distance, for speed on odd input).
    let mut from = stop.saturating_sub(64);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = &text[from..stop];
    let word_start =
        before.rfind(char::is_whitespace).map_or(0, |i| i + before[i..].chars().next().map_or(1, char::len_utf8));
    let word = before[word_start..].trim_start_matches(|c: char| !c.is_alphanumeric());
    let rest = &text[after..];
    let Some(first) = rest.chars().next() else {
        return true;
    };
    if !first.is_whitespace() {
        // No space: "Ukraine.It's", "Korea.“The" end a sentence; "3.5", "U.S." do not.
        let next: String = rest.chars().skip_while(|&c| is_opener(c)).take(2).collect();
        let mut nc = next.chars();
        let lower_word = word.chars().count() >= 2
            && word.chars().all(char::is_alphabetic)
            && word.chars().next_back().is_some_and(char::is_lowercase);
        return lower_word
            && nc.next().is_some_and(char::is_uppercase)
            && (nc.next().is_some_and(char::is_lowercase) || rest.starts_with(is_opener));
    }
    let gap = rest.len() - rest.trim_start().len();
    if rest[..gap].contains('\n') {
        return true;
    }
    let next_word: &str = rest[gap..]
        .trim_start_matches(is_opener)
        .split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '.'))
        .next()
        .unwrap_or("");
    let Some(nc) = next_word.chars().next() else {
        return true;
    };
    if nc.is_lowercase() {
        return false;
    }
    if !single_stop {
        return true;
    }
    let lower = word.to_lowercase();
    if TITLES.contains(&lower.as_str()) {
        return false;
    }
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return !nc.is_numeric();
    }
    let initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
    let acronym = word.contains('.') && word.chars().all(|c| c == '.' || c.is_alphabetic());
    if initial || acronym {
        return STARTERS.contains(&next_word.trim_end_matches('.'));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn abbreviations_initials_decimals() {
        assert_eq!(
            split("U.S. lawmakers were told on Oct. 4 about it. Mr. Cha and Dr. Smith agreed. No. 5 was next."),
            ["U.S. lawmakers were told on Oct. 4 about it.", "Mr. Cha and Dr. Smith agreed.", "No. 5 was next."]
        );
        assert_eq!(
            split("J. R. R. Tolkien wrote it. Growth was 3.5 percent, i.e. slow. It rose to $1.2 billion."),
            ["J. R. R. Tolkien wrote it.", "Growth was 3.5 percent, i.e. slow.", "It rose to $1.2 billion."]
        );
        assert_eq!(split("He moved to the U.S. The move was hard."), ["He moved to the U.S.", "The move was hard."]);
        assert_eq!(
            split("Apple Inc. said so. Prices rose etc. and fell."),
            ["Apple Inc. said so.", "Prices rose etc. and fell."]
        );
        assert_eq!(split("George W. Bush spoke at 5 p.m. Friday."), ["George W. Bush spoke at 5 p.m. Friday."]);
    }

    #[test]
    fn ellipses_quotes_and_brackets() {
        assert_eq!(split("Wait... what? Then... Nothing."), ["Wait... what?", "Then...", "Nothing."]);
        assert_eq!(split("Wait\u{2026} Then it came."), ["Wait\u{2026}", "Then it came."]);
        assert_eq!(
            split("\"It is over,\" he said.\u{201d} Next came the vote. (It passed.) Done!"),
            ["\"It is over,\" he said.\u{201d}", "Next came the vote.", "(It passed.)", "Done!"]
        );
        assert_eq!(
            split("\u{201c}Why?\u{201d} he asked. \u{201d}Fine.\u{201d}"),
            ["\u{201c}Why?\u{201d} he asked.", "\u{201d}Fine.\u{201d}"]
        );
        assert_eq!(
            split("war in Ukraine.It\u{2019}s widely believed. Korea.\u{201c}The war"),
            ["war in Ukraine.", "It\u{2019}s widely believed.", "Korea.", "\u{201c}The war"]
        );
    }

    #[test]
    fn lines_and_paragraphs() {
        assert_eq!(
            split("Headline Here\nBody text. More.\n\nNext para"),
            ["Headline Here", "Body text.", "More.", "Next para"]
        );
        assert_eq!(split("a line that wraps\nhere and ends."), ["a line that wraps\nhere and ends."]);
        assert_eq!(split("Ends with Mr.\n\nNew"), ["Ends with Mr.", "New"]);
        assert!(split("   \n\n ").is_empty());
        assert_eq!(split("no stop at all"), ["no stop at all"]);
    }

    #[test]
    fn covers_every_non_whitespace_byte_once() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/article.txt");
        let sample = std::fs::read_to_string(path).expect("examples/article.txt");
        for text in [
            sample.as_str(),
            " x. Y. .. ?! \u{201d}\u{201d} \n\n . a.B c.\u{201c}D \u{00e9}t\u{00e9}. \u{2026}",
            "...",
            ".",
        ] {
            let ss = sentences(text);
            let mut covered = vec![false; text.len()];
            let mut prev_end = 0;
            for r in &ss {
                assert!(r.start >= prev_end && r.start < r.end, "{r:?}");
                assert_eq!(text[r.clone()].trim(), &text[r.clone()]);
                covered[r.clone()].iter_mut().for_each(|c| *c = true);
                prev_end = r.end;
            }
            for (i, c) in text.char_indices() {
                assert!(c.is_whitespace() || covered[i], "byte {i} ({c:?}) not covered");
            }
        }
        let ss = split(&sample);
        assert_eq!(ss[0], sample.lines().next().unwrap());
        assert!(ss.contains(&"Ms. Abara said she supported public transport but wanted the line to reach the northern estates of Millbrook first, where a third of households have no car."));
        assert!(ss.contains(&"According to Mr. Varga, a journey from the station to the hospital will take 19 minutes, against 35 minutes by bus today."));
        assert!(ss.contains(&"\"People have waited long enough,\" she said."));
    }
}
