//! One engine shared by several worker threads, with their model calls merged into one
//! batch (`precis batch --jobs N`).
//!
//! The [`Coordinator`] owns the real engine on the calling thread; each worker thread
//! holds a [`Worker`] and, once the model is open, a [`SharedEngine`] that implements
//! [`Engine`] by asking the coordinator over a channel. The coordinator waits for the
//! first request, then gathers the chat requests of the other workers until every live
//! worker is waiting on it (or `window` has passed since the first), and runs them as ONE
//! [`Engine::generate_chats`] call: the local engine decodes them together in its batch
//! slots, the remote one keeps its `--parallel` requests in flight. Each worker gets its
//! own replies back, in order. Tokenizer requests (the chunk planner's counts) are served
//! at once between batches. The engine is opened on the first worker's demand, so a run
//! whose every output is up to date loads nothing.
//!
//! Nothing here can hang: a worker that returns or panics drops its [`Worker`], which
//! tells the coordinator it is gone; a coordinator that stops drops the reply channels,
//! and a waiting worker gets an error. Only the engine's own thread pool does heavy work,
//! so N workers do not oversubscribe the CPU: they wait on the coordinator while it runs.

use super::generate::{GenParams, Generation, Job};
use super::{ChatPrompt, Engine, ModelInfo};
use crate::error::{Error, Result};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

type Reply<T> = Sender<Result<T>>;
type EngineFn = Box<dyn FnOnce(&mut dyn Engine) + Send>;
type Opener<'a, R> = Box<dyn FnOnce() -> Result<(Box<dyn Engine>, R)> + 'a>;

enum Msg<R> {
    /// Open the engine (first time only); reply with its facts and the caller's `R`.
    Open(Reply<(ModelInfo, R)>),
    /// Chats to merge into the next batch.
    Chats(Vec<(ChatPrompt, GenParams)>, Reply<Vec<Generation>>),
    /// Anything else (tokenizer calls, token-level generation): run at once, alone.
    Call(EngineFn),
    /// A worker is gone.
    Done,
}

/// What the merged calls looked like, for the logs and the benchmark.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ShareStats {
    /// `generate_chats` calls made on the real engine.
    pub calls: usize,
    /// Chats they held.
    pub chats: usize,
    /// Most chats in one call.
    pub max_chats: usize,
    /// Calls that held the chats of more than one worker.
    pub merged_calls: usize,
    /// Sum over calls of the workers whose chats they held.
    pub requests: usize,
}

/// The engine's owner; see the module header.
pub(crate) struct Coordinator<'a, R> {
    /// `None` once serving: then only the workers hold senders.
    tx: Option<Sender<Msg<R>>>,
    rx: Receiver<Msg<R>>,
    open: Option<Opener<'a, R>>,
    engine: Option<(Box<dyn Engine>, R)>,
    /// The error the open gave, repeated to later openers.
    open_failed: Option<Error>,
    workers: usize,
    window: Duration,
    stats: ShareStats,
}

/// A chat request waiting for the batch.
struct Pending {
    chats: Vec<(ChatPrompt, GenParams)>,
    reply: Reply<Vec<Generation>>,
}

impl<'a, R: Clone + Send> Coordinator<'a, R> {
    /// A coordinator that opens its engine with `open` when a worker first needs it, and
    /// waits at most `window` for the other workers' requests once one has come.
    pub(crate) fn new(open: impl FnOnce() -> Result<(Box<dyn Engine>, R)> + 'a, window: Duration) -> Self {
        let (tx, rx) = mpsc::channel();
        Coordinator {
            tx: Some(tx),
            rx,
            open: Some(Box::new(open)),
            engine: None,
            open_failed: None,
            workers: 0,
            window,
            stats: ShareStats::default(),
        }
    }

    /// A handle for one worker thread (create them all before [`Coordinator::serve`]).
    pub(crate) fn worker(&mut self) -> Worker<R> {
        self.workers += 1;
        let tx = self.tx.clone().expect("workers are made before serve");
        Worker { tx, opened: None }
    }

