//! The command line: the only place clap appears. Parses arguments once into validated
//! config (`crate::config`), dispatches to one file per command, prints the error chain
//! once as one line, and maps errors to the documented exit codes:
//! 0 ok; 1 the run failed or a batch had failures; 2 usage error; 130 interrupted
//! (SIGINT), 143 terminated (SIGTERM; both in `crate::interrupt`).

mod args;
mod batch;
mod bench;
mod generate;
mod models;
mod outdir;
mod outputs;
mod shard;
mod shell;
mod summarize;

use crate::error::Error;
use args::{Cli, Command};
use clap::Parser;

/// Runs precis with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    let start = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let v = cli.verbosity();
    init_logging(v);
    crate::interrupt::install();
    let result = match cli.command {
        Command::Summarize(a) => summarize::run(a, v),
        Command::Batch(a) => batch::run(a, v),
        Command::Bench(a) => bench::run(a, v),
        Command::Models(a) => models::run(a, v),
        Command::Generate(a) => generate::run(a, v),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
    };
    tracing::debug!("finished {:.3} s after main started", start.elapsed().as_secs_f64());
    crate::interrupt::settle();
    match result {
        Ok(()) => 0,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}

/// Prints an error once, as one line: `precis: <what>: <why>`.
pub(crate) fn report(e: &Error) {
    match e {
        Error::BatchFailed { .. } => eprintln!("precis: {e}"),
        _ => eprintln!("precis: error: {}", e.to_string().replace('\n', " ")),
    }
}

fn init_logging(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-1 => "error",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRECIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("precis={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
