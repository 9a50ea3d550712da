//! Runs a virtual board on a pseudo-terminal and prints its path; stop it with Ctrl-C.
//!
//! `cargo run --release -p zo-sim --bin zo-virtual-board -- --shape 64-32-10 --backend model`
use clap::{Parser, ValueEnum};
use std::process::ExitCode;
use zo_hdl::config::Shape;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::uart_device::UartDevice;
use zo_sim::device::vboard::{SerialDevice, VirtualBoard, VIRTUAL_AW};
use zo_sim::harness::rtl::RtlLearner;
use zo_sim::harness::vcd::VcdArgs;
use zo_sim::model::shape::parse_shape;
use zo_sim::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// The bit-exact reference model behind the reference protocol engine (fast).
    Model,
    /// The rust-hdl learner behind the reference protocol engine (exact, ~5 samples/s at 64-32-10).
    Rtl,
    /// The complete rust-hdl device driven through its UART pins (exact, slowest).
    Top,
}

#[derive(Parser, Debug)]
#[command(about = "A zo device on a pseudo-terminal, speaking the real protocol")]
struct Args {
    /// Network size as INPUTS-HIDDEN-OUTPUTS.
    #[arg(long, default_value = "64-32-10", value_parser = |s: &str| parse_shape(s, VIRTUAL_AW))]
    shape: Shape,
    /// What computes behind the protocol.
    #[arg(long, value_enum, default_value = "model")]
    backend: Backend,
    /// Samples the on-board buffer holds.
    #[arg(long, default_value_t = 2048)]
    capacity: u16,
    /// Behave like a build without mini-batch accumulators (batch 1 only), as the iCE40
    /// boards' default builds.
    #[arg(long)]
    no_batch: bool,
    /// Behave like a build without the hybrid estimator's exact output layer (estimators np
    /// and wp only), as the iCE40 boards' default builds.
    #[arg(long)]
    no_hybrid: bool,
    #[command(flatten)]
    vcd: VcdArgs,
}

impl Backend {
    /// The name IDENTIFY reports (docs/PROTOCOL.md 4.1), the same as the `zo` CLI's in-process
    /// boards.
    fn board_name(self) -> &'static str {
        match self {
            Backend::Model => "virtual-model",
            Backend::Rtl => "virtual-rtl",
            Backend::Top => "virtual-top",
        }
    }
}

fn run<D: SerialDevice + Send + 'static>(device: D, shape: Shape) -> ExitCode {
    match VirtualBoard::spawn(device) {
        Ok(board) => {
            println!("{}", board.path());
            eprintln!(
                "virtual board {shape} on {} (Ctrl-C stops it)",
                board.path()
            );
            // Ctrl-C or SIGTERM stops the board cleanly, so that a waveform file is completed.
            let (tx, rx) = std::sync::mpsc::channel();
            if let Err(e) = ctrlc::set_handler(move || {
                let _ = tx.send(());
            }) {
                return fail(format!("cannot handle Ctrl-C: {e}"));
            }
            let _ = rx.recv();
            drop(board);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args = Args::parse();
    let vcd = match args.vcd.spec() {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    if vcd.is_some() && args.backend == Backend::Model {
        return fail("--vcd records the RTL: use --backend rtl or --backend top");
    }
    let info = DeviceInfo {
        name: args.backend.board_name().into(),
        sample_capacity: args.capacity,
        batch_accumulators: !args.no_batch,
        exact_output: !args.no_hybrid,
        ..DeviceInfo::default()
    };
    let shape = args.shape;
    match args.backend {
        Backend::Model => run(Device::new(Model::new(shape, 1), info), shape),
        Backend::Rtl => {
            let mut learner = RtlLearner::<VIRTUAL_AW>::new(shape);
            if let Some(spec) = &vcd {
                if let Err(e) = learner.record_vcd(spec) {
                    return fail(e);
                }
            }
            run(Device::new(learner, info), shape)
        }
        Backend::Top => {
            // The simulated sample buffer is 64 KiB; fewer slots fit wide inputs.
            let record = shape.n_in + 1;
            let fits = ((1usize << 16) - 2) / record - 1;
            let capacity = (args.capacity as usize).min(fits) as u16;
            let cinfo = DeviceInfo {
                sample_capacity: capacity,
                ..info
            };
            let mut board = UartDevice::<VIRTUAL_AW, 16>::new(shape, &cinfo, 4);
            if let Some(spec) = &vcd {
                if let Err(e) = board.record_vcd(spec) {
                    return fail(e);
                }
            }
            run(board, shape)
        }
    }
}
