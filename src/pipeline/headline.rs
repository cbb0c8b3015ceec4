//! Stage 6, title and tl;dr. Each is the model's where it passes the grounding checks,
//! and a grounded fallback where it does not, so that a flagged title or a tl;dr cut
//! mid-sentence is never printed:
//! - title: the document's own title line, else the model's (first prompt, then the
//!   plainer second) where it uses no name, number or word the source lacks, else a
//!   headline cut from the most salient sentence;
//! - tl;dr: the model's one-sentence summary of the most salient sentences where they
//!   hold every word of it and its negations, else the most salient
//!   sentence compressed, ending at a clause.

use super::points::problem;
use super::salience::Salience;
use super::{text, Ctx};
use crate::ground;

/// Most words of a title.
const TITLE_WORDS: usize = 16;
/// Most words of a headline cut from a sentence.
const HEADLINE_WORDS: usize = 12;
/// Most words of a tl;dr.
pub(super) const TLDR_WORDS: usize = 40;
/// Least support of the model's tl;dr by the source (its best three sentences).
const MIN_TLDR_SUPPORT: f32 = 0.6;

/// The title: the document's own title line where it has one (an author's title beats a
/// small model's, and is grounded by definition); else the first of the model's `titles`
/// that names nothing the source lacks; else a headline cut from the most salient sentence.
pub(super) fn title(cx: &Ctx, sal: &Salience, titles: &[String], warnings: &mut Vec<String>) -> String {
    if let Some(t) = own_title(cx, sal) {
        return t;
    }
    let mut rejected = Vec::new();
    for t in titles {
        let n = t.split_whitespace().count();
        if n == 0 || n > TITLE_WORDS {
            continue;
        }
        let mut missing = ground::unsupported_terms(t, &cx.doc.text);
        if missing.is_empty() {
            // A title may word things its own way only with the source's words.
            missing = ground::novel_words(t, &cx.doc.text);
            missing.retain(|w| w != "(negation)");
        }
        match missing {
            missing if missing.is_empty() => return t.clone(),
            missing => rejected.push(missing.join(", ")),
        }
    }
    let fallback = extractive_title(cx, sal);
    if !rejected.is_empty() {
        warnings.push(format!(
            "title taken from the source: the model's titles name terms it lacks ({})",
            rejected.join("; ")
        ));
    }
    fallback
}

/// A headline from the most salient sentence (not one that points back: "He figures …")
/// that compresses to a whole clause within a headline's words (a cut one would print its scene-setting opening: "From Bob Clark's
/// office in Boise"), else from the most salient sentence (or the opening) as it comes.
fn extractive_title(cx: &Ctx, sal: &Salience) -> String {
    let ranked = sal.ranked();
    let sentence = |i: usize| &cx.doc.text[cx.plan.sentences[i].clone()];
    let standalone: Vec<usize> = ranked.iter().copied().filter(|&i| !text::points_back(sentence(i))).collect();
    standalone
        .iter()
        .take(5)
        .map(|&i| text::compress(sentence(i), HEADLINE_WORDS))
        .find(|s| !text::hard_cut(s) && s.split_whitespace().count() <= HEADLINE_WORDS)
        .map(|s| s.trim_end_matches('.').to_string())
        .unwrap_or_else(|| {
            let best = standalone.first().or(ranked.first());
            text::headline(best.map_or(cx.opening.as_str(), |&i| sentence(i)), HEADLINE_WORDS)
        })
}

/// The document's own title line, without its markup.
fn own_title(cx: &Ctx, sal: &Salience) -> Option<String> {
    let line = cx.doc.text[cx.plan.sentences[sal.title?].clone()].trim();
    let line = line.strip_prefix("Title:").unwrap_or(line).trim_start_matches('#').trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    (!words.is_empty()).then(|| words[..words.len().min(TITLE_WORDS)].join(" "))
}

