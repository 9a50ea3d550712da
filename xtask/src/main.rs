//! `cargo xtask synth --board NAME [--shape I-H-O] [--capacity N] [--json]`: builds one
//! board's bitstream with the flow in [`xtask::synth`] and prints what it used.
//! `cargo xtask cosim --board NAME [--view post-synthesis|post-pnr]`: co-simulates the
//! build's netlist against the reference device ([`xtask::cosim`], [`xtask::netlist`]).
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::cosim::{build_session, cosimulate, summary, WeightReads, VERILATOR};
use xtask::netlist::{dut, post_place_and_route, post_synthesis};
use xtask::{synth, BuildRequest};
use zo_hdl::config::Shape;

#[derive(Parser)]
#[command(about = "zo build driver")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Synthesise, place and route, and pack the bitstream of one board.
    Synth(SynthArgs),
    /// Co-simulate a board's default build at gate level (Verilator and the vendor cell
    /// models) against the reference device through its UART pins.
    Cosim(CosimArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum View {
    /// What yosys made of the generated Verilog (`top.json`).
    PostSynthesis,
    /// What nextpnr placed and routed (`--write post.json`); iCE40 boards.
    PostPnr,
}

#[derive(clap::Args)]
struct CosimArgs {
    /// Board: icebreaker, alchitry-cu or ulx3s.
    #[arg(long)]
    board: String,
    /// Which netlist.
    #[arg(long, value_enum, default_value = "post-synthesis")]
    view: View,
    /// Output directory (one folder per board inside; shared with `synth`).
    #[arg(long, default_value = "build")]
    out: PathBuf,
}

#[derive(clap::Args)]
struct SynthArgs {
    /// Board: icebreaker, alchitry-cu or ulx3s.
    #[arg(long)]
    board: String,
    /// Network as INPUTS-HIDDEN-OUTPUTS (default: the board's default build).
    // Board builds use 12-bit weight addresses at most (the iCE40 and ECP5 defaults).
    #[arg(long, value_parser = |s: &str| zo_sim::model::shape::parse_shape(s, 12))]
    shape: Option<Shape>,
    /// Sample slots in the on-chip buffer (default: the board's default build).
    #[arg(long)]
    capacity: Option<u16>,
    /// Mini-batch accumulators, true or false (default: the board's default build; without
    /// them the device takes batch 1 only).
    #[arg(long)]
    accumulators: Option<bool>,
    /// The hybrid estimator's exact output layer, true or false (default: the board's default
    /// build; without it the device takes estimators np and wp only).
    #[arg(long)]
    hybrid: Option<bool>,
    /// Output directory (one folder per board inside).
    #[arg(long, default_value = "build")]
    out: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

fn print_table(r: &Value) {
    println!(
        "board {}  network {}  ({} weights, {} sample slots)",
        r["board"].as_str().unwrap_or(""),
        r["shape"].as_str().unwrap_or(""),
        r["weights"],
        r["sample_capacity"]
    );
    println!("  {:<16} {:>8} {:>10}", "resource", "used", "available");
    println!("  {:<16} {:>8}", "LUT4", r["luts"]);
    println!("  {:<16} {:>8}", "flip-flops", r["ffs"]);
    if let Some(u) = r["utilization"].as_object() {
        for (bel, v) in u {
            println!("  {:<16} {:>8} {:>10}", bel, v["used"], v["available"]);
        }
    }
    println!(
        "  Fmax {:.1} MHz, required {:.1} MHz: {}",
        r["fmax_mhz"].as_f64().unwrap_or(0.0),
        r["required_mhz"].as_f64().unwrap_or(0.0),
        if r["timing_met"].as_bool() == Some(true) {
            "met"
        } else {
            "NOT met"
        }
    );
    match r["pnr_seed"].as_u64() {
        Some(seed) => println!("  placement seed {seed}"),
        None => println!("  placement seed: nextpnr's default"),
    }
    match r["bitstream"].as_str() {
        Some(p) => println!("  bitstream {p}"),
        None if r["placed"].as_bool() == Some(false) => {
            println!("  does not fit / place: see nextpnr.log; no bitstream")
        }
        None => println!("  no bitstream"),
    }
}

/// Runs one gate-level co-simulation; prints its figures.
fn cosim(args: &CosimArgs) -> anyhow::Result<()> {
    if args.view == View::PostPnr
        && zo_hdl::board::top::board(&args.board)
            .is_some_and(|b| b.family != zo_hdl::board::top::Family::Ice40)
    {
        anyhow::bail!(
            "--view post-pnr is for iCE40 boards; {} is ECP5",
            args.board
        );
    }
    let s = xtask::synthesize(&BuildRequest {
        board: args.board.clone(),
        shape: None,
        capacity: None,
        batch_accumulators: None,
        exact_output: None,
        out: args.out.clone(),
    })?;
    let t0 = std::time::Instant::now();
    let (name, files, defines) = match args.view {
        View::PostSynthesis => {
            let (files, defines, _) = post_synthesis(&s, None)?;
            ("post-synthesis", files, defines)
        }
        View::PostPnr => {
            let (files, defines) = post_place_and_route(&s)?;
            ("post-pnr", files, defines)
        }
    };
    let prepare = t0.elapsed();
    let session = build_session(&dut(&s, name), 1, WeightReads::LastJob);
    let run = cosimulate(
        &VERILATOR,
        &session,
        &files,
        &defines,
        &s.dir.join(format!("cosim-{name}")),
    )?;
    println!("{}", summary(&VERILATOR, &session, &run));
    println!(
        "{name} netlist of {}: every byte as the reference device's ({} training samples); \
         netlist {:.1} s, total {:.1} s",
        s.board.name,
        session.trained,
        prepare.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Cosim(args) => match cosim(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Cmd::Synth(args) => match synth(&BuildRequest {
            board: args.board.clone(),
            shape: args.shape,
            capacity: args.capacity,
            batch_accumulators: args.accumulators,
            exact_output: args.hybrid,
            out: args.out.clone(),
        }) {
            Ok((r, ok)) => {
                if args.json {
                    println!("{r}");
                } else {
                    print_table(&r);
                }
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}
