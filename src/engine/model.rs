//! The GGUF engine: load a checked GGUF file onto a device with candle (or precis's own
//! CPU path), with its tokenizer and chat template, behind the [`Engine`] trait.
//! The load → tokenise → prefill → decode path lives here and in `generate.rs`.

use super::arch::Config;
use super::chat::encode_parts;
use super::cpu::{CpuModel, Tiles};
use super::dense::DenseModel;
use super::device;
use super::generate::{self, Forward, GenParams, Generation, Job};
use super::gguf::{GgufInfo, Value};
use super::options::{DenseDType, Switches};
use super::tokenizer::GgufTokenizer;
use super::{Engine, ModelInfo};
use crate::error::{Error, Result};
use crate::template::{ChatPrompt, ChatTemplate};
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_qwen2};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use super::options::{Backend, LoadOptions};

/// What a run knows of a model file before its weights load.
pub struct Preview {
    pub tokenizer: GgufTokenizer,
    /// Positions a run of the backend asked for can hold (the file's context length).
    pub context_length: usize,
}

/// A GGUF model loaded for inference.
pub struct GgufEngine {
    info: ModelInfo,
    tokenizer: GgufTokenizer,
    template: ChatTemplate,
    model: Box<dyn Forward>,
}

impl GgufEngine {
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let t0 = Instant::now();
        // The device (a CUDA context takes a fifth of a second) comes up while the header
        // and the tokenizer are read.
        let (meta, device) = std::thread::scope(|s| {
            let device = s.spawn(|| device::resolve(opts.device).map(|d| (d, t0.elapsed())));
            let meta = Self::read_meta(path, opts).map(|m| (m, t0.elapsed()));
            let device = device.join().unwrap_or_else(|_| Err(Error::Engine("device thread panicked".into())));
            (meta, device)
        });
        let ((gguf, cfg, tokenizer, template), t_tok) = meta?;
        let ((dev, dev_name), t_dev) = device?;
        let t_weights = t0.elapsed();
        let (model, backend) = load_backend(&gguf, &cfg, &dev, opts)?;
        tracing::debug!(
            "load: metadata and tokenizer {:.3} s, device {:.3} s (side by side), weights ({backend}) {:.3} s",
            t_tok.as_secs_f64(),
            t_dev.as_secs_f64(),
            (t0.elapsed() - t_weights).as_secs_f64()
        );
        let (size_bytes, n_params) = gguf.size_and_params();
        let info = ModelInfo {
            filename: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            model_type: format!("{} {} {}", cfg.arch, human_params(n_params), gguf.main_type()),
            architecture: cfg.arch.clone(),
            size_bytes,
            n_params,
            context_length: cfg.ctx.min(model.max_positions()),
            vocab_size: tokenizer.vocab_size(),
            device: dev_name,
            backend: backend.into(),
            threads: opts.threads,
            switches: opts.switches.to_string(),
            load_time: t0.elapsed(),
        };
        Ok(GgufEngine { info, tokenizer, template, model })
    }

    /// The tokenizer and context length of the file at `path`, read and checked as
    /// [`GgufEngine::load`] reads them, without the weights (`summarize --plan`).
    pub fn preview(path: &Path, opts: &LoadOptions) -> Result<Preview> {
        let (_, cfg, tokenizer, _) = Self::read_meta(path, opts)?;
        let context_length = match opts.backend {
            Backend::Candle => candle_positions(&cfg),
            _ => cfg.ctx,
        };
        Ok(Preview { tokenizer, context_length })
    }

    /// The header, hyper-parameters, tokenizer and chat template of the file at `path`.
    fn read_meta(path: &Path, opts: &LoadOptions) -> Result<(GgufInfo, Config, GgufTokenizer, ChatTemplate)> {
        let gguf = GgufInfo::read(path)?;
        gguf.check_supported()?;
        let cfg = Config::from_gguf(&gguf)?;
        if let Some(want) = &opts.expect_arch {
            if *want != cfg.arch {
                return Err(Error::model(path, format!("the model card says {want}, the file is {}", cfg.arch)));
            }
        }
        let tokenizer = GgufTokenizer::from_gguf(&gguf, &opts.eog_tokens)?;
        let template = chat_template(&gguf, &tokenizer)?;
        Ok((gguf, cfg, tokenizer, template))
    }

    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }
}

impl Engine for GgufEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode_plain(text)
    }
    fn encode_raw(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode_special(text)
    }
    fn encode_chat(&self, chat: &ChatPrompt) -> Result<Vec<u32>> {
        encode_parts(&self.tokenizer, &self.template.render(chat)?)
    }
    fn decode(&self, tokens: &[u32]) -> Result<String> {
        self.tokenizer.decode(tokens)
    }
    fn generate(&mut self, prompt: &[u32], params: &GenParams) -> Result<Generation> {
        let tok = &self.tokenizer;
        generate::generate(self.model.as_mut(), prompt, params, &|t| tok.is_eog(t), &|ids| tok.decode(ids))
    }
    fn generate_jobs(&mut self, jobs: &[Job]) -> Result<Vec<Generation>> {
        let tok = &self.tokenizer;
        generate::generate_batch(self.model.as_mut(), jobs, &|t| tok.is_eog(t), &|ids| tok.decode(ids))
    }
}

