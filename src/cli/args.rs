//! clap definitions for every command, and their conversion into validated config.

use crate::config::{ModelSpec, RunConfig};
use crate::engine::remote::client::{root_of, ClientOptions};
use crate::engine::remote::RemoteOptions;
use crate::engine::{device, Switches};
use crate::error::{Error, Result};
use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

const SHORT_ABOUT: &str = "Offline article summaries with a small local language model";

const ABOUT: &str = "precis — offline article summaries with a small local language model.

Summaries are made by map-reduce over token-aware chunks, and every key point carries
the byte spans of the source sentences that back it.";

const AFTER: &str = "Examples:
  precis summarize article.txt                 JSON summary on stdout
  precis summarize article.md --format markdown -o summary.md
  precis summarize article.txt --plan          chunk plan and time estimate, no inference
  precis batch docs/ --out summaries/          every .txt/.md/.html under docs/, resumable
  precis batch docs/ --out s/ --shard 0/4      a quarter of them (job arrays; then --merge)
  precis summarize a.txt --backend openai --base-url http://127.0.0.1:8080
                                               the model calls on an OpenAI-compatible server
  precis bench -p 512 -n 128 -r 5 -o md        llama-bench style speed figures
  precis models list                           model cards and what is cached
  precis completions bash > precis.bash        shell completions (bash, zsh, fish, ...)
  precis man > precis.1                        the man page

Exit codes: 0 ok; 1 failure (or a batch with failures); 2 usage error; 130 interrupted
(SIGINT), 143 terminated (SIGTERM).";

#[derive(Parser, Debug)]
#[command(name = "precis", version, about = SHORT_ABOUT, long_about = ABOUT, after_help = AFTER, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (-vv for debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Cli {
    pub fn verbosity(&self) -> i8 {
        if self.quiet {
            -1
        } else {
            self.verbose.min(3) as i8
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Summarise one or more articles (each to its own output).
    Summarize(SummarizeArgs),
    /// Summarise every document under a folder, resumably.
    Batch(BatchArgs),
    /// Inference speed, llama-bench style (pp, tg and whole-summary tests).
    Bench(BenchArgs),
    /// The model catalogue (models/*.toml) and the local cache.
    Models(ModelsArgs),
    /// Print a model's reply to one prompt (for checking a model).
    Generate(GenerateArgs),
    /// Shell completions for precis, on stdout.
    Completions(CompletionsArgs),
    /// The man page (roff), on stdout.
    Man(ManArgs),
}

/// Options of every command that runs a model.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// A card id from `precis models list`, or a path to a local .gguf file.
    #[arg(short = 'm', long, value_name = "ID|PATH")]
    pub model: Option<String>,
    /// auto (CUDA when built in and present, else CPU), cpu, cuda, cuda:N.
    #[arg(long, default_value = "auto", value_name = "DEVICE")]
    pub device: String,
    /// CPU threads [default: physical cores]; `precis bench` takes a comma-separated list.
    #[arg(short = 't', long, value_name = "N", value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// No network at all (HF_HUB_OFFLINE=1 means the same).
    #[arg(long)]
    pub offline: bool,
    /// Seed for sampling (only matters with --temperature > 0).
    #[arg(long, default_value_t = crate::engine::DEFAULT_SEED)]
    pub seed: u64,
    /// Sampling temperature; 0 is greedy and deterministic.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Inference implementation: auto, native (own CPU kernels), dense (batched, the CUDA
    /// default), candle, or openai (an OpenAI-compatible server at --base-url).
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Experiment: the dense backend's float type, f32, f16 or bf16 [default: f32 on the CPU, f16 on CUDA].
    #[arg(long, hide = true, env = "PRECIS_DENSE_DTYPE", value_name = "TYPE")]
    pub dense_dtype: Option<String>,
    /// Experiment: the dense backend's fused CUDA kernels (0 turns them off).
    #[arg(long, hide = true, env = "PRECIS_DENSE_FUSED", default_value = "1", action = clap::ArgAction::Set,
          value_parser = FalseyValueParser::new(), value_name = "0|1")]
    pub dense_fused: bool,
    /// Experiment: the AVX2 tiles even where the CPU has AVX-512 VNNI.
    #[arg(long, hide = true, env = "PRECIS_NO_VNNI", value_parser = FalseyValueParser::new())]
    pub no_vnni: bool,
    /// With --backend openai: the server, e.g. http://127.0.0.1:8080 (the /v1 is optional).
    #[arg(long, env = "PRECIS_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// With --backend openai: the variable that holds the API key, if the server wants one.
    #[arg(long, default_value = "OPENAI_API_KEY", value_name = "VAR")]
    pub api_key_env: String,
    /// With --backend openai: the served model's name [default: the --model card's id if
    /// the server lists it, else the first model it lists].
    #[arg(long, value_name = "NAME")]
    pub remote_model: Option<String>,
    /// With --backend openai: requests in flight at once (match the server's slots).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub parallel: usize,
    /// With --backend openai: seconds to wait for a reply (and to connect: at most 10).
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub timeout: u64,
    /// With --backend openai: further tries on 429, 5xx and dropped connections, with backoff.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,
}

