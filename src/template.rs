//! Templates, through minijinja (the only place it appears): the model's own chat
//! template from GGUF metadata, rendered with the globals Hugging Face templates expect,
//! and precis's instruction prompts (`prompts/*.j2`, embedded at build time and
//! overridable with `$PRECIS_PROMPTS_DIR`). Never tokenises; never calls a model.

use crate::error::{Error, Result};
use minijinja::{context, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/prompts.rs"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// A chat to send to a model: its messages, then (optionally) the start of the
/// assistant's reply, which the model continues.
#[derive(Debug, Clone, Default)]
pub struct ChatPrompt {
    pub messages: Vec<Message>,
    pub assistant_prefix: String,
}

impl ChatPrompt {
    pub fn user(content: impl Into<String>) -> Self {
        ChatPrompt {
            messages: vec![Message { role: Role::User, content: content.into() }],
            assistant_prefix: String::new(),
        }
    }
    pub fn with_system(mut self, content: impl Into<String>) -> Self {
        self.messages.insert(0, Message { role: Role::System, content: content.into() });
        self
    }
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.assistant_prefix = prefix.into();
        self
    }
}

/// A piece of a rendered chat: template markup (control-token text allowed) or data
/// (a message's content, or the assistant prefix: never parsed for control tokens).
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Markup(String),
    Data(String),
}

const OPEN: char = '\u{F8F0}';
const CLOSE: char = '\u{F8F1}';

/// A model's chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<Self> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_function("strftime_now", |fmt: String| strftime_today(&fmt, unix_days_now()));
        env.add_template_owned("chat", source.to_string()).map_err(|e| tpl_err("chat_template", e))?;
        Ok(ChatTemplate { env, bos: bos.into(), eos: eos.into() })
    }

    /// Renders `chat` with a generation prompt. Message contents are rendered as markers
    /// and come back as [`Part::Data`], so no content can ever become markup.
    pub fn render(&self, chat: &ChatPrompt) -> Result<Vec<Part>> {
        let markers: Vec<Message> = chat
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| Message { role: m.role, content: format!("{OPEN}{i}{CLOSE}") })
            .collect();
        let tpl = self.env.get_template("chat").map_err(|e| tpl_err("chat_template", e))?;
        let text = tpl
            .render(context! {
                messages => markers,
                add_generation_prompt => true,
                bos_token => self.bos,
                eos_token => self.eos,
                tools => (),
            })
            .map_err(|e| tpl_err("chat_template", e))?;
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(OPEN) {
            if at > 0 {
                parts.push(Part::Markup(rest[..at].to_string()));
            }
            let after = &rest[at + OPEN.len_utf8()..];
            let end = after.find(CLOSE).ok_or_else(|| Error::Template {
                name: "chat_template".into(),
                msg: "a message marker was cut by the template".into(),
            })?;
            let idx: usize = after[..end].parse().map_err(|_| Error::Template {
                name: "chat_template".into(),
                msg: "a message marker was altered by the template".into(),
            })?;
            let content = chat.messages.get(idx).map(|m| m.content.clone()).unwrap_or_default();
            parts.push(Part::Data(content));
            rest = &after[end + CLOSE.len_utf8()..];
        }
        if !rest.is_empty() {
            parts.push(Part::Markup(rest.to_string()));
        }
        if !chat.assistant_prefix.is_empty() {
            parts.push(Part::Data(chat.assistant_prefix.clone()));
        }
        Ok(parts)
    }
}

/// Days since 1970-01-01 (UTC), today.
fn unix_days_now() -> i64 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    (secs / 86_400) as i64
}

/// `strftime_now(fmt)` of Hugging Face chat templates (e.g. Llama 3's `"%d %b %Y"`): the
/// date fields of `fmt` (`%Y %y %m %d %e %b %B %h %F %%`) for the day `days` after
/// 1970-01-01; time-of-day fields and unknown ones are left as written.
fn strftime_today(fmt: &str, days: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let month = MONTHS[(m - 1) as usize];
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out += &y.to_string(),
            Some('y') => out += &format!("{:02}", y.rem_euclid(100)),
            Some('m') => out += &format!("{m:02}"),
            Some('d') => out += &format!("{d:02}"),
            Some('e') => out += &format!("{d:>2}"),
            Some('b') | Some('h') => out += &month[..3],
            Some('B') => out += month,
            Some('F') => out += &format!("{y}-{m:02}-{d:02}"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// precis's instruction prompts.
pub struct Prompts {
    env: Environment<'static>,
}

impl Prompts {
    /// The embedded prompts, each replaced by `$PRECIS_PROMPTS_DIR/<name>` where present.
    pub fn load() -> Result<Self> {
        let dir = std::env::var_os("PRECIS_PROMPTS_DIR").map(PathBuf::from);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_keep_trailing_newline(false);
        for (name, text) in BUILTIN_PROMPTS {
            let text = match dir.as_ref().map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(p) => std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?,
                None => text.to_string(),
            };
            env.add_template_owned(name.to_string(), text).map_err(|e| tpl_err(name, e))?;
        }
        Ok(Prompts { env })
    }

    /// Renders prompt `name` (e.g. `map.j2`) with `ctx`.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String> {
        let tpl = self.env.get_template(name).map_err(|e| tpl_err(name, e))?;
        tpl.render(ctx).map(|s| s.trim().to_string()).map_err(|e| tpl_err(name, e))
    }
}

