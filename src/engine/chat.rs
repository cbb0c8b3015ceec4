//! Turning a rendered chat into tokens: template markup is encoded with control tokens
//! parsed, every piece of data (message contents, the assistant prefix) as plain text.
//! This is what keeps an article from injecting `<|im_end|>` or any control token.

use super::tokenizer::GgufTokenizer;
use crate::error::Result;
pub use crate::template::{ChatPrompt, Message, Part, Role};

/// Tokens of the rendered `parts`.
pub fn encode_parts(tok: &GgufTokenizer, parts: &[Part]) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    for p in parts {
        match p {
            Part::Markup(t) => ids.extend(tok.encode_special(t)?),
            Part::Data(t) => ids.extend(tok.encode_plain(t)?),
        }
    }
    Ok(ids)
}
