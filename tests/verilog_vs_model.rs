//! The generated Verilog of the complete device (`zo_hdl::device::ZoDevice`: UARTs, protocol
//! engine, learner), simulated and driven only through its UART pins, answers a scripted session
//! byte for byte like the reference device (`zo_sim::device::reference::Device` over the model): identity,
//! weights, samples, the training jobs of `xtask::cosim::build_session` (every estimator the
//! build takes, both losses, mini-batches with partial batches, two saturating runs),
//! evaluations, inferences, BUSY and the value check before it, a replay, a NAK, STOP and RESET.
//! iverilog runs it with one pass per job on a 5-4-3 network; Verilator
//! runs it longer, and also at the shapes and address widths of the board builds. Only a
//! simulation of the Verilog catches where rust-hdl's Rust simulation and its Verilog disagree
//! (expression widths).
//!
//! The session, testbench and comparison are `xtask::cosim`'s, shared with the gate-level
//! co-simulations (tests/netlist_vs_model.rs).
use zo_sim::harness::tools::require_tool;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use xtask::cosim::{
    build_session, compare, cosimulate, device_verilog, received, simulate, summary, Dut, Mismatch,
    Session, Simulator, WeightReads, DEVICE_PINS, IVERILOG, VERILATOR,
};
use zo_hdl::board::top::{Board, ICEBREAKER, ULX3S};
use zo_hdl::config::Shape;
use zo_sim::device::reference::DeviceInfo;
use zo_sim::harness::compare::flip_weight;

/// An elaboration of the device: what the session sees, and the generator of its Verilog
/// (address widths are type parameters).
struct Config {
    dut: Dut,
    verilog: fn(&Dut) -> String,
}

/// `full`: with the mini-batch accumulators and the exact output layer, as the virtual boards
/// and the ULX3S; without both, as the iCE40 boards' default builds.
fn dut(name: &str, shape: Shape, capacity: u16, clocks_per_bit: usize, full: bool) -> Dut {
    Dut {
        name: name.into(),
        shape,
        info: DeviceInfo {
            sample_capacity: capacity,
            batch_accumulators: full,
            exact_output: full,
            ..DeviceInfo::default()
        },
        clocks_per_bit,
        pins: DEVICE_PINS,
    }
}

/// Small and quick: 39 weights, 4 clocks per bit.
fn small() -> Config {
    Config {
        dut: dut("5-4-3", Shape::new(5, 4, 3), 64, 4, true),
        verilog: device_verilog::<6, 9>,
    }
}

/// A board's default build as `cargo xtask synth` makes it (`BoardTop::<12, 17>`): its
/// shape, sample capacity, optional blocks and bit time, from the board's data. Jobs a build
/// refuses (batch > 1, momentum and hybrid without accumulators or exact output layer) run
/// with the previous parameters.
fn board(b: &Board) -> Config {
    let d = b.default_build;
    Config {
        dut: Dut {
            name: b.name.into(),
            shape: d.shape,
            info: DeviceInfo {
                sample_capacity: d.capacity,
                batch_accumulators: d.batch_accumulators,
                exact_output: d.exact_output,
                ..DeviceInfo::default()
            },
            clocks_per_bit: b.clocks_per_bit(),
            pins: DEVICE_PINS,
        },
        verilog: device_verilog::<12, 17>,
    }
}

fn icebreaker() -> Config {
    board(&ICEBREAKER)
}

fn ulx3s() -> Config {
    board(&ULX3S)
}

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("verilog_vs_model")
}

/// Writes the design's Verilog and the session's testbench into the simulator's directory.
fn design(sim: &Simulator, config: &Config) -> (PathBuf, Vec<PathBuf>) {
    let dir = out_dir().join(format!("{}-{}", sim.name, config.dut.name));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("device.v");
    std::fs::write(&file, (config.verilog)(&config.dut)).unwrap();
    (dir, vec![file])
}

