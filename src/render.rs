//! Output formats of a summary: JSON (the contract), Markdown and plain text. Pure
//! string building; writing to stdout or a file is the caller's job.

use crate::error::{Error, Result};
use crate::summary::Summary;
use std::fmt::Write;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Markdown,
    Text,
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "text" | "txt" => Ok(Format::Text),
            _ => Err(Error::Usage(format!("--format {s}: expected json, markdown or text"))),
        }
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Text => "txt",
        }
    }
}

pub fn render(s: &Summary, format: Format) -> String {
    match format {
        Format::Json => json(s),
        Format::Markdown => markdown(s),
        Format::Text => text(s),
    }
}

pub fn json(s: &Summary) -> String {
    let mut out = serde_json::to_string_pretty(s).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

pub fn markdown(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", s.title);
    if !s.tldr.is_empty() {
        let _ = writeln!(o, "**TL;DR:** {}\n", s.tldr);
    }
    let _ = writeln!(o, "## Key points\n");
    for (i, k) in s.key_points.iter().enumerate() {
        let _ = writeln!(o, "{}. {} *(support {:.2})*", i + 1, k.text, k.support);
        for e in &k.evidence {
            let _ = writeln!(o, "   > {} — bytes {}–{}", e.quote.replace('\n', " "), e.start, e.end);
        }
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(o, "\n## Warnings\n");
        for w in &s.warnings {
            let _ = writeln!(o, "- {w}");
        }
    }
    let st = &s.stats;
    let _ = writeln!(
        o,
        "\n---\n*{} · {} tokens in {} chunk(s) · {} model calls · prefill {:.0} tok/s, decode {:.0} tok/s · {:.2} s*",
        s.model.id,
        s.source.tokens,
        s.chunks.len(),
        st.model_calls,
        st.prefill_tok_s,
        st.decode_tok_s,
        st.wall_s
    );
    o
}

pub fn text(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}\n", s.title);
    if !s.tldr.is_empty() {
        let _ = writeln!(o, "{}\n", s.tldr);
    }
    for k in &s.key_points {
        let _ = writeln!(o, "- {}", k.text);
    }
    for w in &s.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}
