//! Progress on stderr for long work: bars drawn only when stderr is a terminal and the
//! user did not ask for quiet. Everything else in precis reports progress through plain
//! callbacks and never draws.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether progress should be drawn at all.
pub fn enabled(verbosity: i8) -> bool {
    verbosity >= 0 && std::io::stderr().is_terminal()
}

/// A bar of `total` steps with a message; hidden when progress is off.
pub fn bar(total: u64, verbosity: i8, label: &str) -> ProgressBar {
    if !enabled(verbosity) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

/// A spinner counting bytes of work done (for work of unknown length); hidden when progress
/// is off.
pub fn bytes_spinner(verbosity: i8, label: &str, what: &str) -> ProgressBar {
    if !enabled(verbosity) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(&format!("{{prefix:>10}} {{spinner}} {{bytes}} {what} ({{elapsed}})"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_prefix(label.to_string());
    pb
}
