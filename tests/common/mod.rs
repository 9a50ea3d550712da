//! Helpers shared by the end-to-end tests.
use std::process::Command;

/// Whether `tool` runs. When it does not: on a user's machine the test says so plainly and is
/// skipped; under CI (`CI` set) it fails, so CI can never pass by skipping.
pub fn require_tool(tool: &str, install_hint: &str) -> bool {
    let found = Command::new(tool)
        .arg("-V")
        .output()
        .map(|_| true)
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required under CI but was not found: {install_hint}");
        }
        eprintln!("skipped: {tool} not found ({install_hint})");
    }
    found
}
