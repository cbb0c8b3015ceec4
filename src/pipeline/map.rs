//! Stage 4, map: the model's calls, all in one pass where the engine batches. Each chosen
//! sentence is rewritten as a short key point (`prompts/point.j2`); the two title prompts
//! read the document's opening, and the tl;dr prompt its most salient sentences.

use super::calls::Calls;
use super::candidate::Candidate;
use super::{text, Ctx, Params, Progress, BATCH};
use crate::engine::GenParams;
use crate::error::Result;
use crate::template::ChatPrompt;
use serde_json::json;
use std::time::Instant;

/// What a prompt of the batch is for.
#[derive(Clone, Copy)]
enum Job {
    Point(usize),
    Title,
    Tldr,
}

/// The replies of the map stage.
pub(super) struct Mapped {
    /// The model's rewrite of each candidate (same order), cleaned.
    pub(super) rewrites: Vec<String>,
    /// Cleaned titles, in prompt order.
    pub(super) titles: Vec<String>,
    /// The model's tl;dr, cleaned.
    pub(super) tldr: String,
}

/// Most words of one source sentence that a prompt reads: a run-on "sentence" (a page
/// without a full stop) must not overflow the model's context.
const SENTENCE_WORDS: usize = 120;
/// Most characters per word allowed for, so that one enormous "word" is bounded too.
const CHARS_PER_WORD: usize = 12;

/// `s` cut to its first `words` words and `words × CHARS_PER_WORD` characters.
fn bounded(s: &str, words: usize) -> String {
    let cut: String = s.split_whitespace().take(words).collect::<Vec<_>>().join(" ");
    cut.chars().take(words * CHARS_PER_WORD).collect()
}

/// Runs every model call of a summary.
pub(super) fn run(
    cx: &Ctx,
    params: &Params,
    calls: &mut Calls,
    candidates: &[Candidate],
    tldr_source: &str,
    progress: Progress,
) -> Result<Mapped> {
    let mut jobs: Vec<(ChatPrompt, &GenParams, Job)> = Vec::new();
    for (k, c) in candidates.iter().enumerate() {
        let sentence = bounded(cx.doc.text[cx.plan.sentences[c.sentence].clone()].trim(), SENTENCE_WORDS);
        let user = cx.prompts.render("point.j2", json!({ "sentence": sentence, "max_words": cx.point_words }))?;
        jobs.push((ChatPrompt::user(user), &params.point, Job::Point(k)));
    }
    for prompt in ["title.j2", "title_retry.j2"] {
        let user = cx.prompts.render(prompt, json!({ "text": bounded(&cx.opening, 2 * SENTENCE_WORDS) }))?;
        jobs.push((ChatPrompt::user(user), &params.title, Job::Title));
    }
    let user = cx.prompts.render("tldr.j2", json!({ "text": bounded(tldr_source, 3 * SENTENCE_WORDS) }))?;
    jobs.push((ChatPrompt::user(user), &params.tldr, Job::Tldr));

    let total = jobs.len();
    progress("map", 0, total);
    let mut out = Mapped { rewrites: vec![String::new(); candidates.len()], titles: Vec::new(), tldr: String::new() };
    let mut done = 0;
    for group in jobs.chunks(BATCH) {
        let chats: Vec<(&ChatPrompt, &GenParams)> = group.iter().map(|(c, p, _)| (c, *p)).collect();
        let t = Instant::now();
        let replies = calls.run_batch(&chats)?;
        tracing::info!("map: {} prompts in {:.2} s", group.len(), t.elapsed().as_secs_f64());
        for (reply, (_, _, job)) in replies.iter().zip(group) {
            match *job {
                Job::Point(k) => out.rewrites[k] = text::clean_point(reply),
                Job::Title => out.titles.push(text::clean_title(reply)),
                Job::Tldr => out.tldr = text::clean_tldr(reply, 45),
            }
        }
        done += group.len();
        progress("map", done, total);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_reads_a_bounded_piece_of_a_run_on_sentence() {
        let long = "word ".repeat(5000);
        assert_eq!(bounded(&long, 120).split_whitespace().count(), 120);
        let huge = "x".repeat(100_000);
        assert_eq!(bounded(&huge, 120).chars().count(), 120 * CHARS_PER_WORD);
        assert_eq!(bounded("A short sentence.", 120), "A short sentence.");
    }
}
