//! The external tools the Verilog tests need (yosys, iverilog, Verilator, ...): one rule for
//! whether a tool is there, shared by the build scripts and the tests.
//!
//! The build scripts (`build.rs` of the workspace root and `sim/build.rs`) mount this file with
//! `#[path]` and set the cfg `tool_<name>` for each tool of [`TOOLS`] on PATH, so that a test
//! marked `#[cfg_attr(not(tool_iverilog), ignore = "needs iverilog (...)")]` is listed by
//! `cargo test` as ignored instead of passing silently. Under CI (`CI` set) every cfg is set
//! and [`require_tool`] fails a test whose tool is missing, so CI cannot pass by skipping.
//!
//! Standard library only: the build scripts compile it without the crate.

use std::path::Path;

/// The tools a test may need: (cfg name the build scripts set, executable).
pub const TOOLS: &[(&str, &str)] = &[
    ("tool_yosys", "yosys"),
    ("tool_yosys_smtbmc", "yosys-smtbmc"),
    ("tool_iverilog", "iverilog"),
    ("tool_verilator", "verilator"),
    ("tool_nextpnr_ice40", "nextpnr-ice40"),
    ("tool_icepack", "icepack"),
    ("tool_sby", "yowasp-sby"),
    ("tool_z3", "z3"),
];

/// Whether `exe` is a file in a directory of PATH.
pub fn on_path(exe: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| Path::new(&dir).join(exe).is_file())
    })
}

/// Whether `tool` is on PATH ([`on_path`]). When it is not: on a developer's machine the test
/// says so on stderr (`skipped: ...`) and should return; under CI (`CI` set) it panics, naming
/// `install_hint`.
pub fn require_tool(tool: &str, install_hint: &str) -> bool {
    let found = on_path(tool);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required under CI but was not found: {install_hint}");
        }
        eprintln!("skipped: {tool} not found ({install_hint})");
    }
    found
}

/// For a build script: sets the cfg of every tool of [`TOOLS`] on PATH, or of all of them
/// under CI, and declares them all.
pub fn emit_tool_cfgs() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CI");
    let ci = std::env::var_os("CI").is_some();
    for (cfg, exe) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if ci || on_path(exe) {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
