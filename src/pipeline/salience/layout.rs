//! What each line of a document is, from its layout alone: a heading (Markdown `#`, an
//! underlined line, a short unpunctuated line), a rule, a metadata field, code, or a
//! sentence of running text; the level of each heading, and the document's own title.

use super::{Role, BACK_MATTER};
use std::ops::Range;

/// Whether the sentence is a whole line of the text (nothing else on its line).
pub(super) fn own_line(text: &str, r: &Range<usize>) -> bool {
    let before = text[..r.start].trim_end_matches([' ', '\t']);
    let after = text[r.end..].trim_start_matches([' ', '\t']);
    (before.is_empty() || before.ends_with('\n')) && (after.is_empty() || after.starts_with('\n'))
}

pub(super) fn roles(lines: &[&str], own_line: &[bool]) -> Vec<Role> {
    let mut role: Vec<Role> = lines.iter().zip(own_line).map(|(l, &own)| role_of(l, own)).collect();
    // A line underlined by a rule (reStructuredText, setext Markdown) is a heading.
    for i in 1..lines.len() {
        if is_rule(lines[i]) && own_line[i - 1] && role[i - 1] != Role::Fragment {
            role[i - 1] = Role::Heading;
        }
    }
    role
}

pub(super) fn role_of(l: &str, own_line: bool) -> Role {
    let words = l.split_whitespace().count();
    if is_rule(l) || is_field(l) || is_code(l) {
        return Role::Fragment;
    }
    if l.starts_with('#') && own_line {
        return Role::Heading;
    }
    let ends = |cs: &[char]| l.trim_end_matches(['*', '_', '`']).ends_with(cs);
    // A bulleted line is an item of a list, never a heading.
    let bullet = ["• ", "- ", "* ", "+ ", "· ", "– "].iter().any(|b| l.starts_with(b));
    if bullet {
        return if words < 6 { Role::Fragment } else { Role::Body };
    }
    if own_line && words <= 14 && !ends(&['.', '!', '?', ';', ',', '"', '”', '’', ')', ':']) {
        return Role::Heading;
    }
    if words < 5 || (own_line && ends(&[':']) && words <= 8) {
        return Role::Fragment;
    }
    Role::Body
}

/// The level of each heading where the markup says it: the count of `#` in Markdown, the
/// rank of the underline character in order of first use in reStructuredText.
pub(super) fn heading_levels(lines: &[&str], role: &[Role]) -> Vec<Option<usize>> {
    let mut underlines: Vec<char> = Vec::new();
    (0..lines.len())
        .map(|i| {
            if role[i] != Role::Heading {
                return None;
            }
            let hashes = lines[i].chars().take_while(|&c| c == '#').count();
            if hashes > 0 {
                return Some(hashes);
            }
            let under = lines.get(i + 1).filter(|l| is_rule(l))?.chars().next()?;
            let rank = underlines.iter().position(|&c| c == under).unwrap_or_else(|| {
                underlines.push(under);
                underlines.len() - 1
            });
            Some(rank + 1)
        })
        .collect()
}

/// Whether the section a heading opens is short: three body sentences or fewer before
/// the next heading.
pub(super) fn short_sections(role: &[Role]) -> Vec<bool> {
    let mut out = vec![false; role.len()];
    for i in 0..role.len() {
        if role[i] == Role::Heading {
            let body = role[i + 1..].iter().take_while(|r| **r != Role::Heading).filter(|r| **r == Role::Body).count();
            out[i] = body <= 3;
        }
    }
    out
}

/// `=====`, `-----`, `***`: a line of one repeated punctuation mark.
pub(super) fn is_rule(l: &str) -> bool {
    let mut cs = l.chars().filter(|c| !c.is_whitespace());
    match cs.next() {
        Some(c) if c.is_ascii_punctuation() => l.len() >= 3 && cs.all(|d| d == c),
        _ => false,
    }
}

/// `Author: Jane Doe`, `Status: Final`: a metadata field (a capitalised key of at most
/// two words, a colon, a short value).
pub(super) fn is_field(l: &str) -> bool {
    let Some((key, value)) = l.split_once(':') else { return false };
    let key_words = key.split_whitespace().count();
    // "INFORMATION SHARING: Practices That …" is a title with its topic, not a field, and
    // "Appendix II: The 11 Organizations …" a heading.
    if key_words == 2 && key.chars().all(|c| !c.is_lowercase()) {
        return false;
    }
    let lower = key.to_lowercase();
    if BACK_MATTER.iter().any(|b| lower == *b || lower.starts_with(&format!("{b} "))) {
        return false;
    }
    (1..=2).contains(&key_words)
        && key.chars().next().is_some_and(char::is_uppercase)
        && key.chars().all(|c| c.is_alphanumeric() || c == '-' || c == ' ')
        && value.starts_with(' ')
        && value.split_whitespace().count() <= 12
        && !value.trim_end().ends_with(['.', '!', '?'])
}

/// Code or markup rather than prose: many of the characters that code is made of.
pub(super) fn is_code(l: &str) -> bool {
    let sym = l.chars().filter(|c| "{}()[];=<>_/\\|`$".contains(*c)).count();
    let n = l.chars().count().max(1);
    sym * 100 / n > 8 || l.starts_with("```") || l.starts_with(".. ")
}

/// The lower-cased words of a heading, without its markup or numbering.
pub(super) fn heading_words(l: &str) -> String {
    let l = l.trim_start_matches('#').trim();
    let l = l.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ')' || c.is_whitespace());
    l.trim_end_matches(':').to_lowercase()
}

/// The document's own title: a heading that opens it, or a `Title:` field near the top.
pub(super) fn find_title(lines: &[&str], role: &[Role]) -> Option<usize> {
    for (i, l) in lines.iter().enumerate().take(12) {
        if let Some(v) = l.strip_prefix("Title:") {
            if !v.trim().is_empty() {
                return Some(i);
            }
        }
    }
    let first = role.iter().position(|r| *r != Role::Fragment || lines.is_empty())?;
    (role[first] == Role::Heading && first <= 2).then_some(first)
}