fn chat_template(gguf: &GgufInfo, tok: &GgufTokenizer) -> Result<ChatTemplate> {
    let piece =
        |key: &str| gguf.get(key).and_then(Value::as_u64).and_then(|id| tok.piece(id as u32)).unwrap_or("").to_string();
    let source = gguf.get("tokenizer.chat_template").and_then(Value::as_str).unwrap_or(
        // ChatML, for files that carry no template.
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n",
    );
    ChatTemplate::new(source, &piece("tokenizer.ggml.bos_token_id"), &piece("tokenizer.ggml.eos_token_id"))
        .map_err(|e| Error::model(&gguf.path, format!("tokenizer.chat_template: {e}")))
}

fn human_params(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.1}B", n as f64 / 1e9)
    } else {
        format!("{}M", (n as f64 / 1e6).round())
    }
}

/// Picks and loads the backend: precis's own CPU path on the CPU, the dense batched
/// model on CUDA, candle's quantised models where asked for or where the CPU path does
/// not support the file. The candle-based backends get their own rayon pool of
/// `opts.threads` threads (never the process-wide one, so two engines keep two counts).
fn load_backend(
    gguf: &GgufInfo,
    cfg: &Config,
    dev: &Device,
    opts: &LoadOptions,
) -> Result<(Box<dyn Forward>, &'static str)> {
    let on_cpu = matches!(dev, Device::Cpu);
    let native = || CpuModel::from_gguf(gguf, opts.threads, Tiles::detect(!opts.switches.no_vnni));
    match (opts.backend, on_cpu) {
        (Backend::Native, false) => {
            Err(Error::Usage("--backend native runs on the CPU only; use --device cpu or --backend candle".into()))
        }
        (Backend::Native, true) => Ok((Box::new(NativeForward(native()?)), "native")),
        (Backend::Dense, _) | (Backend::Auto, false) => {
            let pool = thread_pool(opts.threads)?;
            let dtype = dense_dtype(dev, &opts.switches);
            let fused = !opts.switches.no_fused;
            let model = pool.install(|| {
                std::thread::scope(|s| {
                    // The kernels' first use in this process, beside the weights' load.
                    let warm = dev.is_cuda().then(|| {
                        s.spawn(|| {
                            let t = std::time::Instant::now();
                            DenseModel::warm_up(cfg, dev, dtype).map_err(|e| Error::Engine(e.to_string()))?;
                            Ok::<_, Error>(t.elapsed())
                        })
                    });
                    let model = DenseModel::load(gguf, dev, dtype, fused);
                    match warm.map(|h| h.join()) {
                        Some(Ok(Ok(t))) => {
                            tracing::debug!("kernels warmed beside the load in {:.3} s", t.as_secs_f64())
                        }
                        Some(Ok(Err(e))) => tracing::debug!("kernel warm-up failed (harmless): {e}"),
                        Some(Err(_)) => tracing::debug!("kernel warm-up panicked (harmless)"),
                        None => {}
                    }
                    model
                })
            })?;
            Ok((Box::new(OnPool { pool, inner: DenseForward(model) }), "dense"))
        }
        (Backend::Auto, true) => match native() {
            Ok(m) => Ok((Box::new(NativeForward(m)), "native")),
            Err(e) => {
                tracing::warn!("precis's CPU path cannot run this file ({e}); using candle");
                load_candle(gguf, cfg, dev, opts.threads)
            }
        },
        (Backend::Candle, _) => load_candle(gguf, cfg, dev, opts.threads),
    }
}

/// A rayon pool of `n` threads for one engine's candle operations.
fn thread_pool(n: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .thread_name(|i| format!("precis-candle-{i}"))
        .build()
        .map_err(|e| Error::Engine(format!("cannot start {n} threads: {e}")))
}

/// A candle-based backend whose every call runs on its engine's own rayon pool.
struct OnPool<F> {
    pool: rayon::ThreadPool,
    inner: F,
}

impl<F: Forward + Send> Forward for OnPool<F> {
    fn clear_cache(&mut self) {
        self.inner.clear_cache();
    }
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let (pool, inner) = (&self.pool, &mut self.inner);
        pool.install(|| inner.forward(tokens, pos))
    }
    fn max_positions(&self) -> usize {
        self.inner.max_positions()
    }
    fn batch_slots(&self) -> usize {
        self.inner.batch_slots()
    }
    fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        let (pool, inner) = (&self.pool, &mut self.inner);
        pool.install(|| inner.forward_batch(seqs))
    }
    fn can_fork(&self) -> bool {
        self.inner.can_fork()
    }
    fn fork_slot(&mut self, src: usize, dst: usize, len: usize) -> Result<()> {
        self.inner.fork_slot(src, dst, len)
    }
}

