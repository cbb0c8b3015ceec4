//! Model replies → clean text: key points from a list reply, titles, tl;drs, and cutting
//! text to a word budget at a clause boundary. Pure string functions.

/// Removes a leading `1.`, `2)`, `-`, `*`, `•` marker and surrounding space.
fn strip_marker(line: &str) -> &str {
    let t = line.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let t = if digits > 0 && t[digits..].starts_with(['.', ')', ':']) { &t[digits + 1..] } else { t };
    t.trim_start_matches(['-', '*', '•']).trim()
}

/// The first `max` words of `s`; if cut, ends at the last clause boundary past half-way.
pub(crate) fn cap_words(s: &str, max: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= max {
        return words.join(" ");
    }
    let cut = &words[..max];
    // A clause ends at , ; : or a full stop that is not an abbreviation such as "U.S.".
    let ends_clause = |w: &str| w.ends_with([',', ';', ':']) || (w.ends_with('.') && !w[..w.len() - 1].contains('.'));
    let boundary = (max / 2..max).rev().find(|&i| ends_clause(cut[i]));
    match boundary {
        Some(i) => cut[..=i].join(" ").trim_end_matches([',', ';', ':']).to_string(),
        None => cut.join(" "),
    }
}

/// The first line of a reply, cleaned as a title: quotes, markdown and labels removed.
pub(crate) fn clean_title(reply: &str) -> String {
    let line = reply.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let unquote = |l: &str| {
        l.trim_start_matches('#').trim_matches(|c| matches!(c, '"' | '*' | '“' | '”' | '\'')).trim().to_string()
    };
    let line = unquote(line);
    let line = ["Headline:", "Title:", "headline:", "title:"]
        .iter()
        .fold(line.as_str(), |l, p| l.strip_prefix(p).unwrap_or(l).trim());
    let line = unquote(line);
    cap_words(&line, 20)
}

/// The first sentence or two of a reply, as a tl;dr.
pub(crate) fn clean_tldr(reply: &str, max_words: usize) -> String {
    let para = reply.split("\n\n").map(str::trim).find(|p| !p.is_empty()).unwrap_or("");
    let text = para.lines().map(strip_marker).collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for (n, s) in text.split_inclusive(". ").enumerate() {
        if n >= 2 || (out.split_whitespace().count() + s.split_whitespace().count()) > max_words && n > 0 {
            break;
        }
        out.push_str(s);
    }
    cap_words(out.trim(), max_words)
}

/// The first line of a reply, cleaned as one key point (marker, quotes and labels removed).
pub(crate) fn clean_point(reply: &str) -> String {
    let line = reply.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let line = strip_marker(line);
    let line =
        ["Key point:", "Key Point:", "key point:"].iter().fold(line, |l, p| l.strip_prefix(p).unwrap_or(l).trim());
    let line = line.trim_matches(|c| matches!(c, '"' | '*' | '“' | '”')).trim();
    line.to_string()
}

/// Connectives that open a sentence without adding to its fact.
const CONNECTIVES: &[&str] = &[
    "However,",
    "Moreover,",
    "Furthermore,",
    "In addition,",
    "Additionally,",
    "Meanwhile,",
    "Still,",
    "Also,",
    "Indeed,",
    "In fact,",
    "Likewise,",
    "Similarly,",
    "To that end,",
    "As a result,",
    "Overall,",
    "Nevertheless,",
    "Nonetheless,",
    "Instead,",
    "Thus,",
    "Therefore,",
    "Consequently,",
    "In particular,",
    "Specifically,",
    "Notably,",
    "Importantly,",
    "At the same time,",
    "In other words,",
    "Of course,",
];