/// The tl;dr, and the sentence it was cut from when it is not the model's. `read` is what
/// the model's tl;dr prompt gave it: the reply may word nothing that text lacks.
pub(super) fn tldr(
    cx: &Ctx,
    sal: &Salience,
    reply: &str,
    read: &str,
    warnings: &mut Vec<String>,
) -> (String, Option<usize>) {
    let (mut t, fixes) = cx.claims.repair(reply);
    ground::introduce_names(std::slice::from_mut(&mut t), &cx.doc.text);
    let n = t.split_whitespace().count();
    let complete = t.trim_end_matches(['"', '”', '’', ')']).ends_with(['.', '!', '?']);
    let extractive = extractive_tldr(cx, sal);
    let floor = extractive.as_ref().map_or(0, |(e, _)| text::information(e) * 4 / 5);
    let why = if !(6..=TLDR_WORDS).contains(&n) || !complete {
        Some("not one or two complete sentences".to_string())
    } else if about_the_text(&t) {
        Some("it describes the text instead of saying what it says".to_string())
    } else if text::information(&t) < floor {
        Some("it says less than the most salient sentence".to_string())
    } else if let Some(p) = problem(cx, &t) {
        Some(p)
    } else {
        let (_, support) = ground::evidence(&t, &cx.doc.text, &cx.plan.sentences, 3);
        let novel = ground::novel_words(&t, read);
        if support < MIN_TLDR_SUPPORT {
            Some(format!("support {support:.2}"))
        } else if !novel.is_empty() {
            Some(format!("words the sentences it read lack ({})", novel.join(", ")))
        } else {
            None
        }
    };
    match why {
        None => {
            for r in fixes {
                warnings.push(format!("tl;dr corrected to the source's attribution ({r}): {t}"));
            }
            (t, None)
        }
        Some(why) => {
            match extractive {
                Some((s, i)) => {
                    tracing::info!("model tl;dr replaced ({why}): {t}");
                    (s, Some(i))
                }
                // Nothing to cut one from: no tl;dr beats one that fails the checks.
                None => {
                    warnings.push(format!("no tl;dr: the model's failed the checks ({why}) and the document has no sentence of running text"));
                    (String::new(), None)
                }
            }
        }
    }
}

/// "This article is about…", "The text discusses…": a sentence about the document.
fn about_the_text(t: &str) -> bool {
    let lower = t.to_lowercase();
    let opens = ["this ", "the ", "in this ", "in the "];
    let nouns = ["article", "text", "report", "document", "passage", "story", "paper", "post", "essay"];
    opens.iter().any(|o| nouns.iter().any(|n| lower.starts_with(&format!("{o}{n}"))))
}

/// The most salient sentence that compresses to a whole clause within the tl;dr's words.
/// One that points back to what came before ("From his office …, he figures …") does not
/// stand alone, and is passed over.
fn extractive_tldr(cx: &Ctx, sal: &Salience) -> Option<(String, usize)> {
    let ranked = sal.ranked();
    let sentence = |i: usize| &cx.doc.text[cx.plan.sentences[i].clone()];
    let pick = |i: usize| text::compress(sentence(i), TLDR_WORDS);
    ranked
        .iter()
        .take(5)
        .filter(|&&i| !text::points_back(sentence(i)))
        .map(|&i| (pick(i), i))
        .find(|(s, _)| !text::hard_cut(s))
        .or_else(|| ranked.first().map(|&i| (pick(i), i)))
}

