//! `precis generate PROMPT`: one chat turn with a model, for people checking a model.

use super::args::GenerateArgs;
use crate::engine::GenParams;
use crate::error::{Error, Result};
use crate::session;
use crate::template::ChatPrompt;
use serde_json::json;

pub fn run(args: GenerateArgs, verbosity: i8) -> Result<()> {
    let cfg = args.model.to_config(verbosity)?;
    if args.max_tokens == 0 {
        return Err(Error::Usage("--max-tokens: must be at least 1".into()));
    }
    let (mut engine, model_ref) = session::open(&cfg)?;
    let params = GenParams { max_tokens: args.max_tokens, ..cfg.gen_params() };
    let g = if args.raw {
        let prompt = engine.encode_raw(&args.prompt)?;
        engine.generate(&prompt, &params)?
    } else {
        let mut chat = ChatPrompt::user(&args.prompt);
        if let Some(s) = &args.system {
            chat = chat.with_system(s);
        }
        engine.generate_chats(&[(&chat, &params)])?.remove(0)
    };
    if args.json {
        let info = engine.info();
        let v = json!({
            "model": model_ref, "device": info.device, "backend": info.backend, "reply": g.text, "tokens": g.tokens, "stop": g.stop,
            "prompt_tokens": g.prompt_tokens, "generated_tokens": g.tokens.len(),
            "load_s": info.load_time.as_secs_f64(), "prefill_tok_s": g.prefill_tok_s(), "decode_tok_s": g.decode_tok_s(),
        });
        println!("{v}");
    } else {
        println!("{}", g.text.trim_end());
        if verbosity > 0 {
            eprintln!(
                "precis: {} prompt tokens at {:.1} tok/s, {} generated at {:.1} tok/s, stop: {:?}",
                g.prompt_tokens,
                g.prefill_tok_s(),
                g.tokens.len(),
                g.decode_tok_s(),
                g.stop
            );
        }
    }
    Ok(())
}
