//! The `/v1/chat/completions` exchange: a chat and its [`GenParams`] as a request body,
//! and a reply body back into text, counts and timings, with the stop rules applied on
//! this side too (servers differ in which of them they honour).

use crate::engine::generate::{GenParams, StopReason};
use crate::template::{ChatPrompt, Role};
use serde_json::{json, Value};
use std::time::Duration;

/// OpenAI's limit on stop sequences in one request.
const MAX_STOP: usize = 4;

/// The request body for `chat` under `params`. The assistant prefix goes as a final
/// assistant message, which llama-server and Ollama continue; a server that starts a new
/// reply instead repeats it, and [`parse_reply`] takes it off again. Greedy runs send
/// temperature 0 and the seed; the repeat penalty and top-k go as the extensions
/// llama-server (`repeat_penalty`) and vLLM (`repetition_penalty`) read.
pub fn request(model: &str, chat: &ChatPrompt, params: &GenParams) -> Value {
    let mut messages: Vec<Value> = chat
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": m.content })
        })
        .collect();
    if !chat.assistant_prefix.is_empty() {
        messages.push(json!({ "role": "assistant", "content": chat.assistant_prefix }));
    }
    let stop: Vec<&str> =
        params.stop_strings.iter().filter(|s| !s.is_empty()).map(String::as_str).take(MAX_STOP).collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "seed": params.seed,
        "stream": false,
    });
    if params.temperature > 0.0 {
        body["top_p"] = json!(params.top_p);
        body["top_k"] = json!(params.top_k);
    }
    if params.repeat_penalty != 1.0 {
        body["repeat_penalty"] = json!(params.repeat_penalty);
        body["repeat_last_n"] = json!(params.repeat_last_n);
        body["repetition_penalty"] = json!(params.repeat_penalty);
    }
    if !stop.is_empty() {
        body["stop"] = json!(stop);
    }
    body
}

/// What a reply holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The continuation of the assistant prefix, stop rules applied.
    pub text: String,
    pub stop: StopReason,
    pub prompt_tokens: Option<usize>,
    pub completion_tokens: Option<usize>,
    /// llama-server's `timings` (prompt_ms, predicted_ms), where given.
    pub prefill: Option<Duration>,
    pub decode: Option<Duration>,
}

/// Reads a chat completion; `Err(why)` when the body is not one.
pub fn parse_reply(v: &Value, prefix: &str, params: &GenParams) -> std::result::Result<Reply, String> {
    if let Some(e) = v.get("error") {
        let msg = e["message"].as_str().or(e.as_str()).unwrap_or("(no message)");
        return Err(format!("the server answered with an error: {msg}"));
    }
    let choice = v["choices"].get(0).ok_or("the reply has no choices[0]")?;
    let content = choice["message"]["content"].as_str().or(choice["text"].as_str());
    let content = content.ok_or("the reply has no choices[0].message.content")?;
    let mut text = strip_prefix(content, prefix).to_string();
    let mut stop = match choice["finish_reason"].as_str() {
        Some("length") => StopReason::Budget,
        _ => StopReason::EndOfGeneration,
    };
    if let Some(s) = apply_stops(&mut text, params) {
        stop = s;
    }
    let usize_at = |p: &str| v.pointer(p).and_then(Value::as_u64).map(|n| n as usize);
    let ms = |p: &str| v.pointer(p).and_then(Value::as_f64).filter(|x| x.is_finite() && *x >= 0.0);
    Ok(Reply {
        text,
        stop,
        prompt_tokens: usize_at("/usage/prompt_tokens"),
        completion_tokens: usize_at("/usage/completion_tokens"),
        prefill: ms("/timings/prompt_ms").map(|m| Duration::from_secs_f64(m / 1000.0)),
        decode: ms("/timings/predicted_ms").map(|m| Duration::from_secs_f64(m / 1000.0)),
    })
}

/// A server that starts a fresh reply instead of continuing the prefix repeats it.
fn strip_prefix<'a>(content: &'a str, prefix: &str) -> &'a str {
    let p = prefix.trim();
    if p.is_empty() {
        return content;
    }
    match content.trim_start().strip_prefix(p) {
        Some(rest) => rest,
        None => content,
    }
}

