//! Model replies → clean text: key points from a list reply, titles, tl;drs, and cutting
//! text to a word budget at a clause boundary. Pure string functions.

/// Removes a leading `1.`, `2)`, `-`, `*`, `•` marker and surrounding space.
pub(super) fn strip_marker(line: &str) -> &str {
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

pub(crate) use super::compress::{
    compress, ends_cleanly, hard_cut, has_verb, headline, information, item_sentences, points_back,
};

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
}
