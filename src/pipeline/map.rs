//! Stage 2, map: every chunk's prompt (a short numbered list of its key points), decoded
//! together where the engine batches, with the title's two prompts and (for a document
//! that takes one batch) the tl;dr from the opening riding in the first batch. Replies
//! become [`Candidate`]s with their evidence.

use super::calls::Calls;
use super::candidate::Candidate;
use super::{text, Ctx, Params, Progress, BATCH};
use crate::chunk::Chunk;
use crate::engine::GenParams;
use crate::error::Result;
use crate::ground;
use crate::template::ChatPrompt;
use serde_json::json;
use std::time::Instant;

/// What a prompt of the map batch is for.
enum Job<'a> {
    Map(&'a Chunk),
    Title,
    Tldr,
}

/// The map stage's replies.
pub(super) struct Mapped {
    pub(super) candidates: Vec<Candidate>,
    /// Cleaned titles, in prompt order.
    pub(super) titles: Vec<String>,
    /// The tl;dr written from the opening, where it rode in the first batch.
    pub(super) tldr: Option<String>,
}

/// Runs the map prompts of every chunk, with the title (and maybe tl;dr) prompts.
pub(super) fn run(cx: &Ctx, params: &Params, calls: &mut Calls, progress: Progress) -> Result<Mapped> {
    let (doc, plan, opts) = (cx.doc, cx.plan, cx.opts);
    let total = plan.chunks.len() + 3;
    progress("map", 0, total);
    let mut jobs: Vec<(ChatPrompt, &GenParams, Job)> = Vec::new();
    for c in &plan.chunks {
        let text = without_headings(&doc.text[c.range.clone()]);
        let user = cx.prompts.render("map.j2", json!({ "text": text, "n_points": opts.points_per_chunk }))?;
        jobs.push((ChatPrompt::user(user).with_prefix("1."), &params.map, Job::Map(c)));
    }
    // After the first batch's map prompts (a map prompt leads, so that the prompts after it
    // share its whole instruction where the engine reuses a shared prefix). A document that
    // takes one batch gets its tl;dr from the opening there too: one pass over the model.
    let one_batch = jobs.len() + 3 <= BATCH;
    let mut extra = Vec::new();
    for prompt in ["title.j2", "title_retry.j2"] {
        let user = cx.prompts.render(prompt, json!({ "text": cx.opening }))?;
        extra.push((ChatPrompt::user(user), &params.title, Job::Title));
    }
    if one_batch {
        let user = cx.prompts.render("tldr.j2", json!({ "opening": cx.opening, "points": [] }))?;
        extra.push((ChatPrompt::user(user), &params.tldr, Job::Tldr));
    }
    let at = jobs.len().min(BATCH - extra.len());
    jobs.splice(at..at, extra);
    let mut out = Mapped { candidates: Vec::new(), titles: Vec::new(), tldr: None };
    let mut done = 0;
    for group in jobs.chunks(BATCH) {
        let chats: Vec<(&ChatPrompt, &GenParams)> = group.iter().map(|(c, p, _)| (c, *p)).collect();
        let t = Instant::now();
        let replies = calls.run_batch(&chats)?;
        tracing::info!("map: {} prompts in {:.2} s", group.len(), t.elapsed().as_secs_f64());
        for (reply, (_, _, job)) in replies.iter().zip(group) {
            match job {
                Job::Title => out.titles.push(text::clean_title(reply)),
                Job::Tldr => out.tldr = Some(text::clean_tldr(reply, 45)),
                Job::Map(c) => {
                    for p in text::parse_points(reply, opts.point_words) {
                        out.candidates.push(candidate(cx, p, c.range.start));
                    }
                }
            }
        }
        done += group.len();
        progress("map", done, total);
    }
    Ok(out)
}

/// A generated point with its attribution repaired and its evidence found; `fallback_at`
/// places it when nothing in the source backs it.
fn candidate(cx: &Ctx, p: String, fallback_at: usize) -> Candidate {
    let (p, repaired) = cx.claims.repair(&p);
    let (evidence, support) = ground::evidence(&p, &cx.doc.text, &cx.plan.sentences, 2);
    let at = evidence.first().map(|e| cx.plan.sentences[e.sentence].start).unwrap_or(fallback_at);
    Candidate { text: p, evidence, support, at, quality: support, repaired, problem: None }
}

/// The text of a chunk for its map prompt: lines that read as headings (short, capitalised,
/// no closing punctuation) left out, since a small model copies them as "facts". Evidence
/// and offsets still use the whole text.
fn without_headings(text: &str) -> String {
    let heading = |l: &str| {
        let l = l.trim();
        !l.is_empty()
            && l.split_whitespace().count() <= 10
            && l.chars().next().is_some_and(char::is_uppercase)
            && !l.ends_with(['.', '!', '?', ':', ';', ',', '"', '”', '’', ')'])
    };
    let kept: Vec<&str> = text.lines().filter(|l| !heading(l)).collect();
    if kept.iter().all(|l| l.trim().is_empty()) {
        return text.to_string();
    }
    kept.join("\n")
}
