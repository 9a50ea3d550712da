//! `zo`, the host command-line tool. The commands arrive with the link and CLI work; until then
//! the binary says so instead of pretending.
use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "zo: the command-line tool is not available in this version; \
         train the reference model with `cargo run --release -p zo-sim --example train_model` (see README.md)"
    );
    ExitCode::from(2)
}
