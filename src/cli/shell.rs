//! `precis completions SHELL` and `precis man [COMMAND]`: shell completions and man pages
//! generated from the clap definitions (clap_complete, clap_mangen), as ripgrep, fd and
//! hyperfine ship theirs, so they never drift from the flags.

use super::args::{Cli, CompletionsArgs, ManArgs};
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::io::Write;

pub fn completions(args: CompletionsArgs) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "precis", &mut out);
    write_stdout(&out)
}

pub fn man(args: ManArgs) -> Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match args.command.as_deref() {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
            let sub = cmd
                .find_subcommand(name)
                .cloned()
                .ok_or_else(|| Error::Usage(format!("man {name}: no such command (one of: {})", names.join(", "))))?;
            // Named as its page is: precis-summarize(1). clap takes static names; the process
            // ends right after printing the page.
            let full: &'static str = format!("precis-{}", sub.get_name()).leak();
            sub.name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out).map_err(|e| Error::io("<man page>", e))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))
}
