//! The `precis` binary: parse the command line, run, print the error once, exit.
fn main() {
    std::process::exit(precis::cli::main());
}
