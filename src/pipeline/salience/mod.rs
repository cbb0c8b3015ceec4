//! Stage 2, salience: how much each source sentence matters to the document, computed
//! from the text alone (no model, nothing to trust but the words and the layout).
//!
//! A sentence's score mixes, with the weights of [`Weights`]:
//! - **centrality**: LexRank over TF-IDF vectors of the document's sentences (a sentence
//!   that many others resemble states what the document is about); for very long
//!   documents, closeness to the document's centroid instead;
//! - **position**: the lead of the document, and the lead section before the first heading;
//! - **structure**: the first sentence of a section, sentences in sections that summarise
//!   (abstract, summary, overview, findings, conclusions…), closeness to the document's
//!   own title;
//! - **content**: the names and numbers a sentence carries; a signpost to the document's
//!   own parts ("Appendix II describes …") or a byline run on counts half, and so does a
//!   sentence of the back matter (appendices, references, notes).
//!
//! Headings, rule lines, metadata fields and fragments are told apart from body sentences:
//! they never become points, but they shape the score of the sentences under them.

mod centrality;
mod layout;

use centrality::{centrality, cosine, tfidf};
use layout::{find_title, heading_levels, heading_words, own_line, roles, short_sections};
use std::ops::Range;

/// What a sentence of the document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A sentence of running text: a candidate for the summary.
    Body,
    /// A heading line (Markdown `#`, an underlined line, or a short unpunctuated line).
    Heading,
    /// A rule line, a metadata field (`Author: …`), code, or a scrap of a few words.
    Fragment,
}

/// The weights of the salience score (they sum to 1 for a sentence that has everything).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weights {
    pub(crate) centrality: f32,
    pub(crate) lead: f32,
    pub(crate) lead_section: f32,
    pub(crate) summary_section: f32,
    pub(crate) section_lead: f32,
    pub(crate) title: f32,
    pub(crate) content: f32,
}

pub(crate) const WEIGHTS: Weights = Weights {
    centrality: 0.25,
    lead: 0.25,
    lead_section: 0.2,
    summary_section: 0.15,
    section_lead: 0.1,
    title: 0.1,
    content: 0.15,
};

/// Headings whose sections say in brief what the document says at length.
const SUMMARY_HEADINGS: &[&str] = &[
    "abstract",
    "summary",
    "overview",
    "conclusion",
    "conclusions",
    "findings",
    "in brief",
    "key points",
    "highlights",
    "key findings",
    "recommendations",
    "introduction",
];

/// Headings of the parts that back a document up rather than say it.
const BACK_MATTER: &[&str] = &[
    "appendix",
    "appendices",
    "annex",
    "references",
    "bibliography",
    "notes",
    "footnotes",
    "endnotes",
    "acknowledgments",
    "acknowledgements",
    "see also",
    "external links",
    "further reading",
    "copyright",
    "sources",
];

/// The salience of every sentence of a document.
#[derive(Debug, Clone)]
pub(crate) struct Salience {
    pub(crate) role: Vec<Role>,
    /// 0..=1 for body sentences, 0 for the rest.
    pub(crate) score: Vec<f32>,
    /// The sentence holding the document's own title, where it has one.
    pub(crate) title: Option<usize>,
}