/// A source sentence cut down to a key point of at most `max_words` words, by removing
/// what carries no fact of its own: list markers and heading marks, an opening connective
/// ("However,"), and asides in brackets that hold no number. Past `max_words`, it keeps
/// the run of whole clauses (split at `,` `;` `:` and dashes) that fits and carries the
/// most information (numbers, names, content words), so that a long opening clause does
/// not crowd out the main one; where no clause fits, the first `max_words` words of the
/// best clause, marked with "…". The result ends with an end mark.
pub(crate) fn compress(sentence: &str, max_words: usize) -> String {
    let s = strip_marker(sentence.trim().trim_start_matches('#'));
    let s = without_asides(s);
    let mut s = s.trim();
    for c in CONNECTIVES {
        if let Some(rest) = s.strip_prefix(c) {
            s = rest.trim_start();
            break;
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    let kept = if words.len() <= max_words {
        words.join(" ")
    } else {
        match best_clauses(&words, max_words) {
            Some(r) => words[r].join(" "),
            None => {
                let r = clauses(&words).into_iter().max_by_key(|r| info(&words[r.clone()])).unwrap_or(0..words.len());
                let cut = &words[r.start..(r.start + max_words).min(r.end)];
                let cut = cut.join(" ");
                return format!("{}…", capitalise(cut.trim_end_matches([',', ';', ':', '-', '—', '–'])));
            }
        }
    };
    let mut out = capitalise(kept.trim_end_matches([',', ';', ':', '-', '—', '–', ' ']));
    let closers = ['"', '”', '’', ')', '\''];
    if !out.trim_end_matches(closers).ends_with(['.', '!', '?', '…']) {
        out.push('.');
    }
    out
}

/// Words a kept clause run should not open with.
const LEADING: &[&str] = &["and", "but", "or", "so", "yet", "then"];
/// Words that open a clause with its subject: a run of clauses from mid-sentence must
/// start with one of these (or a name or number), so that it reads as a sentence.
const SUBJECT_OPENERS: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "they", "their", "he", "his", "she", "her", "we",
    "our", "i", "there", "each", "every", "some", "many", "most", "all",
];
/// Prepositions that open a scene-setting clause.
const PREPOSITIONS: &[&str] = &[
    "at",
    "in",
    "on",
    "from",
    "during",
    "after",
    "before",
    "under",
    "with",
    "for",
    "by",
    "since",
    "until",
    "through",
    "across",
    "among",
    "following",
    "despite",
    "unlike",
    "like",
    "as",
    "while",
    "when",
    "although",
    "though",
    "because",
    "if",
    "originally",
];
/// Fewest words of a run of clauses kept from a longer sentence.
const MIN_RUN: usize = 7;
/// Number words, worth as much as digits.
const NUMBER_WORDS: &[&str] = &[
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "half",
    "double",
    "twice",
    "percent",
];

/// The clauses of a sentence, as ranges of its words.
fn clauses(words: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, w) in words.iter().enumerate() {
        let ends = w.ends_with([',', ';', ':']) || matches!(*w, "—" | "–" | "-") || w.ends_with(['—', '–']);
        if ends && i + 1 < words.len() {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    out.push(start..words.len());
    out
}

/// A word's information: 4 for a number, 3 for a name (a capital not opening the
/// sentence), 1 for another word of four letters or more.
fn word_info(i: usize, w: &str) -> u32 {
    let w = w.trim_matches(|c: char| !c.is_alphanumeric());
    if w.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w.to_lowercase().as_str()) {
        4
    } else if i > 0 && w.chars().next().is_some_and(char::is_uppercase) {
        3
    } else {
        u32::from(w.chars().count() >= 4)
    }
}

/// The information of a text: its numbers, names and longer words (see `word_info`).
pub(crate) fn information(s: &str) -> u32 {
    info(&s.split_whitespace().collect::<Vec<_>>())
}

fn info(words: &[&str]) -> u32 {
    words.iter().enumerate().map(|(i, w)| word_info(i + 1, w)).sum()
}

/// The run of whole clauses within `max` words that carries the most information. A run
/// from mid-sentence must open with its subject (an article or a pronoun).
fn best_clauses(words: &[&str], max: usize) -> Option<std::ops::Range<usize>> {
    let cl = clauses(words);
    let mut best: Option<(i64, std::ops::Range<usize>)> = None;
    for a in 0..cl.len() {
        let first = words[cl[a].start].to_lowercase();
        let first = first.trim_matches(|c: char| !c.is_alphanumeric());
        if a > 0 && !SUBJECT_OPENERS.contains(&first) {
            continue;
        }
        let score: i64 = 0;
        // An opening clause that starts with a preposition ("At the laboratory in
        // Missoula,") sets the scene; the main clause comes after it.
        let scene = a == 0 && cl.len() > 1 && PREPOSITIONS.contains(&first);
        for b in a..cl.len() {
            if scene && b == 0 {
                continue;
            }
            let r = cl[a].start..cl[b].end;
            if r.len() > max {
                break;
            }
            // A run of a few words is a scrap ("In September 2024."), not a point.
            if r.len() < MIN_RUN.min(max) {
                continue;
            }
            let total = score + words[r.clone()].iter().map(|w| i64::from(word_info(1, w))).sum::<i64>();
            if best.as_ref().is_none_or(|(s, _)| total > *s) {
                best = Some((total, r));
            }
        }
    }
    let (_, mut r) = best?;
    // A run that opens with "and" or "but" drops it.
    while r.len() > 1 && LEADING.contains(&words[r.start].to_lowercase().as_str()) {
        r.start += 1;
    }
    Some(r)
}

/// Whether a compressed point was cut where no clause ended (it ends with "…").
pub(crate) fn hard_cut(point: &str) -> bool {
    point.ends_with('…')
}

/// Removes bracketed asides that hold no digit: "(GAO)", "(see below)".
fn without_asides(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find(['(', '[']) {
        let close_ch = if rest[open..].starts_with('(') { ')' } else { ']' };
        let Some(len) = rest[open..].find(close_ch) else { break };
        let inner = &rest[open + 1..open + len];
        out.push_str(&rest[..open]);
        if inner.chars().any(|c| c.is_ascii_digit()) || inner.contains(['(', '[']) {
            out.push_str(&rest[open..=open + len]);
        } else {
            // Drop the aside and the space before it.
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(cs).collect(),
        _ => s.to_string(),
    }
}

/// A sentence cut to a headline of at most `max_words` words (no final full stop).
pub(crate) fn headline(sentence: &str, max_words: usize) -> String {
    let p = compress(sentence, max_words);
    p.trim_end_matches(['.', '…']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_long_points_at_a_clause() {
        let long = "one two three four five, six seven eight nine ten eleven twelve";
        assert_eq!(cap_words(long, 8), "one two three four five");
        assert_eq!(cap_words("a b c", 8), "a b c");
        // "U.S." is not the end of a clause.
        assert_eq!(
            cap_words("one two three four five, six U.S. lawmakers were told today", 8),
            "one two three four five"
        );
    }

    #[test]
    fn cleans_titles_and_tldrs() {
        assert_eq!(clean_title("\n**\"Headline: Kim meets Putin\"**\nmore"), "Kim meets Putin");
        assert_eq!(clean_tldr("First one. Second one. Third one.", 40), "First one. Second one.");
    }

    #[test]
    fn compress_keeps_the_fact_and_drops_the_rest() {
        assert_eq!(
            compress(
                "However, the Government Accountability Office (GAO) found that 12 agencies (of 24) shared data.",
                25
            ),
            "The Government Accountability Office found that 12 agencies (of 24) shared data."
        );
        assert_eq!(compress("- rivers carry water", 25), "Rivers carry water.");
        let long = "The team built a tool that maps wind at 100 m resolution, which feeds the fire models used by managers across the western states every summer season";
        let c = compress(long, 12);
        assert_eq!(c, "The team built a tool that maps wind at 100 m resolution.");
        // The main clause, with the numbers, wins over a long opening clause.
        let s = "Originally designed as a short demonstration of up to five test flights over a month, the helicopter flew 72 flights over three years in the Jezero crater.";
        assert_eq!(compress(s, 14), "The helicopter flew 72 flights over three years in the Jezero crater.");
        let no_clause = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
        let c = compress(no_clause, 10);
        assert!(hard_cut(&c) && c.split_whitespace().count() == 10, "{c}");
        assert_eq!(headline("Rivers carry water to the sea.", 12), "Rivers carry water to the sea");
    }
}
