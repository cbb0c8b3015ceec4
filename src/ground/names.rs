//! First mentions of people. A summary is read without its article, so a person should be
//! introduced by full name ("Victor Cha") before "Mr. Cha". When the first mention of a
//! surname in a list of texts is an honorific form ("Mr. Cha", "Ms. Lee", "Dr. Ng"), and the
//! source introduces that surname with a full name, the mention becomes the source's full
//! name. The full name is a run of capitalised words in the source around the surname:
//! the word before it ("Victor Cha", "Vladimir Putin" out of "Russian President Vladimir
//! Putin"), or the words after it where the surname leads ("Kim Jong Un").
//! Pure text functions; must not touch files, models or the summary type.

use super::words::{is_stop, raw_words};

const HONORIFICS: [&str; 5] = ["mr", "mrs", "ms", "dr", "prof"];

fn is_honorific(w: &str) -> bool {
    HONORIFICS.contains(&w.trim_end_matches('.').to_lowercase().as_str())
}

/// A capitalised word that can be part of a personal name: not an acronym, an honorific
/// or a function word.
fn name_word(w: &str) -> bool {
    let mut cs = w.chars();
    let first_upper = cs.next().is_some_and(char::is_uppercase);
    let acronym = w.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && w.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    first_upper
        && !acronym
        && !is_honorific(w)
        && !is_stop(&w.to_lowercase())
        && w.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
}

/// Without a possessive ending: "Cha’s" → "Cha".
fn bare(w: &str) -> &str {
    w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(w)
}

/// Runs of name words in `s` joined by single spaces only (a comma or full stop ends one),
/// as lists of words.
fn name_runs(s: &str) -> Vec<Vec<&str>> {
    let words = raw_words(s);
    let mut runs: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for (k, &(at, w)) in words.iter().enumerate() {
        if !name_word(bare(w)) {
            open = false;
            continue;
        }
        let joined = k > 0 && open && {
            let (pat, pw) = words[k - 1];
            &s[pat + pw.len()..at] == " " && bare(pw) == pw
        };
        if joined {
            runs.last_mut().expect("an open run").push(bare(w));
        } else {
            runs.push(vec![bare(w)]);
        }
        open = true;
    }
    runs
}

/// The source's full name for `surname`: from the first run of name words that holds it
/// with at least one other word.
pub fn full_name(surname: &str, source: &str) -> Option<String> {
    for run in name_runs(source) {
        let Some(i) = run.iter().position(|w| *w == surname) else { continue };
        if run.len() < 2 {
            continue;
        }
        return Some(if i > 0 { format!("{} {}", run[i - 1], surname) } else { run[..run.len().min(3)].join(" ") });
    }
    None
}

/// Rewrites, across `texts` in order, the first mention of each surname when it is an
/// honorific form and the source has a full name for it. Returns (text index, old, new)
/// for each rewrite.
pub fn introduce_names(texts: &mut [String], source: &str) -> Vec<(usize, String, String)> {
    let mut seen: Vec<String> = Vec::new();
    let mut done = Vec::new();
    for (ti, text) in texts.iter_mut().enumerate() {
        let words = raw_words(text);
        let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        for (k, &(at, w)) in words.iter().enumerate() {
            let name = bare(w);
            if !name_word(name) || seen.iter().any(|s| s == name) {
                continue;
            }
            seen.push(name.to_string());
            let Some(&(hat, hw)) = k.checked_sub(1).map(|p| &words[p]) else { continue };
            let gap = &text[hat + hw.len()..at];
            if !is_honorific(hw) || !(gap == " " || gap == ". ") {
                continue;
            }
            if let Some(full) = full_name(name, source) {
                edits.push((hat..at + name.len(), full));
            }
        }
        done.extend(edits.iter().map(|(range, full)| (ti, text[range.clone()].to_string(), full.clone())));
        for (range, full) in edits.into_iter().rev() {
            text.replace_range(range, &full);
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Lawmakers met on Tuesday. Victor Cha, a scholar, said North Korean leader Kim \
        Jong Un would gain. Mr. Cha’s remarks followed talks with Russian President Vladimir Putin. \
        The U.S. Senate heard Mr. Cha. Ms. Park was absent.";

    #[test]
    fn full_names_come_from_the_source() {
        assert_eq!(full_name("Cha", SOURCE).as_deref(), Some("Victor Cha"));
        assert_eq!(full_name("Kim", SOURCE).as_deref(), Some("Kim Jong Un"));
        assert_eq!(full_name("Putin", SOURCE).as_deref(), Some("Vladimir Putin"));
        // Only ever "Ms. Park": no full name to give.
        assert_eq!(full_name("Park", SOURCE), None);
        assert_eq!(full_name("Lee", SOURCE), None);
    }

    #[test]
    fn only_the_first_honorific_mention_is_rewritten() {
        let mut texts = vec![
            "Mr. Cha’s comments follow the summit between Mr. Kim and Mr. Putin.".to_string(),
            "Mr. Cha said Mr. Kim will gain; Ms. Park agreed.".to_string(),
        ];
        let done = introduce_names(&mut texts, SOURCE);
        assert_eq!(texts[0], "Victor Cha’s comments follow the summit between Kim Jong Un and Vladimir Putin.");
        assert_eq!(texts[1], "Mr. Cha said Mr. Kim will gain; Ms. Park agreed.");
        assert_eq!(done.len(), 3);
        assert_eq!(done[0], (0, "Mr. Cha".to_string(), "Victor Cha".to_string()));
    }

    #[test]
    fn a_name_already_introduced_is_left_alone() {
        let mut texts = vec!["Victor Cha testified.".to_string(), "Mr. Cha warned of risks.".to_string()];
        assert!(introduce_names(&mut texts, SOURCE).is_empty());
        assert_eq!(texts[1], "Mr. Cha warned of risks.");
    }
}