impl Salience {
    pub(crate) fn new(text: &str, sentences: &[Range<usize>]) -> Salience {
        let lines: Vec<&str> = sentences.iter().map(|r| text[r.clone()].trim()).collect();
        let own_line: Vec<bool> = sentences.iter().map(|r| own_line(text, r)).collect();
        let role = roles(&lines, &own_line);
        let title = find_title(&lines, &role);
        let vectors = tfidf(&lines, &role);
        let n = lines.len();
        let mut section = vec![0; n];
        let mut summary_like = vec![false; n];
        let mut section_lead = vec![false; n];
        let levels = heading_levels(&lines, &role);
        let short = short_sections(&role);
        let (mut s, mut in_summary, mut fresh) = (0, false, false);
        // The level of the summary-like heading whose region we are in.
        let mut summary_level: Option<Option<usize>> = None;
        let mut back_matter = vec![false; n];
        // The level of the back-matter heading whose region we are in (appendices, references…).
        let mut back_level: Option<Option<usize>> = None;
        for i in 0..n {
            match role[i] {
                Role::Heading if Some(i) != title => {
                    s += 1;
                    let h = heading_words(lines[i]);
                    if BACK_MATTER.iter().any(|k| h == *k || h.starts_with(&format!("{k} "))) {
                        back_level.get_or_insert(levels[i]);
                    } else if let Some(level) = back_level {
                        // Back matter runs to the end, or to a heading of its own level or
                        // above where levels are marked.
                        if matches!((level, levels[i]), (Some(top), Some(this)) if this <= top) {
                            back_level = None;
                        }
                    }
                    if SUMMARY_HEADINGS.iter().any(|k| h == *k || h.ends_with(&format!(" {k}"))) {
                        in_summary = true;
                        summary_level = Some(levels[i]);
                    } else if let Some(level) = summary_level {
                        // A summary's own sub-headings ("Findings" → "Fiduciary Failure")
                        // stay in it: a deeper level where levels are marked, else a run
                        // of short sections.
                        in_summary = match (level, levels[i]) {
                            (Some(top), Some(this)) => this > top,
                            _ => short[i],
                        };
                        if !in_summary {
                            summary_level = None;
                        }
                    }
                    fresh = true;
                }
                Role::Body => {
                    section_lead[i] = fresh && s > 0;
                    fresh = false;
                }
                _ => {}
            }
            section[i] = s;
            summary_like[i] = in_summary;
            back_matter[i] = back_level.is_some();
        }
        let body: Vec<usize> = (0..n).filter(|&i| role[i] == Role::Body).collect();
        let central = centrality(&vectors, &body);
        // A lead section: the body before the first heading, in a document with sections,
        // when it is an introduction rather than most of the document.
        let headings = (0..n).filter(|&i| role[i] == Role::Heading && Some(i) != title).count();
        let lead_len = body.iter().filter(|&&i| section[i] == 0).count();
        let has_lead_section = headings >= 3 && lead_len > 0 && lead_len * 4 <= body.len();
        let title_vec = title.map(|t| &vectors[t]);
        let w = WEIGHTS;
        let mut score = vec![0.0; n];
        for (rank, &i) in body.iter().enumerate() {
            let words = lines[i].split_whitespace().count();
            let mut v = w.centrality * central[rank]
                + w.lead / (1.0 + rank as f32 / 5.0)
                + w.content * content_density(lines[i]);
            if has_lead_section && section[i] == 0 {
                v += w.lead_section;
            }
            if summary_like[i] {
                v += w.summary_section;
            }
            if section_lead[i] {
                v += w.section_lead;
            }
            if let Some(t) = title_vec {
                v += w.title * cosine(t, &vectors[i]);
            }
            // A short sentence says little; a very long one costs many words to say it; a
            // line mostly of capitalised words is a byline or a heading run on, not a fact.
            if title_case(lines[i]) || about_the_document(lines[i]) {
                v *= 0.5;
            }
            // Appendices, references and notes back the document up; they are not what it says.
            if back_matter[i] {
                v *= 0.5;
            }
            // A lead-in to a list ("The board should:") says nothing by itself, nor does an
            // item that goes on from it ("(b) prohibit conflicts of interest") or another
            // piece of a sentence, nor a line
            // without a verb ("Jane Doe (1985-2002), former Chair of the Finance Committee").
            if lines[i].trim_end_matches(['*', '_']).ends_with(':')
                || opens_mid_sentence(lines[i])
                || !super::text::has_verb(lines[i])
            {
                v = 0.0;
            }
            if words < 8 {
                v *= 0.6;
            } else if words > 45 {
                v *= 0.85;
            }
            score[i] = v;
        }
        Salience { role, score, title }
    }

    /// Body sentences, best first.
    pub(crate) fn ranked(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.score.len()).filter(|&i| self.role[i] == Role::Body).collect();
        order.sort_by(|&a, &b| self.score[b].total_cmp(&self.score[a]).then(a.cmp(&b)));
        order
    }
}

