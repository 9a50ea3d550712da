//! The generated Verilog of the learner is accepted by other tools: iverilog compiles it and
//! yosys elaborates it (catches SystemVerilog keywords used as names, unconnected ports and
//! syntax rust-hdl emits but does not check).
mod common;

use std::process::Command;
use zo_hdl::config::Shape;
use zo_sim::rtl::RtlLearner;

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
fn iverilog_compiles_the_learner() {
    if !common::require_tool("iverilog", "apt-get install iverilog") {
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
fn yosys_elaborates_the_learner() {
    if !common::require_tool("yosys", "apt-get install yosys") {
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
