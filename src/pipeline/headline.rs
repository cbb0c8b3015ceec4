//! Stages 5 and 6, title and tl;dr: the title from the title prompts' replies, and the
//! tl;dr from the opening (written beside the map calls) or else from the key points.

use super::calls::Calls;
use super::{text, Ctx, Params, TLDR_GROUP};
use crate::error::Result;
use crate::ground;
use crate::template::ChatPrompt;
use serde_json::json;
use std::time::Instant;

/// The title: the first prompt's, unless the second names fewer terms the source lacks;
/// the opening's first words when neither gave one.
pub(super) fn title(cx: &Ctx, titles: Vec<String>, warnings: &mut Vec<String>) -> String {
    let unsupported = |t: &str| ground::unsupported_terms(t, &cx.doc.text).len();
    let mut title = String::new();
    for candidate in titles {
        if !candidate.is_empty() && (title.is_empty() || unsupported(&candidate) < unsupported(&title)) {
            title = candidate;
        }
    }
    if title.is_empty() {
        title = text::cap_words(&cx.opening, 12);
    }
    flag_terms(cx, "title", &title, warnings);
    title
}

/// The tl;dr: `written` (from the opening, beside the map calls), or else one over the
/// key points (groups of TLDR_GROUP, then one over the groups' tl;drs).
pub(super) fn tldr(
    cx: &Ctx,
    params: &Params,
    calls: &mut Calls,
    written: Option<String>,
    points: &[String],
    title: &str,
    warnings: &mut Vec<String>,
) -> Result<String> {
    let t = Instant::now();
    let tldr = match written {
        Some(t) => t,
        None => {
            let mut layer = points.to_vec();
            while layer.len() > TLDR_GROUP {
                let mut next = Vec::new();
                for group in layer.chunks(TLDR_GROUP) {
                    let user = cx.prompts.render("tldr.j2", json!({ "opening": "", "points": group }))?;
                    next.push(text::clean_tldr(&calls.run(&ChatPrompt::user(user), &params.tldr)?, 40));
                }
                layer = next;
            }
            if layer.is_empty() {
                String::new()
            } else {
                let user = cx.prompts.render("tldr.j2", json!({ "opening": cx.opening, "points": layer }))?;
                text::clean_tldr(&calls.run(&ChatPrompt::user(user), &params.tldr)?, 45)
            }
        }
    };
    tracing::info!("tl;dr in {:.2} s", t.elapsed().as_secs_f64());
    let (mut tldr, fixes) = cx.claims.repair(&tldr);
    ground::introduce_names(std::slice::from_mut(&mut tldr), &cx.doc.text);
    for r in fixes {
        warnings.push(format!("tl;dr corrected to the source's attribution ({r}): {tldr}"));
    }
    if tldr.split_whitespace().count() < 4 {
        tldr = points.first().cloned().unwrap_or_else(|| title.to_string());
    }
    flag_terms(cx, "tl;dr", &tldr, warnings);
    Ok(tldr)
}

/// Warns of names and numbers in `text` that the source lacks; of words it gives a name
/// that the source says of another, too, where `text` is prose (a title's capitals hide
/// which words are names).
fn flag_terms(cx: &Ctx, what: &str, text: &str, warnings: &mut Vec<String>) {
    let missing = ground::unsupported_terms(text, &cx.doc.text);
    if !missing.is_empty() {
        warnings.push(format!("{what} has terms not in the source ({}): {text}", missing.join(", ")));
    }
    let swapped = if what == "title" { Vec::new() } else { cx.claims.swapped(text) };
    if !swapped.is_empty() {
        warnings.push(format!("{what} has words the source says of another name ({}): {text}", swapped.join("; ")));
    }
}
