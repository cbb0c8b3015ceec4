//! The `precis` binary: parse the command line, run, print the error once, exit.
fn main() {
    // Like other Unix tools, end quietly when whoever reads stdout stops (`precis … | head`),
    // rather than panic on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(precis::cli::main());
}
