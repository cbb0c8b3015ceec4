//! Words for grounding: splitting text into words and normalising them (case, stopwords,
//! plurals and light suffixes, number words, acronyms), and telling names and numbers apart.
//!
//! Owns: the stopword and number-word lists, `content_words`. Pure; must not touch scoring,
//! sentences, files or models.

#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "according", "after", "again", "against", "all", "also", "am", "an",
    "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each",
    "either", "else", "ever", "few", "for", "from", "further", "had", "has", "have", "having", "he",
    "her", "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in",
    "into", "is", "it", "its", "itself", "just", "me", "might", "more", "most", "mr", "mrs", "ms",
    "dr", "much", "must", "my", "myself", "neither", "no", "nor", "not", "now", "of", "off", "on",
    "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "per",
    "said", "same", "say", "says", "shall", "she", "should", "since", "so", "some", "such", "than",
    "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they",
    "this", "those", "through", "thus", "to", "too", "under", "until", "up", "upon", "us", "very",
    "via", "was", "we", "were", "what", "when", "where", "whether", "which", "while", "who", "whom",
    "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your", "yours",
    "yourself", "it's", "that's", "there's", "let's",
];
/// Abbreviations whose full stop does not end a sentence (normalised forms).
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col",
    "capt", "rev", "v", "vs", "etc", "inc", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "no",
];
#[rustfmt::skip]
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("two", "2"), ("three", "3"), ("four", "4"), ("five", "5"), ("six", "6"), ("seven", "7"),
    ("eight", "8"), ("nine", "9"), ("ten", "10"), ("eleven", "11"), ("twelve", "12"),
    ("thirteen", "13"), ("fourteen", "14"), ("fifteen", "15"), ("sixteen", "16"),
    ("seventeen", "17"), ("eighteen", "18"), ("nineteen", "19"), ("twenty", "20"), ("thirty", "30"),
    ("forty", "40"), ("fifty", "50"), ("hundred", "100"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Word,
    /// A capitalised word not at a sentence start, or an acronym.
    Name,
    Number,
}

/// A word of text: its surface form, normal form, kind, and facts for name detection.
#[derive(Debug, Clone)]
pub(super) struct Term<'a> {
    pub(super) surface: &'a str,
    pub(super) norm: String,
    pub(super) kind: Kind,
    pub(super) stop: bool,
    pub(super) acronym: bool,
    pub(super) capital: bool,
    pub(super) sentence_start: bool,
}

/// Splits text into words: letters/digits, keeping "3.5", "1,000", "U.S." and "don't" whole.
pub(super) fn raw_words(s: &str) -> Vec<(usize, &str)> {
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < cs.len() {
        if !cs[k].1.is_alphanumeric() {
            k += 1;
            continue;
        }
        let start = k;
        let mut seg_len = 0; // letters since the last '.' (for acronyms)
        while k < cs.len() {
            let c = cs[k].1;
            if c.is_alphanumeric() {
                seg_len += 1;
                k += 1;
                continue;
            }
            let (prev, next) = (cs[k - 1].1, cs.get(k + 1).map(|p| p.1));
            let joins = match c {
                '.' | ',' if prev.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit()) => true,
                '.' if seg_len == 1 && prev.is_alphabetic() && next.is_some_and(char::is_alphabetic) => {
                    // "U.S": the next segment must be one letter too.
                    cs.get(k + 2).is_none_or(|p| !p.1.is_alphanumeric())
                }
                '\'' | '’' if prev.is_alphabetic() && next.is_some_and(char::is_alphabetic) => true,
                _ => false,
            };
            if !joins {
                break;
            }
            seg_len = 0;
            k += 1;
        }
        let from = cs[start].0;
        let to = cs.get(k).map_or(s.len(), |p| p.0);
        out.push((from, &s[from..to]));
    }
    out
}

/// Whether a lower-cased word is a function word.
pub(super) fn is_stop(w: &str) -> bool {
    STOPWORDS.contains(&w) || w.ends_with("n't")
}