/// Applies the stop strings and the line limit as the local engine does: text is cut
/// before the first stop string, or after the `max_lines`-th complete non-empty line.
pub fn apply_stops(text: &mut String, params: &GenParams) -> Option<StopReason> {
    let cut = params.stop_strings.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min();
    let mut reason = None;
    if let Some(cut) = cut {
        text.truncate(cut);
        reason = Some(StopReason::StopString);
    }
    if params.max_lines > 0 {
        let mut lines = 0;
        let mut start = 0;
        while let Some(nl) = text[start..].find('\n') {
            let end = start + nl;
            if !text[start..end].trim().is_empty() {
                lines += 1;
            }
            start = end + 1;
            if lines == params.max_lines {
                if start < text.len() {
                    text.truncate(start);
                }
                return Some(StopReason::MaxLines);
            }
        }
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(max_lines: usize, stops: &[&str]) -> GenParams {
        GenParams { max_lines, stop_strings: stops.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn request_carries_prefix_seed_and_greedy_temperature() {
        let chat = ChatPrompt::user("Summarise.").with_system("Be brief.").with_prefix("1.");
        let p = GenParams { max_tokens: 99, seed: 7, repeat_penalty: 1.15, ..params(3, &["Key points", ""]) };
        let b = request("m", &chat, &p);
        assert_eq!(b["model"], "m");
        assert_eq!(b["messages"][0]["role"], "system");
        assert_eq!(b["messages"][1]["content"], "Summarise.");
        assert_eq!(b["messages"][2], json!({"role": "assistant", "content": "1."}));
        assert_eq!(b["max_tokens"], 99);
        assert_eq!(b["temperature"], 0.0);
        assert_eq!(b["seed"], 7);
        assert_eq!(b["stop"], json!(["Key points"]));
        assert!(b.get("top_k").is_none(), "greedy sends no sampling knobs");
        assert!((b["repeat_penalty"].as_f64().unwrap() - 1.15).abs() < 1e-6);
    }

    #[test]
    fn reply_is_cut_after_max_lines_and_prefix_repeat_is_removed() {
        let v = json!({"choices": [{"message": {"content": "1. One thing.\n2. Two.\n\n3. Three.\n4. Four.\n"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 50, "completion_tokens": 20},
                       "timings": {"prompt_ms": 12.5, "predicted_ms": 100.0}});
        let r = parse_reply(&v, "1.", &params(3, &[])).unwrap();
        assert_eq!(r.text, " One thing.\n2. Two.\n\n3. Three.\n");
        assert_eq!(r.stop, StopReason::MaxLines);
        assert_eq!(r.prompt_tokens, Some(50));
        assert_eq!(r.decode, Some(Duration::from_millis(100)));
    }

    #[test]
    fn stop_strings_and_length_finish() {
        let v = json!({"choices": [{"message": {"content": "A tl;dr. Key points: x"}, "finish_reason": "length"}]});
        let r = parse_reply(&v, "", &params(1, &["Key points"])).unwrap();
        assert_eq!(r.text, "A tl;dr. ");
        assert_eq!(r.stop, StopReason::StopString);
        let r = parse_reply(
            &json!({"choices": [{"message": {"content": "cut"}, "finish_reason": "length"}]}),
            "",
            &params(0, &[]),
        )
        .unwrap();
        assert_eq!(r.stop, StopReason::Budget);
        assert_eq!(r.prompt_tokens, None);
    }

    #[test]
    fn not_a_completion_is_an_error() {
        assert!(parse_reply(&json!({"choices": []}), "", &params(0, &[])).unwrap_err().contains("choices[0]"));
        assert!(parse_reply(&json!({"error": {"message": "model not loaded"}}), "", &params(0, &[]))
            .unwrap_err()
            .contains("model not loaded"));
        assert!(parse_reply(&json!({"choices": [{"message": {}}]}), "", &params(0, &[])).is_err());
    }
}
