//! Sets `tool_<name>` for each external tool the end-to-end tests in tests/ need and find on
//! PATH (all of them under CI), so that a test whose tool is missing is reported by
//! `cargo test` as "ignored, needs <tool>" instead of passing silently. The rule is
//! `zo_sim::harness::tools`, mounted here as a file.

#[allow(dead_code)]
#[path = "sim/src/harness/tools.rs"]
mod tools;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=sim/src/harness/tools.rs");
    tools::emit_tool_cfgs();
}
