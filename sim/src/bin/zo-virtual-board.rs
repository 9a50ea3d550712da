//! Runs a virtual board on a pseudo-terminal and prints its path; stop it with Ctrl-C.
//!
//! `cargo run --release -p zo-sim --bin zo-virtual-board -- --shape 64-32-10 --backend model`
use clap::{Parser, ValueEnum};
use std::process::ExitCode;
use zo_hdl::config::Shape;
use zo_sim::board::{BoardInfo, Device};
use zo_sim::model::Model;
use zo_sim::rtl::RtlLearner;
use zo_sim::vboard::VirtualBoard;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Backend {
    /// The bit-exact reference model (fast).
    Model,
    /// The rust-hdl simulation of the learner (exact, slow).
    Rtl,
}

#[derive(Parser, Debug)]
#[command(about = "A zo device on a pseudo-terminal, speaking the real protocol")]
struct Args {
    /// Network size as INPUTS-HIDDEN-OUTPUTS.
    #[arg(long, default_value = "64-32-10", value_parser = parse_shape)]
    shape: Shape,
    /// What computes behind the protocol.
    #[arg(long, value_enum, default_value = "model")]
    backend: Backend,
    /// Samples the on-board buffer holds.
    #[arg(long, default_value_t = 2048)]
    capacity: u16,
}

fn parse_shape(s: &str) -> Result<Shape, String> {
    let parts: Vec<usize> = s
        .split('-')
        .map(|p| p.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("'{s}' is not a shape; write INPUTS-HIDDEN-OUTPUTS, e.g. 64-32-10"))?;
    let [n_in, n_hid, n_out] = parts[..] else {
        return Err(format!("'{s}' needs three sizes, e.g. 64-32-10"));
    };
    let shape = Shape::new(n_in, n_hid, n_out);
    shape.check(12).map_err(|e| e.to_string())?;
    Ok(shape)
}

fn run<B: zo_sim::board::Backend + Send + 'static>(backend: B, capacity: u16) -> ExitCode {
    let info = BoardInfo {
        sample_capacity: capacity,
        ..BoardInfo::default()
    };
    let shape = backend.shape();
    match VirtualBoard::spawn(Device::new(backend, info)) {
        Ok(board) => {
            println!("{}", board.path());
            eprintln!(
                "virtual board {shape} on {} (Ctrl-C stops it)",
                board.path()
            );
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.backend {
        Backend::Model => run(Model::new(args.shape, 1), args.capacity),
        Backend::Rtl => run(RtlLearner::<12>::new(args.shape), args.capacity),
    }
}
