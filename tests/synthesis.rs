//! The synthesis flow (`cargo xtask synth`) end to end on the Alchitry Cu (iCE40 HX8K, Debian
//! tools): the default build must fit, meet timing at the fabric clock through the PLL and
//! leave a bitstream; a build that cannot fit must fail and leave none.
//!
//! The iCEBreaker (UP5K) default build does not fit yet (README, "Synthesis"), so it is not
//! synthesised here; the ULX3S build takes ~25 minutes with the YoWASP tools and is run by hand.
mod common;

use std::path::Path;
use xtask::{default_build, synth, BuildRequest};
use zo_hdl::config::Shape;
use zo_hdl::top::ALCHITRY_CU;

fn tools_present() -> bool {
    let hint = "apt-get install yosys nextpnr-ice40 fpga-icestorm";
    common::require_tool("yosys", hint)
        && common::require_tool("nextpnr-ice40", hint)
        && common::require_tool("icepack", hint)
}

fn out_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

#[test]
fn alchitry_cu_default_build_fits_and_meets_timing() {
    if !tools_present() {
        return;
    }
    let defaults = default_build(&ALCHITRY_CU);
    let (report, ok) = synth(&BuildRequest {
        board: "alchitry-cu".into(),
        shape: None,
        capacity: None,
        batch_accumulators: None,
        out: out_dir("synthesis"),
    })
    .expect("the flow runs");
    assert!(ok, "the default Alchitry Cu build failed: {report:#}");
    assert_eq!(report["shape"], defaults.shape.to_string());
    assert_eq!(report["sample_capacity"], defaults.capacity);
    assert_eq!(report["batch_accumulators"], defaults.batch_accumulators);
    let lc = &report["utilization"]["ICESTORM_LC"];
    assert!(lc["used"].as_u64().unwrap() <= lc["available"].as_u64().unwrap());
    assert_eq!(
        report["utilization"]["ICESTORM_PLL"]["used"], 1,
        "the PLL is used"
    );
    let fmax = report["fmax_mhz"].as_f64().unwrap();
    assert!(
        fmax >= 25.0,
        "Fmax {fmax} MHz below the 25 MHz fabric clock"
    );
    let bitstream = report["bitstream"].as_str().expect("a bitstream path");
    let size = std::fs::metadata(bitstream)
        .expect("the bitstream exists")
        .len();
    // An HX8K bitstream is 135 100 bytes.
    assert!(size > 100_000, "bitstream of {size} bytes");
}

#[test]
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
