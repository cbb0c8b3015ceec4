//! Ending on SIGINT or SIGTERM: the signal handler only writes the signal's number to a
//! pipe; a watcher thread then removes the temporary files of writes in flight, prints one
//! line saying what was done and what was not (set by the running command with
//! [`set_status`]), and exits with 130 (SIGINT) or 143 (SIGTERM).
//!
//! Owns the process's signal handling and the registry of temporary files in flight.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static STATUS: Mutex<Option<String>> = Mutex::new(None);
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// What to say if the run is interrupted now (e.g. "3 of 10 documents summarised; …").
pub(crate) fn set_status(line: impl Into<String>) {
    if let Ok(mut s) = STATUS.lock() {
        *s = Some(line.into());
    }
}

/// Registers a temporary file to remove if the run is interrupted before it is renamed.
pub(crate) fn temp_created(path: &Path) {
    if let Ok(mut t) = TEMPS.lock() {
        t.push(path.to_path_buf());
    }
}

/// Unregisters a temporary file (renamed into place or removed).
pub(crate) fn temp_done(path: &Path) {
    if let Ok(mut t) = TEMPS.lock() {
        t.retain(|p| p != path);
    }
}

#[cfg(unix)]
static PIPE_WRITE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static SIGNALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called as the run ends: if a signal came, the watcher thread is ending the process
/// (with the signal's exit code and its line); wait for it rather than race it.
pub(crate) fn settle() {
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    SIGNALLED.store(true, std::sync::atomic::Ordering::SeqCst);
    let fd = PIPE_WRITE.load(std::sync::atomic::Ordering::Relaxed);
    let b = sig as u8;
    // SAFETY: write(2) is async-signal-safe; the buffer is one byte on this stack.
    unsafe {
        libc::write(fd, (&b as *const u8).cast(), 1);
    }
}

/// Installs the handlers and starts the watcher thread (once, before other threads).
#[cfg(unix)]
pub(crate) fn install() {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe(2) fills the two descriptors; sigaction installs a handler that only
    // calls write(2); both are called before any other thread exists.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return;
        }
        libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC);
        PIPE_WRITE.store(fds[1], std::sync::atomic::Ordering::Relaxed);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    let read_fd = fds[0];
    let _ = std::thread::Builder::new().name("precis-signals".into()).spawn(move || {
        let mut b = 0u8;
        // SAFETY: reading one byte from the pipe this thread owns.
        let n = unsafe { libc::read(read_fd, (&mut b as *mut u8).cast(), 1) };
        if n != 1 {
            return;
        }
        let sig = b as i32;
        if let Ok(t) = TEMPS.lock() {
            for p in t.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        let name = if sig == libc::SIGTERM { "terminated" } else { "interrupted" };
        let status = STATUS.lock().ok().and_then(|s| s.clone());
        match status {
            Some(s) => eprintln!("precis: {name}: {s}"),
            None => eprintln!("precis: {name}; no output was written"),
        }
        // SAFETY: _exit ends the process at once; outputs are only ever renamed into
        // place whole, and the temporary files of writes in flight are removed above.
        unsafe { libc::_exit(128 + sig) }
    });
}

#[cfg(not(unix))]
pub(crate) fn install() {}