    /// Serves the workers until every one is gone; returns what the merged calls were.
    pub(crate) fn serve(mut self) -> ShareStats {
        let mut live = self.workers;
        let mut pending: Vec<Pending> = Vec::new();
        let mut since: Option<Instant> = None;
        // Only the workers hold senders now: when they are all gone, `recv` says so.
        self.tx = None;
        loop {
            if !pending.is_empty() && (pending.len() >= live || since.is_some_and(|t| t.elapsed() >= self.window)) {
                let batch = std::mem::take(&mut pending);
                since = None;
                self.run(batch);
                continue;
            }
            let msg = match since {
                None => match self.rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
                Some(t) => match self.rx.recv_timeout(self.window.saturating_sub(t.elapsed())) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        live = 0;
                        continue;
                    }
                },
            };
            match msg {
                Msg::Done => live = live.saturating_sub(1),
                Msg::Open(reply) => {
                    let _ = reply.send(self.open());
                }
                Msg::Call(f) => match self.engine.as_mut() {
                    Some((e, _)) => f(e.as_mut()),
                    // Unreachable through SharedEngine; dropping `f` drops its reply: an error.
                    None => drop(f),
                },
                Msg::Chats(chats, reply) => {
                    since.get_or_insert_with(Instant::now);
                    pending.push(Pending { chats, reply });
                }
            }
            if live == 0 && pending.is_empty() {
                break;
            }
        }
        self.stats
    }

    fn open(&mut self) -> Result<(ModelInfo, R)> {
        if let Some(open) = self.open.take() {
            match open() {
                Ok(e) => self.engine = Some(e),
                Err(e) => self.open_failed = Some(e),
            }
        }
        match (&self.engine, &self.open_failed) {
            (Some((e, r)), _) => Ok((e.info().clone(), r.clone())),
            (None, Some(e)) => Err(again(e)),
            (None, None) => Err(Error::Engine("the engine is not open".into())),
        }
    }

    /// One merged call for every pending request; each gets its own slice of the replies.
    fn run(&mut self, batch: Vec<Pending>) {
        let Some((engine, _)) = self.engine.as_mut() else { return };
        let chats: Vec<(&ChatPrompt, &GenParams)> =
            batch.iter().flat_map(|p| p.chats.iter().map(|(c, g)| (c, g))).collect();
        let s = &mut self.stats;
        s.calls += 1;
        s.chats += chats.len();
        s.max_chats = s.max_chats.max(chats.len());
        s.requests += batch.len();
        s.merged_calls += usize::from(batch.len() > 1);
        let result = engine.generate_chats(&chats).and_then(|g| {
            if g.len() == chats.len() {
                Ok(g)
            } else {
                Err(Error::Engine(format!("{} replies to {} chats", g.len(), chats.len())))
            }
        });
        tracing::debug!(
            chats = chats.len(),
            workers = batch.len(),
            "shared engine call: {} chats from {} worker(s)",
            chats.len(),
            batch.len()
        );
        drop(chats);
        match result {
            Ok(gens) => {
                let mut gens = gens.into_iter();
                for p in batch {
                    let mine: Vec<Generation> = gens.by_ref().take(p.chats.len()).collect();
                    let _ = p.reply.send(Ok(mine));
                }
            }
            // An inference error may be one chat's (a prompt too long): each request alone,
            // so that only its own worker hears of it.
            Err(Error::Engine(_)) if batch.len() > 1 => {
                for p in batch {
                    let chats: Vec<(&ChatPrompt, &GenParams)> = p.chats.iter().map(|(c, g)| (c, g)).collect();
                    let _ = p.reply.send(engine.generate_chats(&chats));
                }
            }
            // Anything else (a server down, a device lost) is every worker's.
            Err(e) => {
                for p in batch {
                    let _ = p.reply.send(Err(again(&e)));
                }
            }
        }
    }
}

