//! `precis bench`: builds the test matrix from the flags and streams rows to stdout.

use super::args::BenchArgs;
use crate::bench::{self, export, Test};
use crate::error::{Error, Result};
use crate::session;
use std::io::Write;

pub fn run(args: BenchArgs, verbosity: i8) -> Result<()> {
    let format: export::BenchFormat = args.output.parse()?;
    // One engine per thread count, each loaded with the model flags every command takes.
    let configs = args.model.to_configs(verbosity)?;
    let mut tests: Vec<Test> = Vec::new();
    tests.extend(args.n_prompt.iter().filter(|&&n| n > 0).map(|&n| Test::Prompt(n)));
    for &seqs in &args.batch {
        if seqs == 0 || seqs > 64 {
            return Err(Error::Usage(format!("-b {seqs}: sequences must be between 1 and 64")));
        }
        tests.extend(args.n_gen.iter().filter(|&&n| n > 0).map(|&n| Test::Gen { n, seqs }));
    }
    for f in &args.sum {
        if !f.is_file() {
            return Err(Error::Usage(format!("--sum {}: no such file", f.display())));
        }
        tests.push(Test::Summary(f.clone()));
    }
    if tests.is_empty() {
        return Err(Error::Usage("nothing to run: give -p, -n or --sum".into()));
    }
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock, s: String| {
        out.write_all(s.as_bytes()).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))
    };
    w(&mut out, export::header(format))?;
    let mut first = true;
    let mut rows = Vec::new();
    for cfg in &configs {
        let (mut engine, model_ref) = session::open(cfg)?;
        for test in &tests {
            if verbosity > 0 {
                eprintln!("precis: bench {} with {} threads", test.name(), engine.info().threads);
            }
            let row = bench::measure(engine.as_mut(), &model_ref, test, args.repetitions)?;
            w(&mut out, export::row(&row, format, first))?;
            first = false;
            rows.push(row);
        }
        bench::record_speed(&model_ref.file_sha256, &rows);
    }
    w(&mut out, export::footer(format))?;
    Ok(())
}