/// The JSON schema of a summary (`prompts/summary.schema.json`).
pub fn summary_schema() -> &'static str {
    SUMMARY_SCHEMA
}

fn tpl_err(name: &str, e: minijinja::Error) -> Error {
    let mut msg = e.to_string();
    if let Some(line) = e.line() {
        msg = format!("line {line}: {msg}");
    }
    Error::Template { name: name.to_string(), msg: msg.replace('\n', " ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SMOL: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    #[test]
    fn renders_default_system_turn_and_keeps_content_as_data() {
        let t = ChatTemplate::new(SMOL, "", "<|im_end|>").unwrap();
        let parts = t.render(&ChatPrompt::user("Hi <|im_end|> there").with_prefix("1.")).unwrap();
        assert_eq!(
            parts,
            vec![
                Part::Markup("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n".into()),
                Part::Data("Hi <|im_end|> there".into()),
                Part::Markup("<|im_end|>\n<|im_start|>assistant\n".into()),
                Part::Data("1.".into()),
            ]
        );
    }

    #[test]
    fn raise_exception_is_an_error_not_a_panic() {
        let t = ChatTemplate::new("{{ raise_exception('no system role') }}", "", "").unwrap();
        let err = t.render(&ChatPrompt::user("x")).unwrap_err().to_string();
        assert!(err.contains("no system role"), "{err}");
    }

    #[test]
    fn builtin_prompts_render() {
        let p = Prompts::load().unwrap();
        assert!(!BUILTIN_PROMPTS.is_empty());
        assert!(summary_schema().contains("precis.summary/v1"));
        // Each prompt with the variables the pipeline gives it (strict undefined behaviour: a
        // prompt that asks for one more fails here), and what must come out of it.
        let calls = [
            (
                "point.j2",
                json!({ "sentence": "SENTENCE-SENTINEL", "max_words": 12 }),
                &["SENTENCE-SENTINEL", "12 words"][..],
            ),
            ("title.j2", json!({ "text": "TEXT-SENTINEL" }), &["TEXT-SENTINEL"][..]),
            ("title_retry.j2", json!({ "text": "TEXT-SENTINEL" }), &["TEXT-SENTINEL"][..]),
            ("tldr.j2", json!({ "text": "TEXT-SENTINEL" }), &["TEXT-SENTINEL"][..]),
            ("map.j2", json!({ "text": "TEXT-SENTINEL", "n_points": 3 }), &["TEXT-SENTINEL", "3"][..]),
        ];
        for (name, ctx, want) in &calls {
            let out = p.render(name, ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
            for w in *want {
                assert!(out.contains(w), "{name}: no {w:?} in {out}");
            }
        }
        // Every built-in prompt, including any not listed above, renders to an instruction
        // and the text it was given, with no template markup left.
        let all = json!({
            "text": "TEXT-SENTINEL",
            "n_points": 3,
            "sentence": "SENTENCE-SENTINEL",
            "max_words": 12,
            "opening": "OPENING-SENTINEL",
            "points": ["POINT-SENTINEL"],
        });
        for (name, _) in BUILTIN_PROMPTS {
            assert!(name.ends_with(".j2"), "{name}");
            let out = p.render(name, &all).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!out.contains("{{") && !out.contains("{%") && !out.contains("{#"), "{name}: markup left: {out}");
            assert!(out.contains("SENTINEL"), "{name} renders none of its inputs: {out}");
            assert!(out.lines().next().is_some_and(|l| l.len() > 10), "{name}: no instruction line: {out}");
        }
    }

    #[test]
    fn strftime_now_gives_the_date() {
        // 2026-11-26 is day 20,783 after 1970-01-01; 2000-02-29 is day 11,016.
        assert_eq!(strftime_today("%d %b %Y", 20_783), "26 Nov 2026");
        assert_eq!(strftime_today("%F (%B %e, %y) 100%% %H", 11_016), "2000-02-29 (February 29, 00) 100% %H");
        assert_eq!(strftime_today("%Y-%m-%d", 0), "1970-01-01");
        let t = ChatTemplate::new("{{ strftime_now('%Y') }}", "", "").unwrap();
        let year = t.render(&ChatPrompt::default()).unwrap();
        let now = strftime_today("%Y", unix_days_now());
        assert_eq!(year, vec![Part::Markup(now.clone())]);
        assert!(now.parse::<i64>().unwrap() >= 2025, "{now}");
    }
}
