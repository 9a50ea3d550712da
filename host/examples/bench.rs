//! Benchmarks of the zo datapath, measured in one run: cycles per sample against the bound,
//! simulation speed and the link. Writes docs/BENCHMARKS.md and docs/benchmarks.json and
//! prints the same numbers.
//!
//! `cargo run --release -p zo-host --example bench`
//!
//! The section on time and energy to accuracy per board is bench/speed.py's (it needs
//! scikit-learn): this program keeps that section of docs/BENCHMARKS.md as it finds it,
//! between [`SPEED_BEGIN`] and [`SPEED_END`]. Learning quality against scikit-learn's MLP is
//! in docs/BUILTINS.md and docs/UNSEEN.md (bench/builtins.py, bench/unseen.py).

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Instant;
use zo_hdl::board::top::{ICEBREAKER, ULX3S};
use zo_hdl::config::{Estimator, Shape, TrainParams};
use zo_host::cli::ConnectArgs;
use zo_host::connect::Connection;
use zo_proto::{encode_frame, Request, Response, Sample, MAX_PAYLOAD};
use zo_sim::data::schedule::init_weights;
use zo_sim::harness::rtl::RtlLearner;
use zo_sim::model::Model;

const SHAPE: Shape = Shape::new(64, 32, 10);
/// Bits on the wire per byte (8N1).
const UART_BITS: f64 = 10.0;
/// Fmax of the ULX3S build as measured by `cargo xtask synth --board ulx3s` and listed in
/// the synthesis table of docs/BOARDS.md; update it with that table.
const ULX3S_FMAX_HZ: f64 = 44.9e6;

/// A board clock the device time is computed at.
struct BoardClock {
    /// Board name in table headers and the console.
    short: &'static str,
    hz: f64,
}