/// Sequences the native backend decodes together.
const NATIVE_SLOTS: usize = 16;

/// precis's own CPU model, behind [`Forward`].
struct NativeForward(CpuModel);

impl Forward for NativeForward {
    fn clear_cache(&mut self) {
        self.0.clear_cache();
    }
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        self.0.forward(tokens, pos)
    }
    fn max_positions(&self) -> usize {
        self.0.context_length()
    }
    fn batch_slots(&self) -> usize {
        NATIVE_SLOTS
    }
    fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        self.0.forward_batch(seqs)
    }
    fn can_fork(&self) -> bool {
        true
    }
    fn fork_slot(&mut self, src: usize, dst: usize, len: usize) -> Result<()> {
        self.0.fork_slot(src, dst, len)
    }
    /// Every row is computed on its own (its attention reads its own slot up to its
    /// position), and a write at position `pos` sets the slot's length to the row's end.
    fn can_refill(&self) -> bool {
        true
    }
}

/// The float type of the dense model's weights and activations: f32 on the CPU, f16 on
/// CUDA (half the memory, faster prefill; decode speed was the same as f32's within the
/// noise of the H100 runs, see BENCHMARKS.md); the `dense_dtype` switch overrides it.
fn dense_dtype(dev: &Device, switches: &Switches) -> candle_core::DType {
    use candle_core::DType;
    match switches.dense_dtype {
        None if dev.is_cpu() => DType::F32,
        None => DType::F16,
        Some(DenseDType::F32) => DType::F32,
        Some(DenseDType::F16) => DType::F16,
        Some(DenseDType::Bf16) => DType::BF16,
    }
}

/// Sequences the dense backend decodes together.
const DENSE_SLOTS: usize = 32;

/// The dense batched model, behind [`Forward`].
struct DenseForward(DenseModel);

impl Forward for DenseForward {
    fn clear_cache(&mut self) {
        self.0.clear_cache();
    }
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        Ok(self.0.forward_batch(&[(0, tokens, pos)])?.swap_remove(0))
    }
    fn max_positions(&self) -> usize {
        self.0.context_length()
    }
    fn batch_slots(&self) -> usize {
        DENSE_SLOTS
    }
    fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        self.0.forward_batch(seqs)
    }
}

/// candle's quantised llama / qwen2, behind [`Forward`].
enum CandleModel {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
}

struct CandleForward {
    model: CandleModel,
    device: Device,
    max_positions: usize,
    path: PathBuf,
}

/// Positions candle's quantised model of this architecture can hold: candle's llama sizes
/// its RoPE tables to `MAX_SEQ_LEN`, whatever the file says.
fn candle_positions(cfg: &Config) -> usize {
    match cfg.arch.as_str() {
        "llama" => cfg.ctx.min(quantized_llama::MAX_SEQ_LEN),
        _ => cfg.ctx,
    }
}

fn load_candle(
    gguf: &GgufInfo,
    cfg: &Config,
    dev: &Device,
    threads: usize,
) -> Result<(Box<dyn Forward>, &'static str)> {
    let path = &gguf.path;
    let cerr = |e: candle_core::Error| Error::model(path, device::first_line(&e.to_string()));
    let pool = thread_pool(threads)?;
    let mut file = gguf.open()?;
    let content = candle_core::quantized::gguf_file::Content::read(&mut file).map_err(cerr)?;
    let model = pool.install(|| -> Result<CandleModel> {
        Ok(match cfg.arch.as_str() {
            "llama" => {
                CandleModel::Llama(quantized_llama::ModelWeights::from_gguf(content, &mut file, dev).map_err(cerr)?)
            }
            "qwen2" => {
                CandleModel::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, &mut file, dev).map_err(cerr)?)
            }
            other => return Err(Error::model(path, format!("unsupported architecture {other:?}"))),
        })
    })?;
    let inner = CandleForward { model, device: dev.clone(), max_positions: candle_positions(cfg), path: path.clone() };
    Ok((Box::new(OnPool { pool, inner }), "candle"))
}

impl Forward for CandleForward {
    fn clear_cache(&mut self) {
        match &mut self.model {
            CandleModel::Llama(m) => m.clear_kv_cache(),
            CandleModel::Qwen2(m) => m.clear_kv_cache(),
        }
    }

    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let (model, device) = (&mut self.model, &self.device);
        let mut run = || -> candle_core::Result<Vec<f32>> {
            let x = Tensor::new(tokens, device)?.unsqueeze(0)?;
            let logits = match model {
                CandleModel::Llama(m) => m.forward(&x, pos)?,
                CandleModel::Qwen2(m) => m.forward(&x, pos)?,
            };
            logits.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()
        };
        run().map_err(|e| Error::Engine(format!("{}: {}", self.path.display(), device::first_line(&e.to_string()))))
    }

    fn max_positions(&self) -> usize {
        self.max_positions
    }
}
