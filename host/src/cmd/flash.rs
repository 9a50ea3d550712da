//! `zo flash`: run the board's programmer on a bitstream.

use crate::outln;
use anyhow::Result;
use zo_host::cli::FlashArgs;

pub fn cmd_flash(a: FlashArgs) -> Result<()> {
    use zo_hdl::board::top::{board, Family, BOARDS};
    let Some(b) = board(&a.board) else {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        anyhow::bail!(
            "unknown board '{}': use one of {}",
            a.board,
            names.join(", ")
        );
    };
    let default = format!(
        "build/{}/top.{}",
        b.name,
        if b.family == Family::Ecp5 {
            "bit"
        } else {
            "bin"
        }
    );
    let bitstream = a.bitstream.unwrap_or_else(|| default.into());
    let mut words: Vec<String> = b.programmer.iter().map(|s| s.to_string()).collect();
    words.push(bitstream.display().to_string());
    if a.dry_run {
        outln!("{}", words.join(" "));
        return Ok(());
    }
    if !bitstream.is_file() {
        anyhow::bail!(
            "no bitstream at {}: build it with `cargo xtask synth --board {}` or pass --bitstream FILE",
            bitstream.display(),
            b.name
        );
    }
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .status()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!("{} is not installed: {}", words[0], b.programmer_install)
            }
            _ => anyhow::anyhow!("cannot run {}: {e}", words[0]),
        })?;
    if !status.success() {
        anyhow::bail!(
            "{} failed ({status}): check the USB cable and that the board is powered",
            words[0]
        );
    }
    Ok(())
}