/// The sentence an extractive tl;dr would be cut from (what the summary says anyway).
pub(super) fn tldr_sentence(cx: &Ctx, sal: &Salience) -> Option<usize> {
    extractive_tldr(cx, sal).map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::super::with_ctx;
    use super::*;

    const UNTITLED: &str =
        "The city council approved a budget of 40 million dollars for public transport on Monday.\n\n\
        The budget adds twelve bus lines and extends the tram network to the airport by 2027.\n\n\
        Council members said the transport budget was the largest in the city's history.\n\n\
        Opponents of the budget argued that the bus lines would cost more than the council planned.";

    #[test]
    fn the_documents_own_title_wins() {
        let text = format!("# Tram to the airport\n\n{UNTITLED}");
        let mut warnings = Vec::new();
        let t = with_ctx(&text, |cx, sal| title(cx, sal, &["Council approves transport budget".into()], &mut warnings));
        assert_eq!(t, "Tram to the airport");
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_grounded_model_title_is_kept() {
        let mut warnings = Vec::new();
        let t =
            with_ctx(UNTITLED, |cx, sal| title(cx, sal, &["Council approves transport budget".into()], &mut warnings));
        assert_eq!(t, "Council approves transport budget");
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_title_naming_what_the_source_lacks_is_never_printed() {
        let mut warnings = Vec::new();
        let titles = ["Mayor Smith Unveils Metro Plan".to_string(), "Zurich Transport Revolution".to_string()];
        let t = with_ctx(UNTITLED, |cx, sal| title(cx, sal, &titles, &mut warnings));
        assert!(!t.contains("Smith") && !t.contains("Zurich") && !t.contains("Metro"), "{t}");
        assert!(!t.is_empty() && t.split_whitespace().count() <= 12, "{t}");
        with_ctx(UNTITLED, |cx, _| assert!(ground::unsupported_terms(&t, &cx.doc.text).is_empty(), "{t}"));
        assert!(warnings.iter().any(|w| w.contains("Smith")), "{warnings:?}");
    }

    fn tldr_of(reply: &str) -> (String, Option<usize>) {
        with_ctx(UNTITLED, |cx, sal| tldr(cx, sal, reply, &cx.doc.text, &mut Vec::new()))
    }

    #[test]
    fn a_faithful_model_tldr_is_kept() {
        let reply = "The city council approved a budget of 40 million dollars that adds twelve bus lines.";
        assert_eq!(tldr_of(reply), (reply.to_string(), None));
    }

    #[test]
    fn a_tldr_cut_mid_sentence_falls_back_to_a_whole_source_sentence() {
        let (t, from) =
            tldr_of("The city council approved a budget of 40 million dollars that adds twelve bus lines and");
        assert!(from.is_some(), "{t}");
        assert!(t.ends_with('.') && t.contains("40 million"), "{t}");
    }

    #[test]
    fn a_tldr_about_the_text_or_with_invented_names_falls_back() {
        for reply in [
            "This article discusses the city council and its budget for public transport.",
            "Mayor Johnson approved a budget of 40 million dollars for public transport in Zurich.",
            "The council approved a budget of 95 million dollars for public transport on Monday.",
            "The city council rejected a budget of 40 million dollars for public transport on Monday.",
            "The city council did not approve a budget of 40 million dollars for public transport.",
        ] {
            let (t, from) = tldr_of(reply);
            assert!(from.is_some(), "kept: {t}");
            assert!(!t.contains("Johnson") && !t.contains("95") && !t.starts_with("This article"), "{t}");
        }
    }

    #[test]
    fn without_a_sentence_to_fall_back_to_a_failed_tldr_is_not_printed() {
        let text = "Notes\n\n- red\n- blue\n- green";
        let mut warnings = Vec::new();
        let (t, from) = with_ctx(text, |cx, sal| {
            tldr(
                cx,
                sal,
                "A story of love and redemption in a world where time stands still.",
                &cx.doc.text,
                &mut warnings,
            )
        });
        assert_eq!((t.as_str(), from), ("", None));
        assert!(warnings.iter().any(|w| w.starts_with("no tl;dr")), "{warnings:?}");
    }

    #[test]
    fn an_extractive_tldr_or_title_never_points_back() {
        let text =
            "From her office in Lyon, France, she checks the river gauges along the Rhone every single hour.\n\n\
            The Rhone flooded 40 villages in 2024, the worst flood on record in the valley.\n\n\
            Engineers raised the river banks by two metres after the flood of 2024.";
        let mut warnings = Vec::new();
        let (t, from) = with_ctx(text, |cx, sal| {
            assert_eq!(sal.ranked()[0], 0, "the scene that points back is the most salient");
            tldr(cx, sal, "Not a summary", &cx.doc.text, &mut warnings)
        });
        assert!(from.is_some() && !t.contains("she checks"), "{t}");
        let title = with_ctx(text, |cx, sal| title(cx, sal, &[], &mut warnings));
        assert!(!title.contains("she checks"), "{title}");
    }

    #[test]
    fn a_tldr_that_says_less_than_the_top_sentence_falls_back() {
        let (t, from) = tldr_of("The council made a decision about the city.");
        assert!(from.is_some(), "kept: {t}");
    }
}
