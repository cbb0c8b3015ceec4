//! The `precis` binary: parse the command line, run, print the error once, exit.
fn main() {
    // Like other Unix tools, end quietly when whoever reads stdout stops (`precis … | head`),
    // rather than panic on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    exit(precis::cli::main())
}

/// A CUDA build ends without running the exit handlers, where the CUDA driver tears its
/// context down (a visible part of a one-second summary). Everything precis writes is
/// complete by then (outputs are renamed into place); the standard streams are flushed here.
#[cfg(all(unix, feature = "cuda"))]
fn exit(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; nothing runs after it.
    unsafe { libc::_exit(code) }
}

#[cfg(not(all(unix, feature = "cuda")))]
fn exit(code: i32) -> ! {
    std::process::exit(code)
}