/// Simulates the session on the generated Verilog and checks every response byte and the pins
/// against the reference device.
fn verilog_vs_model(sim: &Simulator, config: &Config, epochs: u16) {
    let session = build_session(&config.dut, epochs, WeightReads::EveryJob);
    assert!(
        session.trained >= 300,
        "only {} training samples",
        session.trained
    );
    let (dir, files) = design(sim, config);
    match cosimulate(sim, &session, &files, &[], &dir) {
        Ok(run) => println!("{}", summary(sim, &session, &run)),
        Err(e) => panic!("{e:#}"),
    }
}

/// The iverilog run of the small device, shared by the co-simulation test and the mutation
/// test (one simulation, two uses).
fn iverilog_small() -> &'static (Session, Vec<Vec<u8>>, xtask::cosim::Trace) {
    static RUN: OnceLock<(Session, Vec<Vec<u8>>, xtask::cosim::Trace)> = OnceLock::new();
    RUN.get_or_init(|| {
        let config = small();
        let session = build_session(&config.dut, 1, WeightReads::EveryJob);
        let (dir, files) = design(&IVERILOG, &config);
        let run =
            simulate(&IVERILOG, &session, &files, &[], &dir).unwrap_or_else(|e| panic!("{e:#}"));
        println!("{}", summary(&IVERILOG, &session, &run));
        let got =
            received(&session.dut, &session.steps, &run.trace).unwrap_or_else(|m| panic!("{m}"));
        (session, got, run.trace)
    })
}

#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn iverilog_device_answers_like_the_model_through_its_pins() {
    if require_tool("iverilog", "apt-get install iverilog") {
        let (session, got, trace) = iverilog_small();
        assert!(session.trained >= 300, "only {} samples", session.trained);
        if let Err(m) = compare(&session.dut, &session.steps, got, trace) {
            panic!("{m}");
        }
    }
}

/// Mutation test of the comparison above: one bit of one weight read back from the Verilog
/// device (re-encoded with a valid CRC, as a device that computed a wrong weight would send
/// it) and one bit of one byte on the wire must each fail it, named by step, byte and weight.
#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn verilog_comparison_catches_one_flipped_weight_bit_and_one_flipped_wire_bit() {
    if !require_tool("iverilog", "apt-get install iverilog") {
        return;
    }
    let (session, got, trace) = iverilog_small();
    let steps = &session.steps;
    let step = steps
        .iter()
        .position(|s| s.what.starts_with("weights after training, job 2"))
        .expect("a weight read in the session");
    let mut faulty = got.clone();
    assert!(
        flip_weight(&mut faulty[step], 17, 3),
        "step {step} holds weights"
    );
    match compare(&session.dut, steps, &faulty, trace) {
        Err(Mismatch::Answer {
            step: s, detail, ..
        }) => {
            assert_eq!(s, step);
            assert!(detail.contains("weight 17:"), "{detail}");
        }
        other => panic!("a flipped weight was not caught: {other:?}"),
    }
    let mut faulty = got.clone();
    faulty[5][3] ^= 0x40;
    match compare(&session.dut, steps, &faulty, trace) {
        Err(m @ Mismatch::Answer { step: 5, .. }) => {
            assert!(m.to_string().starts_with("step 5 ("), "{m}");
            assert!(m.to_string().contains("byte 3:"), "{m}");
        }
        other => panic!("a flipped wire bit was not caught: {other:?}"),
    }
}

/// One Verilator build and run at a time (with `-j 1`): iverilog, the slowest test, keeps a
/// core of a two-core machine.
static VERILATOR_LOCK: Mutex<()> = Mutex::new(());

/// Verilator is fast: the same session with twenty passes per job (6120 training samples).
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_device_answers_like_the_model_through_its_pins() {
    if require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &small(), 20);
    }
}

/// The address widths, shape and bit time of the iCEBreaker bitstream.
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_icebreaker_build_answers_like_the_model() {
    if require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &icebreaker(), 4);
    }
}

/// The address widths, shape, sample capacity and bit time of the ULX3S bitstream.
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_ulx3s_build_answers_like_the_model() {
    if require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &ulx3s(), 1);
    }
}