/// A copy of `e` for another worker: the same kind where the kind can be copied (callers
/// decide by kind whether to stop), its message otherwise.
fn again(e: &Error) -> Error {
    match e {
        Error::Usage(m) => Error::Usage(m.clone()),
        Error::Input { path, msg } => Error::Input { path: path.clone(), msg: msg.clone() },
        Error::Model { path, msg } => Error::Model { path: path.clone(), msg: msg.clone() },
        Error::Card { id, msg } => Error::Card { id: id.clone(), msg: msg.clone() },
        Error::Fetch(m) => Error::Fetch(m.clone()),
        Error::Template { name, msg } => Error::Template { name: name.clone(), msg: msg.clone() },
        Error::Engine(m) => Error::Engine(m.clone()),
        Error::Remote { url, msg } => Error::Remote { url: url.clone(), msg: msg.clone() },
        Error::Device { device, msg } => Error::Device { device: device.clone(), msg: msg.clone() },
        Error::Io { path, source } => {
            Error::Io { path: path.clone(), source: std::io::Error::new(source.kind(), source.to_string()) }
        }
        other => Error::Engine(other.to_string()),
    }
}

/// One worker thread's line to the coordinator. Dropping it (the thread returned or
/// panicked) tells the coordinator the worker is gone.
pub(crate) struct Worker<R> {
    tx: Sender<Msg<R>>,
    opened: Option<(ModelInfo, R)>,
}

impl<R: Clone + Send> Worker<R> {
    /// The shared engine (opened by the coordinator on first demand) and the opener's `R`.
    pub(crate) fn engine(&mut self) -> Result<(SharedEngine<'_, R>, R)> {
        if self.opened.is_none() {
            let (reply, rx) = mpsc::channel();
            self.tx.send(Msg::Open(reply)).map_err(|_| gone())?;
            self.opened = Some(rx.recv().map_err(|_| gone())??);
        }
        let (info, r) = self.opened.clone().expect("opened above");
        Ok((SharedEngine { tx: &self.tx, info }, r))
    }
}

impl<R> Drop for Worker<R> {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Done);
    }
}

fn gone() -> Error {
    Error::Engine("the shared engine stopped".into())
}

/// The [`Engine`] a worker's pipeline runs on: every call goes to the coordinator.
pub(crate) struct SharedEngine<'w, R> {
    tx: &'w Sender<Msg<R>>,
    info: ModelInfo,
}

impl<R> SharedEngine<'_, R> {
    /// Runs `f` on the real engine, at once (between batches), and waits for its answer.
    fn call<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Engine) -> Result<T> + Send + 'static) -> Result<T> {
        let (reply, rx) = mpsc::channel();
        let job: EngineFn = Box::new(move |e| {
            let _ = reply.send(f(e));
        });
        self.tx.send(Msg::Call(job)).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