impl ModelArgs {
    /// The settings of one run (one `--threads` value at most).
    pub fn to_config(&self, verbosity: i8) -> Result<RunConfig> {
        match self.threads.as_slice() {
            [] => self.config_with(device::default_threads(), verbosity),
            [t] => self.config_with(*t, verbosity),
            _ => Err(Error::Usage("--threads: one number (a list is for precis bench)".into())),
        }
    }

    /// One run's settings for each `--threads` value (`precis bench -t 1,2`).
    pub fn to_configs(&self, verbosity: i8) -> Result<Vec<RunConfig>> {
        if self.threads.is_empty() {
            return Ok(vec![self.to_config(verbosity)?]);
        }
        self.threads.iter().map(|&t| self.config_with(t, verbosity)).collect()
    }

    fn config_with(&self, threads: usize, verbosity: i8) -> Result<RunConfig> {
        let switches = Switches {
            dense_dtype: self.dense_dtype.as_deref().filter(|s| !s.is_empty()).map(str::parse).transpose()?,
            no_fused: !self.dense_fused,
            no_vnni: self.no_vnni,
        };
        let remote = self.remote()?;
        let cfg = RunConfig {
            model: ModelSpec::parse(self.model.as_deref())?,
            device: self.device.parse()?,
            threads,
            backend: if remote.is_some() { Default::default() } else { self.backend.parse()? },
            switches,
            remote,
            model_given: self.model.is_some(),
            offline: self.offline || RunConfig::offline_from_env(),
            seed: self.seed,
            temperature: self.temperature,
            verbosity,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The remote backend's settings, when `--backend openai` asks for it.
    fn remote(&self) -> Result<Option<RemoteOptions>> {
        if self.backend != "openai" {
            if self.base_url.is_some() && std::env::var_os("PRECIS_BASE_URL").is_none() {
                return Err(Error::Usage("--base-url: only with --backend openai".into()));
            }
            return Ok(None);
        }
        let Some(url) = &self.base_url else {
            return Err(Error::Usage(
                "--backend openai: give the server with --base-url URL (or PRECIS_BASE_URL)".into(),
            ));
        };
        if self.parallel == 0 || self.parallel > 256 {
            return Err(Error::Usage(format!("--parallel {}: must be between 1 and 256", self.parallel)));
        }
        if self.timeout == 0 || self.retries > 20 {
            return Err(Error::Usage("--timeout must be at least 1 s and --retries at most 20".into()));
        }
        let api_key = std::env::var(&self.api_key_env).ok().filter(|k| !k.trim().is_empty());
        Ok(Some(RemoteOptions {
            client: ClientOptions {
                root: root_of(url)?,
                api_key,
                connect_timeout: Duration::from_secs(self.timeout.min(10)),
                read_timeout: Duration::from_secs(self.timeout),
                retries: self.retries,
                backoff: Duration::from_millis(500),
            },
            model: self.remote_model.clone(),
            parallel: self.parallel,
        }))
    }
}

/// Options that shape a summary.
#[derive(Args, Debug, Clone)]
pub struct SummaryArgs {
    /// Output format: json, markdown, text.
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Drop key points whose names or numbers the source does not contain, or that give a
    /// name words the source says of another name (flagged in `warnings` otherwise).
    #[arg(long)]
    pub strict: bool,
    /// Most article tokens per chunk (the model's context also bounds it).
    #[arg(long, default_value_t = 160, value_name = "N")]
    pub chunk_tokens: usize,
    /// Key points in the summary [default: from the document's length].
    #[arg(long, value_name = "N")]
    pub points: Option<usize>,
    /// Refuse inputs larger than this (bytes; K, M, G suffixes)
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "32M")]
    pub max_input_bytes: u64,
}