/// A sentence that does not open like one: after its list marker ("(b)", "2.", "-") it
/// opens in lower case (an item that finishes its lead-in's sentence: "(b) prohibit …"),
/// or with a stray mark (a piece split off its sentence: "+1s), with projects like …").
fn opens_mid_sentence(l: &str) -> bool {
    let rest = l.trim_start_matches(['-', '*', '•', '·', '–', ' ']);
    let rest = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((m, r)) if m.len() <= 4 && m.chars().all(|c| c.is_alphanumeric()) => r,
        _ => match rest.split_once(['.', ')']) {
            Some((m, r)) if !m.is_empty() && m.len() <= 3 && m.chars().all(|c| c.is_ascii_digit()) => r,
            _ => rest,
        },
    };
    let rest = rest.trim_start();
    // A bracket that closes at once and a lower-case word after it: the end of a link or
    // an aside split off its sentence ("(\"read-copy-update\")_ and hazard pointers, …").
    if let Some(close) = rest.strip_prefix('(').and_then(|r| r.find(')')) {
        // (Past a reference that follows it: "[#rcu]_".)
        let next = rest[close + 2..]
            .split_whitespace()
            .find(|w| !w.starts_with('[') && w.chars().any(char::is_alphanumeric))
            .map(|w| w.trim_start_matches(|c: char| !c.is_alphanumeric()));
        if !rest[..close + 2].contains(' ') && next.is_some_and(|w| w.chars().next().is_some_and(char::is_lowercase)) {
            return true;
        }
    }
    rest.chars().next().is_some_and(|c| c.is_lowercase() || (!c.is_alphanumeric() && !"\"“‘'([`_#¿¡".contains(c)))
}

/// Phrases of a sentence that speaks of the document's own parts rather than its subject.
const SIGNPOSTS: &[&str] = &[
    "appendix",
    "appendices",
    "this section",
    "next section",
    "following section",
    "this chapter",
    "see figure",
    "see table",
    "(see ",
    "described below",
    "discussed below",
    "listed below",
    "shown below",
    "described above",
    "discussed above",
];

/// A signpost ("Appendix II describes each organization"): a sentence about where the
/// document says something, not what it says.
fn about_the_document(l: &str) -> bool {
    let l = l.to_lowercase();
    SIGNPOSTS.iter().any(|s| l.contains(s))
}

/// Whether most words of a line start with a capital ("Report to Senator Robert F.
/// Bennett, Ranking Minority Member, Joint Economic Committee").
fn title_case(l: &str) -> bool {
    let words: Vec<&str> = l.split_whitespace().filter(|w| w.chars().count() > 3).collect();
    let caps = words.iter().filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
    words.len() >= 4 && caps * 2 > words.len()
}

