//! The generated Verilog of the learner is accepted by other tools: iverilog compiles it and
//! yosys elaborates it (catches SystemVerilog keywords used as names, unconnected ports and
//! syntax rust-hdl emits but does not check).
use zo_sim::harness::tools::require_tool;

use std::process::Command;
use zo_hdl::config::Shape;
use zo_sim::harness::rtl::RtlLearner;

fn out_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("verilog_elaborates");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn emit(shape: Shape, name: &str) -> std::path::PathBuf {
    let path = out_dir().join(name);
    std::fs::write(&path, RtlLearner::<12>::new(shape).verilog()).unwrap();
    path
}

#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn iverilog_compiles_the_learner() {
    if !require_tool("iverilog", "apt-get install iverilog") {
        return;
    }
    let v = emit(Shape::new(64, 32, 10), "learner_64_32_10.v");
    let out = Command::new("iverilog")
        .args(["-g2012", "-o"])
        .arg(out_dir().join("learner.vvp"))
        .arg(&v)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "iverilog rejected the learner:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[cfg_attr(not(tool_yosys), ignore = "needs yosys (apt-get install yosys)")]
fn yosys_elaborates_the_learner() {
    if !require_tool("yosys", "apt-get install yosys") {
        return;
    }
    let v = emit(Shape::new(9, 7, 4), "learner_9_7_4.v");
    let out = Command::new("yosys")
        .arg("-q")
        .arg("-p")
        .arg(format!(
            "read_verilog {}; hierarchy -check -top top; proc; check -assert",
            v.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yosys rejected the learner:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Verilator's lint, all warnings on, passes on the board top-level with these waivers. Each
/// waiver names a pattern of rust-hdl's generated Verilog that is harmless, and why.
const LINT_WAIVERS: &[(&str, &str)] = &[
    (
        "WIDTH",
        "rust-hdl writes constants as 32/64-bit literals and sizes each expression by its Rust \
         type; every assignment truncates to the declared width. Equality of the Verilog and \
         the model is proven by tests/verilog_vs_model.rs, which a width bug fails",
    ),
    (
        "UNUSEDPARAM",
        "rust-hdl declares every state of an enum as a localparam in each module that uses it",
    ),
    ("DECLFILENAME", "the whole design is one generated file"),
    (
        "VARHIDDEN",
        "sub-block instances are named after fields (`crc`, `loss`) that equal a child's port",
    ),
    (
        "UNUSEDSIGNAL",
        "outputs of reusable blocks this top-level leaves open (frame_error, busy, \
         loss_plus/minus for debugging, link_idle for harnesses) and the high address bits of \
         exact-depth RAMs",
    ),
    (
        "UNOPTFLAT",
        "Verilator cannot split rust-hdl's flattened always blocks; not a loop: yosys \
         `check -assert` passes and iverilog and Verilator simulate identically",
    ),
];

#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_lint_is_clean_with_justified_waivers() {
    if !require_tool("verilator", "apt-get install verilator") {
        return;
    }
    use rust_hdl::prelude::*;
    use zo_hdl::board::top::{BoardTop, ICEBREAKER};
    use zo_hdl::engine::controller::ControllerInfo;
    let info = ControllerInfo {
        name: "icebreaker".into(),
        sample_capacity: 64,
        ..ControllerInfo::default()
    };
    let mut top = BoardTop::<12, 17>::new(&ICEBREAKER, Shape::new(16, 16, 4), &info);
    top.connect_all();
    let path = out_dir().join("board_top.v");
    std::fs::write(&path, generate_verilog(&top)).unwrap();
    let mut cmd = Command::new("verilator");
    cmd.args(["--lint-only", "-Wall", "--top-module", "top"]);
    for (warning, _why) in LINT_WAIVERS {
        cmd.arg(format!("-Wno-{warning}"));
    }
    let out = cmd.arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning") && !text.contains("%Error"),
        "verilator lint:\n{text}"
    );
}