impl<R> Engine for SharedEngine<'_, R> {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        let text = text.to_string();
        self.call(move |e| e.encode_text(&text))
    }
    fn encode_raw(&self, text: &str) -> Result<Vec<u32>> {
        let text = text.to_string();
        self.call(move |e| e.encode_raw(&text))
    }
    fn count_tokens(&self, text: &str) -> Result<usize> {
        let text = text.to_string();
        self.call(move |e| e.count_tokens(&text))
    }
    fn encode_chat(&self, chat: &ChatPrompt) -> Result<Vec<u32>> {
        let chat = chat.clone();
        self.call(move |e| e.encode_chat(&chat))
    }
    fn decode(&self, tokens: &[u32]) -> Result<String> {
        let tokens = tokens.to_vec();
        self.call(move |e| e.decode(&tokens))
    }
    fn generate(&mut self, prompt: &[u32], params: &GenParams) -> Result<Generation> {
        let (prompt, params) = (prompt.to_vec(), params.clone());
        self.call(move |e| e.generate(&prompt, &params))
    }
    fn generate_jobs(&mut self, jobs: &[Job]) -> Result<Vec<Generation>> {
        let owned: Vec<(Vec<u32>, GenParams)> = jobs.iter().map(|j| (j.prompt.to_vec(), j.params.clone())).collect();
        self.call(move |e| {
            let jobs: Vec<Job> = owned.iter().map(|(p, g)| Job { prompt: p, params: g }).collect();
            e.generate_jobs(&jobs)
        })
    }
    /// Merged with the other workers' chats into one call on the real engine.
    fn generate_chats(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<Generation>> {
        let owned = chats.iter().map(|(c, g)| ((*c).clone(), (*g).clone())).collect();
        let (reply, rx) = mpsc::channel();
        self.tx.send(Msg::Chats(owned, reply)).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fake::FakeEngine;
    use crate::input::Document;
    use crate::pipeline::{self, SummarizeOptions};
    use std::sync::{Arc, Mutex};

    /// The fake engine, recording how many chats each call on it held.
    struct Recording {
        inner: FakeEngine,
        calls: Arc<Mutex<Vec<usize>>>,
    }

    impl Engine for Recording {
        fn info(&self) -> &ModelInfo {
            self.inner.info()
        }
        fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
            self.inner.encode_text(text)
        }
        fn encode_chat(&self, chat: &ChatPrompt) -> Result<Vec<u32>> {
            self.inner.encode_chat(chat)
        }
        fn decode(&self, tokens: &[u32]) -> Result<String> {
            self.inner.decode(tokens)
        }
        fn generate(&mut self, prompt: &[u32], params: &GenParams) -> Result<Generation> {
            self.inner.generate(prompt, params)
        }
        fn generate_chats(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<Generation>> {
            self.calls.lock().unwrap().push(chats.len());
            self.inner.generate_chats(chats)
        }
    }

    fn recording() -> (Recording, Arc<Mutex<Vec<usize>>>) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        (Recording { inner: FakeEngine::default(), calls: calls.clone() }, calls)
    }

    fn article(town: &str, cost: u32) -> String {
        let mut text = String::new();
        for part in 0..6 {
            text += &format!(
                "Officials in the town of {town} approved part {part} of a plan to rebuild the old harbour on Monday. \
                 The work costs {cost} million euros and will take three years to finish. \
                 The mayor said the new quays would let larger ferries dock in {town} all year. \
                 Fishermen worry that the dredging will disturb the breeding grounds of the local cod.\n\n"
            );
        }
        text
    }

    /// The summary without its timings.
    fn summarize(engine: &mut dyn Engine, text: &str) -> serde_json::Value {
        let doc = Document::from_bytes("a.txt".into(), text.as_bytes().to_vec(), None).unwrap();
        let model = crate::summary::ModelRef { id: "fake".into(), file_sha256: "0".into(), revision: "none".into() };
        let s = pipeline::summarize(&doc, engine, &model, &SummarizeOptions::default(), &mut |_, _, _| {}).unwrap();
        let mut v = serde_json::to_value(&s).unwrap();
        v.as_object_mut().unwrap().remove("stats");
        v
    }

    #[test]
    fn three_documents_share_the_engines_calls_and_get_their_own_summaries() {
        let texts = [article("Velmora", 40), article("Ostrava", 12), article("Brindle", 7)];
        let (mut alone, alone_calls) = recording();
        let expected: Vec<_> = texts.iter().map(|t| summarize(&mut alone, t)).collect();
        let alone_calls = alone_calls.lock().unwrap().clone();

        let (engine, calls) = recording();
        let mut coord =
            Coordinator::new(move || Ok((Box::new(engine) as Box<dyn Engine>, ())), Duration::from_secs(60));
        let (stats, got) = std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .iter()
                .map(|t| {
                    let mut w = coord.worker();
                    s.spawn(move || {
                        let (mut e, ()) = w.engine().unwrap();
                        summarize(&mut e, t)
                    })
                })
                .collect();
            let stats = coord.serve();
            (stats, handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>())
        });
        let calls = calls.lock().unwrap().clone();
        assert_eq!(got, expected, "each worker gets its own document's replies");
        assert_eq!(calls.iter().sum::<usize>(), alone_calls.iter().sum::<usize>(), "the same chats");
        assert!(stats.merged_calls > 0, "no call held more than one document's chats: {stats:?}");
        assert!(calls.len() < alone_calls.len(), "merged {calls:?}, alone {alone_calls:?}");
        assert!(
            calls.iter().max() > alone_calls.iter().max(),
            "a merged call must hold more chats than any one document's: {calls:?} vs {alone_calls:?}"
        );
        assert_eq!(stats.calls, calls.len());
    }

    fn chat(text: &str) -> (ChatPrompt, GenParams) {
        (ChatPrompt::user(text), GenParams::default())
    }

    #[test]
    fn a_failing_chat_fails_only_its_own_worker() {
        let (engine, calls) = recording();
        let mut coord =
            Coordinator::new(move || Ok((Box::new(engine) as Box<dyn Engine>, ())), Duration::from_secs(60));
        let good = chat("A short article. It says that the harbour in Velmora will be rebuilt over three years.");
        // Longer than the fake engine's 4096-token context: an inference error.
        let bad = chat(&"too long. ".repeat(1000));
        let ask = |mut w: Worker<()>, c: (ChatPrompt, GenParams)| {
            move || {
                let (mut e, ()) = w.engine().unwrap();
                e.generate_chats(&[(&c.0, &c.1)])
            }
        };
        let (ok, err) = std::thread::scope(|s| {
            let a = s.spawn(ask(coord.worker(), good));
            let b = s.spawn(ask(coord.worker(), bad));
            coord.serve();
            (a.join().unwrap(), b.join().unwrap())
        });
        assert!(ok.unwrap()[0].text.contains("Velmora"));
        assert!(matches!(err, Err(Error::Engine(_))), "{err:?}");
        assert_eq!(calls.lock().unwrap()[0], 2, "both were sent as one call first");
    }

    #[test]
    fn a_panicking_worker_does_not_hang_the_engine() {
        let (engine, _) = recording();
        // A coordinator that waited for the dead worker would wait the whole window.
        let mut coord =
            Coordinator::new(move || Ok((Box::new(engine) as Box<dyn Engine>, ())), Duration::from_secs(20));
        let t0 = Instant::now();
        let (panicked, ok) = std::thread::scope(|s| {
            let mut w = coord.worker();
            let a = s.spawn(move || {
                let _ = w.engine().unwrap();
                panic!("a worker's bug");
            });
            let mut w = coord.worker();
            let b = s.spawn(move || {
                let (mut e, ()) = w.engine().unwrap();
                let (c, p) =
                    chat("A short article. It says that the harbour in Velmora will be rebuilt over three years.");
                // Wait for the other worker to be gone: the coordinator must not wait for it.
                std::thread::sleep(Duration::from_millis(200));
                e.generate_chats(&[(&c, &p)])
            });
            coord.serve();
            (a.join().is_err(), b.join().unwrap())
        });
        assert!(panicked);
        assert!(ok.is_ok());
        assert!(t0.elapsed() < Duration::from_secs(10), "waited {:?} for a dead worker", t0.elapsed());
    }

    #[test]
    fn a_model_that_cannot_open_fails_every_worker_with_its_error() {
        let mut coord: Coordinator<()> =
            Coordinator::new(|| Err(Error::model("m.gguf", "truncated")), Duration::from_millis(10));
        let results = std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    let mut w = coord.worker();
                    s.spawn(move || w.engine().map(|_| ()))
                })
                .collect();
            coord.serve();
            handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        });
        for r in results {
            assert!(matches!(&r, Err(Error::Model { msg, .. }) if msg == "truncated"), "{r:?}");
        }
    }
}
