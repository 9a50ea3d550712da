//! The synthesis flow (`cargo xtask synth`) end to end on the two iCE40 boards (Debian tools):
//! each default build (64-32-10) must fit, meet timing at its fabric clock and leave a
//! bitstream; a build that cannot fit must fail and leave none. The ULX3S build needs the
//! YoWASP tools from PyPI and is run by hand (docs/BOARDS.md).
use zo_sim::harness::tools::require_tool;

use std::path::Path;
use xtask::{synth, BuildRequest};
use zo_hdl::board::top::{Board, ALCHITRY_CU, ICEBREAKER};
use zo_hdl::config::Shape;

fn tools_present() -> bool {
    let hint = "apt-get install yosys nextpnr-ice40 fpga-icestorm";
    require_tool("yosys", hint)
        && require_tool("nextpnr-ice40", hint)
        && require_tool("icepack", hint)
}

fn out_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Builds `board`'s default and checks the report and the bitstream.
fn default_build_fits_and_meets_timing(board: &Board, pll: bool, min_bitstream: u64) {
    if !tools_present() {
        return;
    }
    let defaults = board.default_build;
    let (report, ok) = synth(&BuildRequest {
        board: board.name.into(),
        shape: None,
        capacity: None,
        batch_accumulators: None,
        exact_output: None,
        out: out_dir("synthesis"),
    })
    .expect("the flow runs");
    assert!(ok, "the default {} build failed: {report:#}", board.name);
    assert_eq!(report["shape"], defaults.shape.to_string());
    assert_eq!(defaults.shape, Shape::new(64, 32, 10));
    assert_eq!(report["sample_capacity"], defaults.capacity);
    assert_eq!(report["batch_accumulators"], defaults.batch_accumulators);
    assert_eq!(report["exact_output"], defaults.exact_output);
    let lc = &report["utilization"]["ICESTORM_LC"];
    assert!(lc["used"].as_u64().unwrap() <= lc["available"].as_u64().unwrap());
    let plls = report["utilization"]["ICESTORM_PLL"]["used"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(plls, pll as u64, "PLLs used");
    let fmax = report["fmax_mhz"].as_f64().unwrap();
    let required = board.fabric_hz as f64 / 1e6;
    assert_eq!(report["required_mhz"].as_f64().unwrap(), required);
    assert!(
        fmax >= required,
        "Fmax {fmax} MHz below the {required} MHz fabric clock"
    );
    let bitstream = report["bitstream"].as_str().expect("a bitstream path");
    let size = std::fs::metadata(bitstream)
        .expect("the bitstream exists")
        .len();
    assert!(size >= min_bitstream, "bitstream of {size} bytes");
}

#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_nextpnr_ice40, tool_icepack)),
    ignore = "needs yosys, nextpnr-ice40 and icepack (apt-get install yosys nextpnr-ice40 fpga-icestorm)"
)]
fn icebreaker_default_build_fits_and_meets_timing() {
    // A UP5K bitstream is 104 090 bytes.
    default_build_fits_and_meets_timing(&ICEBREAKER, ICEBREAKER.pll().is_some(), 100_000);
}

#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_nextpnr_ice40, tool_icepack)),
    ignore = "needs yosys, nextpnr-ice40 and icepack (apt-get install yosys nextpnr-ice40 fpga-icestorm)"
)]
fn alchitry_cu_default_build_fits_and_meets_timing() {
    // An HX8K bitstream is 135 100 bytes; the Cu makes 25 MHz from its 100 MHz oscillator.
    default_build_fits_and_meets_timing(&ALCHITRY_CU, true, 130_000);
}

#[test]
#[cfg_attr(
    not(all(tool_yosys, tool_nextpnr_ice40, tool_icepack)),
    ignore = "needs yosys, nextpnr-ice40 and icepack (apt-get install yosys nextpnr-ice40 fpga-icestorm)"
)]
fn a_build_that_cannot_fit_fails_and_leaves_no_bitstream() {
    if !tools_present() {
        return;
    }
    // 254 inputs and 250 hidden units need far more block RAM than the HX8K has.
    let out = out_dir("synthesis_too_big");
    let (report, ok) = synth(&BuildRequest {
        board: "alchitry-cu".into(),
        shape: Some(Shape::new(250, 16, 4)),
        capacity: Some(4),
        batch_accumulators: Some(true),
        exact_output: None,
        out: out.clone(),
    })
    .expect("the flow runs");
    assert!(!ok, "an oversized build reported success: {report:#}");
    assert_eq!(report["placed"], false);
    assert!(report["bitstream"].is_null());
    assert!(
        !out.join("alchitry-cu/top.bin").exists(),
        "a bitstream was left behind"
    );
}