/// Names and numbers per sentence (a number counts twice), as a share of a few: 0 (none)
/// to 1 (eight or more).
fn content_density(l: &str) -> f32 {
    let mut k = 0;
    for (j, w) in l.split_whitespace().enumerate() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.chars().any(|c| c.is_ascii_digit()) {
            k += 2;
        } else if j > 0 && w.chars().next().is_some_and(char::is_uppercase) {
            k += 1;
        }
    }
    (k as f32 / 8.0).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk;

    fn salience(text: &str) -> (Vec<Range<usize>>, Salience) {
        let s = chunk::sentences(text);
        let sal = Salience::new(text, &s);
        (s, sal)
    }

    fn score_of(text: &str, s: &[Range<usize>], sal: &Salience, needle: &str) -> f32 {
        let i = s.iter().position(|r| text[r.clone()].contains(needle)).expect("sentence");
        sal.score[i]
    }

    #[test]
    fn a_lead_fact_outranks_a_trivia_sentence() {
        let text = "The city council approved a new budget of 40 million dollars for public transport on Monday.\n\n\
            The budget for public transport adds twelve bus lines and extends the tram network to the airport.\n\n\
            Council members said the transport budget was the largest in the city's history.\n\n\
            The meeting was held in the old town hall, which was painted blue in the spring.\n\n\
            Opponents of the transport budget argued that the bus lines would cost more than planned.";
        let (s, sal) = salience(text);
        let lead = score_of(text, &s, &sal, "approved a new budget");
        let trivia = score_of(text, &s, &sal, "painted blue");
        assert!(lead > trivia, "lead {lead} vs trivia {trivia}");
        assert_eq!(sal.ranked()[0], 0);
    }

    #[test]
    fn back_matter_counts_less_than_the_body() {
        let body = "The agencies shared reports on network attacks with eleven partner organizations every week.";
        let text = format!(
            "Information sharing report\n\nThe office studied how agencies share data on attacks.\n\n\
             Results\n\n{body}\n\nThe partners said that trust grew over years of meetings.\n\n\
             Appendix II: The Organizations\n\n{}\n\nThe partners said that trust grew over years of meetings.",
            body.replace("every week", "every month")
        );
        let (s, sal) = salience(&text);
        let appendix = s.iter().position(|r| text[r.clone()].starts_with("Appendix II")).unwrap();
        assert_eq!(sal.role[appendix], Role::Heading, "an appendix line is a heading, not a field");
        let (main, back) = (score_of(&text, &s, &sal, "every week"), score_of(&text, &s, &sal, "every month"));
        assert!(back <= main * 0.6, "body {main} vs appendix {back}");
    }

    #[test]
    fn a_section_lead_is_preferred_within_its_section() {
        let text = "# Water report\n\nRivers carry water from the land to the sea in every season of the year.\n\n\
            ## Findings\n\nThe study found that river discharge fell by 8 percent across the basin since 1990.\n\n\
            Some of the measurements were taken from a small wooden boat on quiet mornings in the delta.\n\n\
            ## Methods\n\nThe team used satellite data to estimate the storage of water in the rivers.\n\n\
            Several students helped to carry the heavy instruments up the steep banks.";
        let (s, sal) = salience(text);
        assert_eq!(sal.title, Some(0));
        assert_eq!(sal.role[0], Role::Heading);
        let heading = s.iter().position(|r| &text[r.clone()] == "## Findings").unwrap();
        assert_eq!(sal.role[heading], Role::Heading);
        let lead = score_of(text, &s, &sal, "river discharge fell");
        let other = score_of(text, &s, &sal, "wooden boat");
        assert!(lead > other, "section lead {lead} vs {other}");
        let methods_lead = score_of(text, &s, &sal, "satellite data");
        let methods_other = score_of(text, &s, &sal, "heavy instruments");
        assert!(methods_lead > methods_other, "section lead {methods_lead} vs {methods_other}");
    }

    #[test]
    fn headings_fields_rules_and_code_are_not_body() {
        let text = "PEP: 9999\nTitle: Faster widgets for everyone\nAuthor: Jane Doe\n\nAbstract\n========\n\n\
            This proposal makes every widget in the library faster by caching their layouts.\n\n\
            The cache of every widget in the library holds the following three fields:\n\n\
            x = compute(a[i], b[j]) { return y; }";
        let (s, sal) = salience(text);
        let roles: Vec<(&str, Role)> = s.iter().map(|r| &text[r.clone()]).zip(sal.role.iter().copied()).collect();
        let role = |needle: &str| roles.iter().find(|(t, _)| t.contains(needle)).map(|(_, r)| *r).unwrap();
        assert_eq!(role("PEP: 9999"), Role::Fragment);
        assert_eq!(role("Author:"), Role::Fragment);
        assert_eq!(role("Abstract"), Role::Heading);
        assert_eq!(role("====="), Role::Fragment);
        assert_eq!(role("compute("), Role::Fragment);
        assert_eq!(role("This proposal"), Role::Body);
        assert_eq!(role("holds the following"), Role::Body);
        let lead_in = s.iter().position(|r| text[r.clone()].contains("holds the following")).unwrap();
        assert_eq!(sal.score[lead_in], 0.0, "a lead-in to a list is never a point");
        assert!(opens_mid_sentence("(b) prohibit conflict of interest arrangements with senior staff."));
        assert!(opens_mid_sentence("- exercising ongoing oversight of compensation plans and payments."));
        assert!(!opens_mid_sentence("(b) The board shall prohibit conflicts of interest."));
        assert!(!opens_mid_sentence("2. The board meets every month."));
        assert!(opens_mid_sentence("+1s), with projects like go-fuzz and other efforts."));
        assert!(opens_mid_sentence("(\"read-copy-update\")_ and hazard pointers, two well-known schemes."));
        assert!(opens_mid_sentence("(\"read-copy-update\") [#rcu]_ and, to a lesser extent, hazard pointers."));
        assert!(!opens_mid_sentence("(GAO) The office studied eleven organizations."));
        assert!(!opens_mid_sentence("“We chose the river,” she said."));
        use super::super::text::has_verb;
        assert!(!has_verb(
            "Herbert Smith, Jr. (1985-2002), current Board member, former Chairman of the Finance Committee."
        ));
        assert!(has_verb("The GIL prevents two threads from running at once."));
        assert!(has_verb("We studied 11 organizations."));
        assert!(has_verb("Construction will begin in March."));
        assert!(sal.title.is_some_and(|t| text[s[t].clone()].contains("Faster widgets")));
        assert_eq!(sal.ranked().len(), 2);
    }

    #[test]
    fn similarity_is_cosine_of_shared_terms() {
        let lines = [
            "Solar panels cover the roof of the new library building.",
            "The library roof carries solar panels that power the building.",
            "Cats sleep through most of the afternoon in warm weather.",
        ];
        let v = tfidf(&lines, &[Role::Body; 3]);
        assert!(cosine(&v[0], &v[1]) > 0.3);
        assert!(cosine(&v[0], &v[2]) < 0.05);
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-4);
    }
}