/// A light suffix stripper: plurals ("tanks", "allies", "classes"), "-ing" and "-ed" on
/// longer words, then a final "e", so that "cooperate(s|d)" and "cooperating" meet.
pub(super) fn stem(w: &str) -> String {
    let n = w.chars().count();
    let mut s = if n > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if w.ends_with("sses") {
        w[..w.len() - 2].to_string()
    } else if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_string()
    } else if n > 5 && w.ends_with("ing") {
        w[..w.len() - 3].to_string()
    } else if n > 4 && w.ends_with("ed") && !w.ends_with("eed") {
        w[..w.len() - 2].to_string()
    } else {
        w.to_string()
    };
    if s.chars().count() > 3 && s.ends_with('e') && !s.ends_with("ee") {
        s.pop();
    }
    s
}

/// Whether two normalised words are the same or share a long prefix ("russia"/"russian",
/// "cooperat"/"cooperation").
pub(super) fn close(a: &str, b: &str) -> bool {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    a == b || (common >= 5 && common * 10 >= a.chars().count().max(b.chars().count()) * 7)
}

/// Analyses every word of `s`.
pub(super) fn terms(s: &str) -> Vec<Term<'_>> {
    let mut out = Vec::new();
    let mut prev_end = 0;
    for (at, w) in raw_words(s) {
        let gap = &s[prev_end..at];
        // A full stop after "U.S", "Mr" or an initial does not start a sentence.
        let after_abbrev = out.last().is_some_and(|t: &Term| {
            t.surface.contains('.') || t.surface.chars().count() == 1 || ABBREVIATIONS.contains(&t.norm.as_str())
        });
        let sentence_start =
            out.is_empty() || gap.contains(['!', '?', ':', '\n']) || (gap.contains('.') && !after_abbrev);
        prev_end = at + w.len();
        let w = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(w);
        let lower = w.to_lowercase().replace('’', "'");
        // "October", "Oct." and "Oct" are one word for grounding.
        let lower = month_abbreviation(&lower).map(str::to_string).unwrap_or(lower);
        let letters: String = w.chars().filter(|c| c.is_alphabetic()).collect();
        let acronym = letters.chars().count() >= 2
            && letters.chars().all(char::is_uppercase)
            && w.chars().all(|c| c.is_alphabetic() || c == '.');
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        let stop = !acronym && (STOPWORDS.contains(&lower.as_str()) || lower.ends_with("n't"));
        let number = NUMBER_WORDS.iter().find(|(k, _)| *k == lower).map(|(_, v)| v.to_string());
        let (norm, kind) = if w.chars().any(|c| c.is_ascii_digit()) {
            let digits: String = lower.chars().filter(|&c| c != ',').collect();
            let trimmed = ["st", "nd", "rd", "th"]
                .iter()
                .find_map(|s| digits.strip_suffix(s))
                .filter(|d| d.chars().all(|c| c.is_ascii_digit()));
            (trimmed.unwrap_or(&digits).to_string(), Kind::Number)
        } else if let Some(n) = number {
            (n, Kind::Number)
        } else if acronym {
            (lower.replace('.', ""), Kind::Name)
        } else if capital && !sentence_start && !stop {
            (stem(&lower), Kind::Name)
        } else {
            (stem(&lower), Kind::Word)
        };
        out.push(Term { surface: w, norm, kind, stop, acronym, capital, sentence_start });
    }
    out
}

/// The three-letter form of a month name or abbreviation.
fn month_abbreviation(w: &str) -> Option<&'static str> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = w.trim_end_matches('.');
    let i = FULL.iter().position(|f| *f == w).or_else(|| {
        if w == "sept" {
            Some(8)
        } else {
            MONTHS.iter().position(|m| *m == w).filter(|_| w != "may" && w != "mar")
        }
    })?;
    Some(MONTHS[i])
}

/// Content words of `s`, in order: lower-cased, stopwords removed, plural "s" stripped;
/// "U.S."/"US" become "us", number words ("five") become digits, "1,000" becomes "1000".
pub fn content_words(s: &str) -> Vec<String> {
    terms(s).into_iter().filter(|t| !t.stop).map(|t| t.norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_words_normalise() {
        assert_eq!(
            content_words("The U.S. and the US sent five tanks to Korea’s allies."),
            ["us", "us", "sent", "5", "tank", "korea", "ally"]
        );
        assert_eq!(content_words("Cooperating states cooperated"), ["cooperat", "stat", "cooperat"]);
        assert_eq!(
            content_words("It rose 3.5% to 1,000 on Oct. 4th; we don’t know why."),
            ["ros", "3.5", "1000", "oct", "4", "know"]
        );
        assert!(content_words("it is what it is").is_empty());
    }
}