/// A clock in MHz without a trailing `.0`: "24", "41.8".
fn mhz_num(hz: f64) -> String {
    let s = format!("{:.1}", hz / 1e6);
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

impl BoardClock {
    /// "41.8".
    fn mhz_num(&self) -> String {
        mhz_num(self.hz)
    }

    /// "41.8 MHz".
    fn mhz(&self) -> String {
        format!("{} MHz", self.mhz_num())
    }

    /// "ULX3S 41.8 MHz".
    fn name(&self) -> String {
        format!("{} {}", self.short, self.mhz())
    }
}

/// The clocks of the time columns; the first is the ULX3S's achieved Fmax (for scale), the
/// others the clocks the bitstreams run at.
const CLOCKS: [BoardClock; 3] = [
    BoardClock {
        short: "ULX3S",
        hz: ULX3S_FMAX_HZ,
    },
    BoardClock {
        short: "ULX3S",
        hz: ULX3S.fabric_hz as f64,
    },
    BoardClock {
        short: "iCEBreaker",
        hz: ICEBREAKER.fabric_hz as f64,
    },
];

/// Wire bytes of a full LOAD_SAMPLES frame per sample, for `n_in` features.
fn load_wire_per_sample(n_in: usize) -> (usize, usize, f64) {
    let per_frame = (MAX_PAYLOAD - 4) / (1 + n_in);
    let req = Request::LoadSamples {
        start: 0,
        samples: (0..per_frame)
            .map(|i| Sample {
                label: (i % 10) as u8,
                features: (0..n_in).map(|j| ((i * 31 + j * 7) % 256) as u8).collect(),
            })
            .collect(),
    };
    let wire = encode_frame(&req.to_packet(1)).len()
        + encode_frame(
            &Response::Done {
                request: req.kind(),
            }
            .to_packet(1),
        )
        .len();
    (per_frame, wire, wire as f64 / per_frame as f64)
}

/// The markers of bench/speed.py's section in docs/BENCHMARKS.md.
const SPEED_BEGIN: &str = "<!-- bench/speed.py: begin -->";
const SPEED_END: &str = "<!-- bench/speed.py: end -->";

/// bench/speed.py's section of the existing docs/BENCHMARKS.md, markers included, or the
/// markers around a note that it has not been run.
fn speed_section(root: &std::path::Path) -> String {
    let old = std::fs::read_to_string(root.join("docs/BENCHMARKS.md")).unwrap_or_default();
    match (old.find(SPEED_BEGIN), old.find(SPEED_END)) {
        (Some(a), Some(b)) if a < b => old[a..b + SPEED_END.len()].to_string(),
        _ => format!(
            "{SPEED_BEGIN}\n## 1. Time and energy to accuracy per board\n\nNot measured yet: run \
             bench/speed.py (its docstring has the command).\n{SPEED_END}"
        ),
    }
}

/// Writes beside the target and renames, so that a kill never leaves half a file.
fn write_atomically(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write the benchmark's output");
    std::fs::rename(&tmp, path).expect("rename the benchmark's output");
}

fn main() {
    let t_all = Instant::now();
    let cmd = "cargo run --release -p zo-host --example bench";
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("zo bench: {cmd}\nmachine: {nproc} cores (nproc), {cpu}; {date}");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut md = String::new();
    let mut js = serde_json::Map::new();
    js.insert(
        "machine".into(),
        json!({"nproc": nproc, "cpu": cpu, "date": date, "command": cmd}),
    );
    let _ = writeln!(
        md,
        "# Benchmarks\n\nGenerated by `{cmd}` (host/examples/bench.rs) in one run; raw figures in \
         docs/benchmarks.json. Machine: {nproc} cores (`nproc`), CPU `{cpu}` (/proc/cpuinfo), \
         {date}. All speeds are compared as ratios measured in this same run.\n\n\
         Data it was not tuned on (zo against scikit-learn's MLP on held-out datasets) is in \
         [UNSEEN.md](UNSEEN.md), made by bench/unseen.py; the built-ins against scikit-learn's \
         MLP on the same rows, every estimator and loss with the current defaults, in \
         [BUILTINS.md](BUILTINS.md), made by bench/builtins.py.\n"
    );

    let _ = writeln!(md, "{}", speed_section(&root));
    let cps = SHAPE.train_cycles();
    let (per_frame, _, wire_per_sample) = load_wire_per_sample(SHAPE.n_in);

    // ---------------------------------------------------------------- 3. datapath efficiency
    let _ = writeln!(
        md,
        "\n## 2. Datapath efficiency\n\nCycles of one training sample measured on the rust-hdl \
         learner (`RtlLearner::last_op_cycles`, 3 samples each, NP-CE and WP-CE) against the \
         bound 3W (three sweeps over the W weights: + pass, - pass, update).\n\n| shape | W | \
         3W | measured NP | measured WP | model formula | measured / 3W |\n|---|---|---|---|---|\
         ---|---|"
    );
    let mut jeff = Vec::new();
    for (i, h, o) in [(5, 4, 3), (9, 7, 4), (16, 16, 4), (64, 32, 10)] {
        let shape = Shape::new(i, h, o);
        let w = shape.n_weights();
        let mut meas = Vec::new();
        for est in [Estimator::NodePerturbation, Estimator::WeightPerturbation] {
            let mut rtl = RtlLearner::<12>::new(shape);
            rtl.set_params(&TrainParams {
                estimator: est,
                sigma: 64,
                eta_shift: 9,
                ..TrainParams::default()
            });
            rtl.write_weights(&init_weights(shape, 1));
            let mut cyc = Vec::new();
            for s in 0..3usize {
                let x: Vec<u8> = (0..i).map(|j| ((s * 37 + j * 11) % 256) as u8).collect();
                rtl.train(&x, s % o);
                cyc.push(rtl.last_op_cycles);
            }
            meas.push(cyc);
        }

        let formula = shape.train_cycles();
        let ratio = meas[0][0] as f64 / (3 * w) as f64;
        let _ = writeln!(
            md,
            "| {shape} | {w} | {} | {:?} | {:?} | {formula} | {ratio:.3} |",
            3 * w,
            meas[0],
            meas[1]
        );
        println!(
            "datapath {shape}: W {w}, 3W {}, measured NP {:?} WP {:?}, formula {formula}, \
             ratio {ratio:.3}",
            3 * w,
            meas[0],
            meas[1]
        );
        jeff.push(
            json!({"shape": shape.to_string(), "n_weights": w, "bound_3w": 3 * w,
            "measured_np": meas[0], "measured_wp": meas[1], "formula": formula, "ratio": ratio}),
        );
    }
    let _ = writeln!(
        md,
        "\nThe overhead over 3W is 4 x n_out + 45 cycles per sample (loss evaluation and \
         control), `3W + 4*n_out + 45`."
    );
    js.insert("datapath".into(), Value::Array(jeff));

    // ---------------------------------------------------------------- 4. simulation speed
    let rng_x: Vec<(Vec<u8>, usize)> = (0..512usize)
        .map(|s| {
            (
                (0..64).map(|j| ((s * 131 + j * 29) % 256) as u8).collect(),
                s % 10,
            )
        })
        .collect();
    let mut model_rates = Vec::new();
    for est in [Estimator::NodePerturbation, Estimator::WeightPerturbation] {
        let mut m = Model::new(SHAPE, 1);
        m.set_weights(&init_weights(SHAPE, 1));
        m.params = TrainParams {
            estimator: est,
            sigma: 64,
            eta_shift: 9,
            ..TrainParams::default()
        };
        let t = Instant::now();
        let mut n = 0usize;
        while t.elapsed().as_secs_f64() < 2.0 {
            let (x, y) = &rng_x[n % rng_x.len()];
            m.train(x, *y);
            n += 1;
        }
        model_rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    // A longer RTL measurement at 64-32-10.
    let rtl_rate = {
        let mut rtl = RtlLearner::<12>::new(SHAPE);
        rtl.set_params(&TrainParams {
            sigma: 64,
            eta_shift: 9,
            ..TrainParams::default()
        });
        rtl.write_weights(&init_weights(SHAPE, 1));
        let c0 = rtl.cycles;
        let t = Instant::now();
        let mut n = 0usize;
        while t.elapsed().as_secs_f64() < 4.0 {
            let (x, y) = &rng_x[n % rng_x.len()];
            rtl.train(x, *y);
            n += 1;
        }
        (rtl.cycles - c0, t.elapsed().as_secs_f64())
    };
    let rtl_cps = rtl_rate.0 as f64 / rtl_rate.1;
    let rtl_sps = rtl_cps / cps as f64;
    let _ = writeln!(
        md,
        "\n## 3. Simulation speed ({SHAPE})\n\n| simulator | samples/s | cycles/s (equivalent) \
         | vs rust-hdl |\n|---|---|---|---|\n\
         | reference model, NP-CE, 2 s loop | {:.0} | {:.3e} | {:.0}x |\n\
         | reference model, WP-CE, 2 s loop | {:.0} | {:.3e} | {:.0}x |\n\
         | rust-hdl `RtlLearner` (directly stepped), 4 s | {:.2} | {:.3e} | 1x |\n\
         | {} at {} (computed from the cycle count, for scale) | {:.0} | {:.3e} | {:.0}x |\n\n\
         Verilator: omitted (the co-simulation test in tests/verilog_vs_model.rs checks equality, not \
         speed, and timing it here is not cheap).",
        model_rates[0],
        model_rates[0] * cps as f64,
        model_rates[0] / rtl_sps,
        model_rates[1],
        model_rates[1] * cps as f64,
        model_rates[1] / rtl_sps,
        rtl_sps,
        rtl_cps,
        CLOCKS[0].short,
        CLOCKS[0].mhz(),
        CLOCKS[0].hz / cps as f64,
        CLOCKS[0].hz,
        CLOCKS[0].hz / rtl_cps
    );
    println!(
        "speed: model NP {:.0} samples/s, WP {:.0} samples/s; rust-hdl {rtl_sps:.2} samples/s \
         = {rtl_cps:.0} cycles/s; model/rtl {:.0}x",
        model_rates[0],
        model_rates[1],
        model_rates[0] / rtl_sps
    );
    js.insert(
        "simulation_speed".into(),
        json!({"shape": SHAPE.to_string(), "model_np_samples_per_s": model_rates[0],
               "model_wp_samples_per_s": model_rates[1],
               "rtl_cycles_per_s": rtl_cps, "rtl_samples_per_s": rtl_sps,
               "model_over_rtl": model_rates[0] / rtl_sps, "verilator": null}),
    );

    // ---------------------------------------------------------------- 5. link
    let _ = writeln!(
        md,
        "\n## 4. Link\n\nWire bytes (COBS frame with header, CRC and delimiter) per payload \
         byte, from zo_proto encode sizes:\n\n| frame | payload bytes | wire bytes | wire / \
         payload |\n|---|---|---|---|"
    );
    let mut jframes = Vec::new();
    let sizes: Vec<(String, usize, usize)> = {
        let mk =
            |name: &str, req_payload: usize, wire: usize| (name.to_string(), req_payload, wire);
        let lr = Request::LoadSamples {
            start: 0,
            samples: (0..per_frame)
                .map(|i| Sample {
                    label: (i % 10) as u8,
                    features: rng_x[i].0.clone(),
                })
                .collect(),
        };
        let ww = Request::WriteWeights {
            start: 0,
            values: init_weights(SHAPE, 1)[..252].to_vec(),
        };
        let rw = Response::Weights {
            start: 0,
            values: init_weights(SHAPE, 1)[..254].to_vec(),
        };
        let tr = Request::Train {
            first: 0,
            count: 1000,
            epochs: 1,
        };
        vec![
            mk(
                &format!("LOAD_SAMPLES request, {per_frame} x 65-byte records"),
                lr.encode_payload().len(),
                encode_frame(&lr.to_packet(1)).len(),
            ),
            mk(
                "WRITE_WEIGHTS request, 252 weights",
                ww.encode_payload().len(),
                encode_frame(&ww.to_packet(1)).len(),
            ),
            mk(
                "READ_WEIGHTS response, 254 weights",
                rw.encode_payload().len(),
                encode_frame(&rw.to_packet(1)).len(),
            ),
            mk(
                "TRAIN request",
                tr.encode_payload().len(),
                encode_frame(&tr.to_packet(1)).len(),
            ),
        ]
    };
    for (name, p, w) in &sizes {
        let r = *w as f64 / *p as f64;
        let _ = writeln!(md, "| {name} | {p} | {w} | {r:.3} |");
        println!("link frame {name}: payload {p} B, wire {w} B, ratio {r:.3}");
        jframes.push(json!({"frame": name, "payload_bytes": p, "wire_bytes": w, "ratio": r}));
    }

    // Throughput host -> virtual board over a PTY.
    let args = ConnectArgs {
        baud: 1_000_000,
        ..ConnectArgs::default()
    };
    let mut link_json = json!(null);
    match Connection::open(&args, SHAPE) {
        Ok(mut conn) => {
            let link = conn.link();
            let w = init_weights(SHAPE, 1);
            let reps = 20;
            let s0 = link.stats;
            let t = Instant::now();
            let mut ok = true;
            for _ in 0..reps {
                ok &= link.write_weights(&w).is_ok();
            }
            let ww_secs = t.elapsed().as_secs_f64();
            let ww_bytes = link.stats.bytes_sent - s0.bytes_sent;
            let samples: Vec<Sample> = (0..2048)
                .map(|i| Sample {
                    label: rng_x[i % rng_x.len()].1 as u8,
                    features: rng_x[i % rng_x.len()].0.clone(),
                })
                .collect();
            let s1 = link.stats;
            let t = Instant::now();
            let lreps = 5;
            for _ in 0..lreps {
                ok &= link.load_samples(0, &samples).is_ok();
            }
            let ls_secs = t.elapsed().as_secs_f64();
            let ls_bytes = link.stats.bytes_sent - s1.bytes_sent;
            let ww_payload = (reps * 2 * w.len()) as f64;
            let ls_payload = (lreps * samples.len() * 65) as f64;
            let n_samples = (lreps * samples.len()) as f64;
            let _ = writeln!(
                md,
                "\nHost -> virtual board (bit-exact model behind the real protocol on a \
                 pseudo-terminal, `zo_host::connect::Connection` + `zo_host::link::Link`; a PTY \
                 does not emulate the baud rate, so this measures the host, the framing and the \
                 board's decoding):\n\n| operation | payload | wall s | payload MB/s | \
                 wire bytes sent | samples/s |\n|---|---|---|---|---|---|\n\
                 | write_weights {} weights x {reps} | {} B | {ww_secs:.3} | {:.3} | {ww_bytes} \
                 | - |\n| load_samples 2048 x 64-feature samples x {lreps} | {} B | \
                 {ls_secs:.3} | {:.3} | {ls_bytes} | {:.0} |",
                w.len(),
                ww_payload,
                ww_payload / ww_secs / 1e6,
                ls_payload,
                ls_payload / ls_secs / 1e6,
                n_samples / ls_secs
            );
            println!(
                "link PTY: write_weights {:.3} MB/s payload ({ww_secs:.3} s), load_samples \
                 {:.3} MB/s payload, {:.0} samples/s ({ls_secs:.3} s), all ok: {ok}",
                ww_payload / ww_secs / 1e6,
                ls_payload / ls_secs / 1e6,
                n_samples / ls_secs
            );
            link_json = json!({"write_weights": {"weights": w.len(), "reps": reps, "seconds": ww_secs,
                "payload_bytes": ww_payload, "wire_bytes_sent": ww_bytes},
                "load_samples": {"samples": samples.len(), "reps": lreps, "seconds": ls_secs,
                "payload_bytes": ls_payload, "wire_bytes_sent": ls_bytes,
                "samples_per_s": n_samples / ls_secs}, "ok": ok});
        }
        Err(e) => {
            let _ = writeln!(md, "\nVirtual board over a PTY: could not start ({e}).");
            println!("link PTY: could not start ({e})");
        }
    }
    let rate_cols: String = CLOCKS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                format!(" {} samples/s |", c.name())
            } else {
                format!(" {} |", c.name())
            }
        })
        .collect();
    let _ = writeln!(
        md,
        "\nWhat the UART allows for 64-feature samples ({wire_per_sample:.2} wire bytes per \
         sample in full LOAD_SAMPLES frames, response included; 10 bits per byte), against the \
         device's training rate at {SHAPE} ({cps} cycles per sample):\n\n| baud | samples/s \
         over UART |{rate_cols}\n|{}",
        "---|".repeat(2 + CLOCKS.len())
    );
    let mut juart = Vec::new();
    for baud in [1e6, 3e6] {
        let sps = baud / UART_BITS / wire_per_sample;
        let rates: String = CLOCKS
            .iter()
            .map(|c| format!(" {:.0} |", c.hz / cps as f64))
            .collect();
        let _ = writeln!(md, "| {baud:.0} | {sps:.0} |{rates}");
        println!("uart {baud:.0} baud: {sps:.0} samples/s (64-byte samples)");
        juart.push(json!({"baud": baud, "samples_per_s": sps}));
    }
    let uart1 = 1e6 / UART_BITS / wire_per_sample;
    let _ = writeln!(
        md,
        "\nAt {SHAPE} the {} trains {:.0} samples/s at {}, {:.1}x what 1 Mbaud \
         delivers ({uart1:.0} samples/s): loading the samples over the UART is the bottleneck \
         unless the samples stay in the buffer for several epochs (3 Mbaud: {:.1}x).",
        CLOCKS[0].short,
        CLOCKS[0].hz / cps as f64,
        CLOCKS[0].mhz(),
        CLOCKS[0].hz / cps as f64 / uart1,
        CLOCKS[0].hz / cps as f64 / (3.0 * uart1)
    );
    js.insert(
        "link".into(),
        json!({"frames": jframes, "pty": link_json, "uart": juart,
               "wire_bytes_per_sample": wire_per_sample}),
    );
    js.insert(
        "total_wall_seconds".into(),
        json!(t_all.elapsed().as_secs_f64()),
    );
    let _ = writeln!(
        md,
        "\nTotal wall time of the benchmark: {:.0} s.",
        t_all.elapsed().as_secs_f64()
    );

    write_atomically(&root.join("docs/BENCHMARKS.md"), &md);
    write_atomically(
        &root.join("docs/benchmarks.json"),
        &(serde_json::to_string_pretty(&Value::Object(js)).unwrap_or_default() + "\n"),
    );
    println!(
        "wrote docs/BENCHMARKS.md and docs/benchmarks.json in {:.0} s",
        t_all.elapsed().as_secs_f64()
    );
}
