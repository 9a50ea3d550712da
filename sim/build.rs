//! Sets `tool_<name>` for each external tool on PATH (all of them under CI), so that the
//! Verilog tests in sim/tests are reported by `cargo test` as "ignored, needs <tool>" when the
//! tool is missing. The rule is `zo_sim::harness::tools`, mounted here as a file.

#[allow(dead_code)]
#[path = "src/harness/tools.rs"]
mod tools;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/harness/tools.rs");
    tools::emit_tool_cfgs();
}