/// `1000`, `64K`, `32M`, `1G` (powers of 1024) → bytes.
fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("{s}: expected a number of bytes, e.g. 1000, 64K, 32M or 1G")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s}: expected a positive number of bytes, e.g. 1000, 64K, 32M or 1G"))
}

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// Articles to summarise (.txt, .md, .html; - for stdin).
    #[arg(value_name = "FILE|-", required = true)]
    pub files: Vec<PathBuf>,
    /// Write here (atomically) instead of stdout; with several inputs, a folder.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Print the chunk plan and an estimated time, without running the model.
    #[arg(long)]
    pub plan: bool,
    #[command(flatten)]
    pub summary: SummaryArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Folder to walk recursively.
    pub dir: PathBuf,
    /// Output folder: DIR/a/b.txt becomes OUT/a/b.json; plus OUT/manifest.jsonl.
    #[arg(long, value_name = "OUTDIR")]
    pub out: PathBuf,
    /// Which files to take (repeatable) [default: *.txt, *.md, *.markdown, *.html].
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,
    /// Redo documents whose output is already up to date.
    #[arg(long)]
    pub force: bool,
    /// Only shard K of N (K from 0): the files whose relative path hashes to K, with the
    /// shard's own OUT/manifest.K-of-N.jsonl (for job arrays).
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    pub shard: Option<super::shard::Shard>,
    /// Run nothing: join OUT/manifest.*-of-*.jsonl into OUT/manifest.jsonl and list
    /// (on stdout) the files under DIR that no shard has done; exit 1 if there are any.
    #[arg(long)]
    pub merge: bool,
    /// Documents in flight at once (1 to 256), their model calls merged into one batch
    /// for the engine [default: 4; with --backend openai, --parallel]. The engine's own
    /// threads (--threads) stay the only heavy CPU users, so more jobs do not
    /// oversubscribe the CPU; 1 summarises one document after another.
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub summary: SummaryArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Prompt lengths to test (pp tests), comma-separated; 0 to skip.
    #[arg(short = 'p', long = "n-prompt", value_delimiter = ',', default_value = "512")]
    pub n_prompt: Vec<usize>,
    /// Generation lengths to test (tg tests), comma-separated; 0 to skip.
    #[arg(short = 'n', long = "n-gen", value_delimiter = ',', default_value = "128")]
    pub n_gen: Vec<usize>,
    /// Sequences decoded together in tg tests, comma-separated (tgNxB for B > 1).
    #[arg(short = 'b', long = "batch", value_delimiter = ',', default_value = "1")]
    pub batch: Vec<usize>,
    /// Repetitions of each test (after one warm-up).
    #[arg(short = 'r', long = "repetitions", default_value_t = 5)]
    pub repetitions: usize,
    /// Output format: md, csv, json, jsonl.
    #[arg(short = 'o', long = "output", default_value = "md")]
    pub output: String,
    /// Also time a whole summary of FILE (the sum@FILE test); repeatable.
    #[arg(long = "sum", value_name = "FILE")]
    pub sum: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Args, Debug)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub action: ModelsAction,
}

#[derive(Subcommand, Debug)]
pub enum ModelsAction {
    /// The model cards, and whether each is cached.
    List {
        /// One JSON object per card.
        #[arg(long)]
        json: bool,
    },
    /// One card, its cache path, and (when cached) the file's metadata.
    Info {
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Fetch a model into the cache (hub, else the offline mirror), checking its sha256.
    Pull {
        id: Option<String>,
        #[arg(long)]
        offline: bool,
    },
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The user message.
    pub prompt: String,
    /// A system message (else the model template's default).
    #[arg(long)]
    pub system: Option<String>,
    /// Most tokens to generate.
    #[arg(short = 'n', long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Print timings, token counts and the generated token ids as JSON instead of the reply alone.
    #[arg(long)]
    pub json: bool,
    /// Send PROMPT as it is, without the chat template, parsing control tokens such as
    /// `<|im_start|>` in it (like llama.cpp's `llama-cli -p`), for checks against other tools.
    #[arg(long, conflicts_with = "system")]
    pub raw: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command's own page (e.g. summarize) instead of precis(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}
