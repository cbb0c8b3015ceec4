//! A small fork-join thread pool: `threads - 1` persistent workers plus the calling thread.
//! A job is a number of chunks claimed from an atomic counter, so a worker that the OS has
//! descheduled (these machines are shared) never stalls the caller: the caller takes the
//! chunks it has not claimed, then closes the job and waits only for chunks in flight.
//! Workers spin briefly for the next job, then park on a condvar, so the pool neither
//! oversubscribes the cores nor burns them between calls (and never touches rayon).
//! Owns only thread management; must not know about kernels or models.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

type Job = *const (dyn Fn(usize) + Sync);

/// `state`: count of workers inside the current job, plus this bit once it is closed.
const CLOSED: usize = 1 << (usize::BITS - 1);

struct Shared {
    epoch: AtomicU64,
    job: UnsafeCell<Option<Job>>,
    chunks: AtomicUsize,
    next: AtomicUsize,
    state: AtomicUsize,
    sleeping: AtomicUsize,
    shutdown: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}
// SAFETY: `job` is written only by the owner while the previous job is closed and empty
// (no worker inside), and read by workers only after entering an open job.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// Spin iterations before a worker parks (some tens of microseconds).
const SPIN: u32 = 20_000;

pub struct Pool {
    n: usize,
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

impl Shared {
    /// Claim and run chunks until none are left.
    fn drain(&self, f: &(dyn Fn(usize) + Sync)) {
        let n = self.chunks.load(Ordering::Relaxed);
        loop {
            let c = self.next.fetch_add(1, Ordering::Relaxed);
            if c >= n {
                return;
            }
            f(c);
        }
    }
}

impl Pool {
    /// A pool running jobs on `threads` threads in all (at least 1; the caller is one).
    pub fn new(threads: usize) -> Self {
        let n = threads.max(1);
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            chunks: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            state: AtomicUsize::new(CLOSED),
            sleeping: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        });
        let handles = (1..n)
            .map(|idx| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("precis-cpu-{idx}"))
                    .spawn(move || worker(s))
                    .expect("spawn worker thread")
            })
            .collect();
        Pool { n, shared, handles }
    }

    pub fn threads(&self) -> usize {
        self.n
    }

    /// Run `f(c)` for every chunk `c` in `0..chunks`, on the caller and the workers;
    /// returns when all are done.
    pub fn run(&self, chunks: usize, f: &(dyn Fn(usize) + Sync)) {
        if self.n == 1 || chunks <= 1 {
            (0..chunks).for_each(f);
            return;
        }
        let s = &*self.shared;
        // SAFETY: the job is closed and drained before this returns, so no worker uses
        // the erased lifetime after `f` is gone.
        let job: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(f) };
        unsafe { *s.job.get() = Some(job) };
        s.chunks.store(chunks, Ordering::Relaxed);
        s.next.store(0, Ordering::Relaxed);
        s.state.store(0, Ordering::Release);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleeping.load(Ordering::SeqCst) > 0 {
            let _g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.cv.notify_all();
        }
        s.drain(f);
        s.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        while s.state.load(Ordering::Acquire) != CLOSED {
            spins += 1;
            if spins < 2_000 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

fn worker(s: Arc<Shared>) {
    let mut seen = 0u64;
    loop {
        let mut spins = 0;
        let mut e = s.epoch.load(Ordering::Acquire);
        while e == seen && !s.shutdown.load(Ordering::Relaxed) {
            if spins < SPIN {
                spins += 1;
                std::hint::spin_loop();
            } else {
                let mut g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
                s.sleeping.fetch_add(1, Ordering::SeqCst);
                while s.epoch.load(Ordering::SeqCst) == seen && !s.shutdown.load(Ordering::SeqCst) {
                    g = s.cv.wait(g).unwrap_or_else(|e| e.into_inner());
                }
                s.sleeping.fetch_sub(1, Ordering::SeqCst);
                spins = 0;
            }
            e = s.epoch.load(Ordering::Acquire);
        }
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        seen = e;
        // Enter the current job unless it is already closed.
        let mut st = s.state.load(Ordering::Acquire);
        let entered = loop {
            if st & CLOSED != 0 {
                break false;
            }
            match s.state.compare_exchange_weak(st, st + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break true,
                Err(x) => st = x,
            }
        };
        if entered {
            // SAFETY: the job is open, so `job` is set and alive until we leave.
            let job = unsafe { (*s.job.get()).expect("job set") };
            s.drain(unsafe { &*job });
            s.state.fetch_sub(1, Ordering::Release);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        {
            let _g = self.shared.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.cv.notify_all();
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Split `0..n` into `parts` contiguous ranges with starts aligned to `align`; range `i`.
pub fn split(n: usize, parts: usize, i: usize, align: usize) -> (usize, usize) {
    let units = n.div_ceil(align);
    let lo = (units * i / parts * align).min(n);
    let hi = (units * (i + 1) / parts * align).min(n);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_chunk_once() {
        let p = Pool::new(3);
        let hits = AtomicUsize::new(0);
        for round in 0..3000 {
            let chunks = round % 7;
            p.run(chunks, &|c| {
                hits.fetch_add(c + 1, Ordering::Relaxed);
            });
        }
        let want: usize = (0..3000).map(|r| (1..=r % 7).sum::<usize>()).sum();
        assert_eq!(hits.load(Ordering::Relaxed), want);
        std::thread::sleep(std::time::Duration::from_millis(50)); // let workers park
        p.run(5, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), want + 5);
    }

    #[test]
    fn split_covers() {
        for n in [0, 1, 7, 100, 961] {
            for parts in 1..5 {
                let mut next = 0;
                for i in 0..parts {
                    let (lo, hi) = split(n, parts, i, 4);
                    assert_eq!(lo, next);
                    next = hi;
                }
                assert_eq!(next, n);
            }
        }
    }
}
