//! The generated Verilog of the complete device (`zo_hdl::device::ZoDevice`: UARTs, protocol
//! engine, learner), simulated and driven only through its UART pins, answers a scripted session
//! byte for byte like the reference device (`zo_sim::board::Device` over the model): identity,
//! weights, samples, six training jobs (both estimators, both losses, mini-batches with partial
//! batches, two saturating runs), evaluations, inferences, BUSY, a replay, a NAK, STOP and RESET.
//! iverilog runs it with one pass per job (306 training samples) on a 5-4-3 network; Verilator
//! runs it longer, and also at the shapes and address widths of the board builds. Only a
//! simulation of the Verilog catches where rust-hdl's Rust simulation and its Verilog disagree
//! (expression widths).
//!
//! The testbench is open loop: it plays a stimulus file (bytes to send as 8N1 on `rxd`, idle
//! gaps long enough for each answer and job, step markers) and records every change of the
//! output pins. The test decodes `txd` with the reference receiver (`zo_sim::uart::LineDecoder`),
//! assigns the bytes to the steps by the markers and compares them with the reference device's;
//! at each marker the device must be idle (else a wait was too short).
mod common;

use rust_hdl::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;
use zo_hdl::config::Shape;
use zo_hdl::device::ZoDevice;
use zo_proto::{
    decode_packet, encode_frame, kind, Packet, Params, Request, Response, Sample, MAX_PAYLOAD,
    MAX_READ_COUNT, MAX_WRITE_COUNT,
};
use zo_sim::board::{BoardInfo, Device};
use zo_sim::fixtures::{random_samples, test_params};
use zo_sim::model::Model;
use zo_sim::train::init_weights;
use zo_sim::uart::{LineDecoder, RxEvent};

/// Slack added to every computed wait, in clock cycles.
const SLACK: u64 = 200;
/// Samples per pass of the training jobs (the sample buffer holds at least this many).
const PASS: u16 = 64;

/// An elaboration of the device: the network, the sample buffer, the serial bit time and the
/// generator of its Verilog (address widths are type parameters).
struct Config {
    name: &'static str,
    shape: Shape,
    capacity: u16,
    clocks_per_bit: usize,
    /// Mini-batch accumulators built in (without them batch > 1 is refused, as by the model).
    batch_accumulators: bool,
    verilog: fn(&Config) -> String,
}

impl Config {
    /// Clock cycles of one byte on the wire (8N1).
    fn byte_cycles(&self) -> u64 {
        10 * self.clocks_per_bit as u64
    }

    /// Idle cycles after power-on: the engine zeroes the sample buffer (one byte per cycle)
    /// and runs RESET (clearing the learner's accumulators, one per weight) before it listens.
    fn boot_cycles(&self) -> u64 {
        let buffer = (self.capacity as u64 + 1) * (self.shape.n_in as u64 + 1) + 1;
        4000 + buffer + 8 * self.shape.n_weights() as u64
    }

    fn board_info(&self) -> BoardInfo {
        BoardInfo {
            sample_capacity: self.capacity,
            batch_accumulators: self.batch_accumulators,
            ..BoardInfo::default()
        }
    }
}

/// The Verilog of `ZoDevice<AW, SA>` (its top module is `top`): `2^AW` weights, `2^SA` bytes
/// of sample buffer for `capacity + 1` records of `n_in + 1` bytes.
fn device_verilog<const AW: usize, const SA: usize>(c: &Config) -> String {
    c.shape.check(AW).unwrap();
    let record = c.shape.n_in + 1;
    assert!((c.capacity as usize + 1) * record < 1 << SA, "SA too small");
    let info = c.board_info();
    let mut dev = ZoDevice::<AW, SA>::new(c.shape, &info, c.clocks_per_bit);
    dev.connect_all();
    generate_verilog(&dev)
}

/// Small and quick: 39 weights, 4 clocks per bit.
const SMALL: Config = Config {
    name: "5-4-3",
    shape: Shape::new(5, 4, 3),
    capacity: 64,
    clocks_per_bit: 4,
    batch_accumulators: true,
    verilog: device_verilog::<6, 9>,
};

/// The iCEBreaker build of `cargo xtask synth` (`BoardTop::<12, 17>`, 24 MHz from the PLL,
/// 1 Mbaud, 500 slots, no mini-batch accumulators: its batch > 1 jobs are refused and run with
/// batch 1).
const ICEBREAKER: Config = Config {
    name: "64-32-10-no-accumulators",
    shape: Shape::new(64, 32, 10),
    capacity: 500,
    clocks_per_bit: zo_hdl::top::ICEBREAKER.clocks_per_bit(),
    batch_accumulators: false,
    verilog: device_verilog::<12, 17>,
};

/// The ULX3S build (64-32-10, 1024 samples, 25 MHz, 1 Mbaud).
const ULX3S: Config = Config {
    name: "64-32-10",
    shape: Shape::new(64, 32, 10),
    capacity: 1024,
    clocks_per_bit: zo_hdl::top::ULX3S.clocks_per_bit(),
    batch_accumulators: true,
    verilog: device_verilog::<12, 17>,
};

// Stimulus words: opcode in bits 31..24, argument below.
const OP_END: u32 = 0;
const OP_SEND: u32 = 1;
const OP_IDLE: u32 = 2;
const OP_MARK: u32 = 3;

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verilog_vs_model");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One request of the session (or raw wire bytes), what the reference device answers, and
/// how long the testbench waits after sending it.
struct Step {
    what: String,
    wire: Vec<u8>,
    expected: Vec<u8>,
    idle: u64,
}

/// The scripted session, executed on the reference device as it is built.
struct Session<'c> {
    config: &'c Config,
    model: Device<Model>,
    steps: Vec<Step>,
    seq: u8,
    trained: u64,
}

impl<'c> Session<'c> {
    fn new(config: &'c Config) -> Self {
        Self {
            config,
            model: Device::new(Model::new(config.shape, 1), config.board_info()),
            steps: Vec::new(),
            seq: 0,
            trained: 0,
        }
    }

    fn wire(&mut self, wire: Vec<u8>, what: &str) -> Vec<u8> {
        let expected = self.model.receive(&wire);
        // Execution (at most an inference), the engine's preparation (measured: up to ~3.2
        // cycles per byte of request and response before it sends) and the answer on the wire.
        let c = self.config;
        let idle = c.shape.infer_cycles()
            + 4 * (wire.len() + expected.len()) as u64
            + c.byte_cycles() * expected.len() as u64
            + SLACK;
        self.steps.push(Step {
            what: what.to_string(),
            wire,
            expected: expected.clone(),
            idle,
        });
        expected
    }

    fn request(&mut self, r: &Request, what: &str) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        self.wire(encode_frame(&r.to_packet(self.seq)), what)
    }

    /// WRITE_WEIGHTS in blocks of at most `MAX_WRITE_COUNT`.
    fn write_weights(&mut self, w: &[i16], what: &str) {
        for (k, block) in w.chunks(MAX_WRITE_COUNT as usize).enumerate() {
            let start = k * MAX_WRITE_COUNT as usize;
            self.request(
                &Request::WriteWeights {
                    start: start as u16,
                    values: block.to_vec(),
                },
                &format!("{what} from {start}"),
            );
        }
    }

    /// READ_WEIGHTS of all weights in blocks of at most `MAX_READ_COUNT`; returns them.
    fn read_weights(&mut self, what: &str) -> Vec<i16> {
        let n = self.config.shape.n_weights();
        let mut w = Vec::with_capacity(n);
        for start in (0..n).step_by(MAX_READ_COUNT as usize) {
            let count = (n - start).min(MAX_READ_COUNT as usize);
            let r = self.request(
                &Request::ReadWeights {
                    start: start as u16,
                    count: count as u16,
                },
                &format!("{what} from {start}"),
            );
            w.extend(weights_of(&r));
        }
        w
    }

    /// LOAD_SAMPLES of `data` into slots `start..`, as many per request as fit a payload.
    fn load_samples(&mut self, start: u16, data: &[Sample]) {
        let per = (MAX_PAYLOAD - 4) / (self.config.shape.n_in + 1);
        for (k, block) in data.chunks(per.min(32)).enumerate() {
            let first = start as usize + k * per.min(32);
            self.request(
                &Request::LoadSamples {
                    start: first as u16,
                    samples: block.to_vec(),
                },
                &format!("load samples from {first}"),
            );
        }
    }

    /// Runs the job on the reference device to completion and extends the last step's wait by
    /// an upper bound of the job's cycles on the hardware: the learner's (docs/PROTOCOL.md,
    /// `device_cycles`) plus a few per sample for the engine (3 measured; 8 allowed).
    fn finish_job(&mut self, training: bool, batch: u16) {
        let shape = self.config.shape;
        let updates = self.model.backend().counters.updates;
        let mut n = 0;
        while self.model.step() {
            n += 1;
        }
        assert!(n > 0, "no job was running");
        let learner = if training {
            self.trained += n;
            // With mini-batches every update is an apply sweep, at most `W + 8` cycles.
            let applies = if batch > 1 {
                (self.model.backend().counters.updates - updates) as u64
            } else {
                0
            };
            n * shape.train_cycles() + applies * shape.apply_op_cycles()
        } else {
            n * shape.infer_cycles()
        };
        // Between samples the job engine books the result and waits for the status file's
        // 17-cycle sweep (hdl/src/status_file.rs) before it starts the next one.
        self.steps.last_mut().unwrap().idle += learner + JOB_CYCLES_PER_SAMPLE * n + SLACK;
    }
}

/// Job-engine cycles per sample besides the learner's: bookkeeping, label read and the status
/// file's 17-cycle sweep and the four states around it (24 leaves a few cycles of margin).
const JOB_CYCLES_PER_SAMPLE: u64 = 24;

fn set_params(estimator: u8, loss: u8, batch: u16, seed: u32) -> Request {
    Request::SetParams(test_params(estimator, loss, batch, seed))
}

fn weights_of(response: &[u8]) -> Vec<i16> {
    let packet = decode_packet(&response[..response.len() - 1]).unwrap();
    match Response::decode(packet.kind, &packet.payload).unwrap() {
        Response::Weights { values, .. } => values,
        other => panic!("expected weights, got {other:?}"),
    }
}

/// The session; every training job runs `epochs` passes of (up to) `PASS` samples. Samples
/// are loaded into the first and the last `PASS` slots; training uses the last ones, so the
/// highest sample addresses are exercised.
fn build_session(config: &Config, epochs: u16) -> Session<'_> {
    let (shape, capacity) = (config.shape, config.capacity);
    assert!(capacity >= PASS);
    let mut s = Session::new(config);
    s.request(&Request::Identify, "identify");
    s.request(&Request::Status, "status after power-on");
    let w0 = init_weights(shape, 3);
    s.write_weights(&w0, "write weights");
    assert_eq!(s.read_weights("read weights back"), w0);
    let low = random_samples(shape, PASS as usize, 5);
    s.load_samples(0, &low);
    let top = capacity - PASS;
    let high = if top == 0 {
        low.clone()
    } else {
        let high = random_samples(shape, PASS as usize, 6);
        s.load_samples(top, &high);
        high
    };
    // (estimator, loss, batch, samples per pass): 64 % 3 and 50 % 4 leave partial batches
    // that the end of each pass applies.
    let jobs = [
        (0u8, 1u8, 1u16, PASS),
        (1, 0, 4, 50),
        (0, 0, 3, PASS),
        (1, 1, 1, PASS),
    ];
    let mut previous = w0.clone();
    for (i, &(estimator, loss, batch, count)) in jobs.iter().enumerate() {
        let tag = format!("job {i} (estimator {estimator}, loss {loss}, batch {batch})");
        s.request(
            &set_params(estimator, loss, batch, 40 + i as u32),
            &format!("set params, {tag}"),
        );
        s.request(
            &Request::Train {
                first: capacity - count,
                count,
                epochs,
            },
            &format!("train, {tag}"),
        );
        if i == 0 {
            s.request(
                &Request::ReadWeights { start: 0, count: 2 },
                "busy during a job",
            );
        }
        s.finish_job(true, batch);
        s.request(&Request::Status, &format!("status after training, {tag}"));
        let w = s.read_weights(&format!("weights after training, {tag}"));
        assert_ne!(w, previous, "{tag} did not change the weights");
        previous = w;
        if i % 2 == 0 {
            s.request(
                &Request::Evaluate {
                    first: 0,
                    count: PASS,
                },
                &format!("evaluate, {tag}"),
            );
            s.finish_job(false, 1);
            s.request(&Request::Status, &format!("status after evaluation, {tag}"));
        }
        for (j, x) in [&low[0], &high[1]].into_iter().enumerate() {
            s.request(&Request::Infer(x.clone()), &format!("infer {j}, {tag}"));
        }
    }

    // Saturating runs: large weights, large sigma and step size.
    let big: Vec<i16> = w0
        .iter()
        .map(|&w| (w as i32 * 8).clamp(-32768, 32767) as i16)
        .collect();
    s.write_weights(&big, "write large weights");
    for (i, (estimator, loss, batch)) in [(0u8, 0u8, 5u16), (1, 1, 1)].into_iter().enumerate() {
        let tag = format!("saturating job {i} (estimator {estimator}, loss {loss}, batch {batch})");
        s.request(
            &Request::SetParams(Params {
                estimator,
                loss,
                sigma: 0x2000,
                eta_mant: 255,
                eta_shift: 0,
                batch,
                reseed: true,
                // Seed 0 (replaced by 1 for both generators) exercises the zero-seed path.
                seed: if i == 0 { 0 } else { 8 },
                out_shift: 0,
                momentum: 0,
            }),
            &format!("set params, {tag}"),
        );
        s.request(
            &Request::Train {
                first: top,
                count: PASS / 2,
                epochs,
            },
            &format!("train, {tag}"),
        );
        s.finish_job(true, batch);
        s.request(&Request::Status, &format!("status after training, {tag}"));
        s.read_weights(&format!("weights after training, {tag}"));
        s.request(&Request::Infer(low[7].clone()), &format!("infer, {tag}"));
    }
    s.request(
        &Request::Evaluate {
            first: capacity - 40,
            count: 40,
        },
        "evaluate after the saturating runs",
    );
    s.finish_job(false, 1);
    s.request(&Request::Status, "status after the last evaluation");

    // A retransmission is answered from the stored response; a damaged frame gets a NAK.
    let replay = encode_frame(&Request::Status.to_packet(s.seq));
    s.wire(replay, "replay of the last request");
    let mut bad = encode_frame(&Request::Status.to_packet(s.seq.wrapping_add(1)));
    bad[2] ^= 0x10;
    s.wire(bad, "bad CRC");
    s.request(&Request::Stop, "stop without a job");
    s.request(&Request::Reset, "reset");
    s.request(&Request::Status, "status after reset");
    s.request(&Request::Identify, "identify after reset");
    s
}

fn stimulus(config: &Config, steps: &[Step]) -> String {
    let mut words = vec![OP_IDLE << 24 | config.boot_cycles() as u32];
    for (i, step) in steps.iter().enumerate() {
        words.push(OP_MARK << 24 | i as u32);
        words.extend(step.wire.iter().map(|&b| OP_SEND << 24 | b as u32));
        assert!(step.idle < 1 << 24);
        words.push(OP_IDLE << 24 | step.idle as u32);
    }
    words.push(OP_END << 24);
    words.iter().fold(String::new(), |mut s, w| {
        writeln!(s, "{w:08x}").unwrap();
        s
    })
}

/// Clocks `top`, plays the stimulus and writes, per negative clock edge `n` (1, 2, ...):
/// `C n txd training error activity` whenever an output changed, `M n step link_idle training
/// error` at a step marker, `E n link_idle training error` at the end.
fn testbench(clocks_per_bit: usize, words: usize, stimulus: &Path, trace: &Path) -> String {
    format!(
        r#"`timescale 1ns/1ns
module tb;
  reg clock = 0;
  reg rxd = 1;
  wire txd, activity, training, error, link_idle;
  top dut(.clock(clock), .rxd(rxd), .txd(txd), .activity(activity), .training(training),
          .error(error), .link_idle(link_idle));
  reg [31:0] stim [0:{last}];
  reg [31:0] op;
  reg [9:0] frame;
  reg [3:0] seen;
  integer pc, b, fd, n;
  always #5 clock = ~clock;
  initial begin
    n = 0;
    seen = 4'bxxxx;
    fd = $fopen("{trace}", "w");
    $readmemh("{stimulus}", stim);
    pc = 0;
    op = stim[0];
    while (op[31:24] != {end}) begin
      case (op[31:24])
        {send}: begin
          frame = {{1'b1, op[7:0], 1'b0}};
          for (b = 0; b < 10; b = b + 1) begin
            rxd = frame[b];
            repeat ({cpb}) @(negedge clock);
          end
        end
        {idle}: repeat (op[23:0]) @(negedge clock);
        {mark}: $fwrite(fd, "M %0d %0d %b %b %b\n", n, op[23:0], link_idle, training, error);
        default: begin
          $display("bad stimulus word %h", op);
          $finish;
        end
      endcase
      pc = pc + 1;
      op = stim[pc];
    end
    $fwrite(fd, "E %0d %b %b %b\n", n, link_idle, training, error);
    $fclose(fd);
    $finish;
  end
  always @(negedge clock) begin
    n = n + 1;
    if ({{txd, training, error, activity}} !== seen) begin
      seen = {{txd, training, error, activity}};
      $fwrite(fd, "C %0d %b %b %b %b\n", n, txd, training, error, activity);
    end
  end
endmodule
"#,
        last = words - 1,
        trace = trace.display(),
        stimulus = stimulus.display(),
        end = OP_END,
        send = OP_SEND,
        idle = OP_IDLE,
        mark = OP_MARK,
        cpb = clocks_per_bit,
    )
}

fn level(s: &str, what: &str, cycle: usize) -> bool {
    match s {
        "0" => false,
        "1" => true,
        _ => panic!("{what} is {s} (not 0 or 1) at cycle {cycle}"),
    }
}

#[derive(Debug, Default)]
struct Trace {
    /// `(cycle, txd, training, error)` at each change of an output (and cycle 1).
    changes: Vec<(usize, bool, bool, bool)>,
    /// `(cycle, step, link_idle, training, error)`.
    marks: Vec<(usize, usize, bool, bool, bool)>,
    /// `(cycle, link_idle, training, error)` at the end.
    end: Option<(usize, bool, bool, bool)>,
}

fn parse_trace(text: &str) -> Trace {
    let mut t = Trace::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let n: usize = f[1].parse().unwrap();
        match f[0] {
            "C" => t.changes.push((
                n,
                level(f[2], "txd", n),
                level(f[3], "training", n),
                level(f[4], "error", n),
            )),
            "M" => t.marks.push((
                n,
                f[2].parse().unwrap(),
                level(f[3], "link_idle", n),
                level(f[4], "training", n),
                level(f[5], "error", n),
            )),
            "E" => {
                t.end = Some((
                    n,
                    level(f[2], "link_idle", n),
                    level(f[3], "training", n),
                    level(f[4], "error", n),
                ))
            }
            _ => panic!("bad trace line {line:?}"),
        }
    }
    t
}

/// The responses in `bytes`, decoded for a failure message.
fn describe(bytes: &[u8]) -> String {
    bytes
        .split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| match decode_packet(f) {
            Ok(Packet { kind, seq, payload }) => match Response::decode(kind, &payload) {
                Ok(r) => format!("seq {seq}: {r:?}"),
                Err(e) => format!("seq {seq}: kind {kind:#04x}, undecodable: {e}"),
            },
            Err(e) => format!("bad frame {f:02x?}: {e}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A simulator run of the testbench: compile with `compile`, then run `simulate`.
struct Simulator {
    name: &'static str,
    compile: fn(dir: &Path, bench: &Path, design: &Path) -> Command,
    simulate: fn(dir: &Path) -> Command,
}

const IVERILOG: Simulator = Simulator {
    name: "iverilog",
    compile: |dir, bench, design| {
        let mut c = Command::new("iverilog");
        c.args(["-g2012", "-s", "tb", "-o"])
            .arg(dir.join("tb.vvp"))
            .arg(bench)
            .arg(design);
        c
    },
    simulate: |dir| {
        let mut c = Command::new("vvp");
        c.arg("-n").arg(dir.join("tb.vvp"));
        c
    },
};

/// Verilator 5.006 (Debian 12) miscompiles some bit-operation trees (seen on rust-hdl's LFSR
/// feedback); `-fno-const-bit-op-tree` avoids it.
const VERILATOR: Simulator = Simulator {
    name: "verilator",
    compile: |dir, bench, design| {
        let mut c = Command::new("verilator");
        c.args(["--binary", "--timing", "-fno-const-bit-op-tree"])
            .args([
                "-Wno-fatal",
                "-Wno-lint",
                "-Wno-style",
                "--top-module",
                "tb",
            ])
            .args(["-j", "1", "-o", "tb", "--Mdir"])
            .arg(dir.join("obj_dir"))
            .arg(bench)
            .arg(design);
        c
    },
    simulate: |dir| Command::new(dir.join("obj_dir").join("tb")),
};

/// One Verilator build and run at a time (with `-j 1`): iverilog, the slowest test, keeps a
/// core of a two-core machine.
static VERILATOR_LOCK: Mutex<()> = Mutex::new(());

/// Simulates the session on the generated Verilog and checks every response byte and the pins
/// against the reference device.
fn verilog_vs_model(sim: &Simulator, config: &Config, epochs: u16) {
    let session = build_session(config, epochs);
    let steps = &session.steps;
    assert!(
        session.trained >= 300,
        "only {} training samples",
        session.trained
    );

    let dir = out_dir().join(format!("{}-{}", sim.name, config.name));
    std::fs::create_dir_all(&dir).unwrap();
    let (design, bench, stim, trace) = (
        dir.join("device.v"),
        dir.join("tb.v"),
        dir.join("stimulus.hex"),
        dir.join("trace.txt"),
    );
    let t0 = Instant::now();
    std::fs::write(&design, (config.verilog)(config)).unwrap();
    let words = stimulus(config, steps);
    std::fs::write(&stim, &words).unwrap();
    std::fs::write(
        &bench,
        testbench(config.clocks_per_bit, words.lines().count(), &stim, &trace),
    )
    .unwrap();
    let _ = std::fs::remove_file(&trace);
    run(&mut (sim.compile)(&dir, &bench, &design), sim.name);
    let t1 = Instant::now();
    run(&mut (sim.simulate)(&dir), sim.name);
    let sim_time = t1.elapsed();
    let trace = parse_trace(&std::fs::read_to_string(&trace).unwrap());
    let (end_cycle, end_idle, end_training, _) = trace.end.expect("the testbench did not finish");
    println!(
        "{} {}: {} steps, {} training samples, {end_cycle} cycles simulated in {:.2} s \
         ({:.0} cycles/s); generate + compile {:.1} s",
        sim.name,
        config.name,
        steps.len(),
        session.trained,
        sim_time.as_secs_f64(),
        end_cycle as f64 / sim_time.as_secs_f64(),
        (t1 - t0).as_secs_f64()
    );
    // txd, one level per cycle, decoded by the reference receiver.
    let mut line = Vec::with_capacity(end_cycle);
    let mut txd = true;
    let mut next = trace.changes.iter().peekable();
    for n in 1..=end_cycle {
        while let Some(&&(c, level, _, _)) = next.peek() {
            if c > n {
                break;
            }
            txd = level;
            next.next();
        }
        line.push(txd);
    }
    let events = LineDecoder::decode(config.clocks_per_bit, &line);
    assert!(
        events.iter().all(|(_, e)| matches!(e, RxEvent::Byte(_))),
        "frame errors on txd at cycles {:?}",
        events
            .iter()
            .filter(|(_, e)| *e == RxEvent::FrameError)
            .map(|&(n, _)| n + 1)
            .collect::<Vec<_>>()
    );

    // The bytes received after each marker belong to that step.
    assert_eq!(trace.marks.len(), steps.len(), "markers in the trace");
    let mut got = vec![Vec::new(); steps.len()];
    for &(n, e) in &events {
        let cycle = n + 1;
        let step = trace.marks.iter().rposition(|m| m.0 <= cycle);
        let RxEvent::Byte(b) = e else { unreachable!() };
        match step {
            Some(i) => got[i].push(b),
            None => panic!("byte {b:#04x} sent before the first request, at cycle {cycle}"),
        }
    }
    let all_got: Vec<u8> = got.concat();
    let all_expected: Vec<u8> = steps.iter().flat_map(|s| s.expected.clone()).collect();
    for (i, (step, got)) in steps.iter().zip(&got).enumerate() {
        if all_got == all_expected {
            assert!(
                *got == step.expected,
                "step {i} ({}): all bytes are right but some arrived after the next request \
                 was sent: a wait is too short",
                step.what
            );
        }
        assert!(
            *got == step.expected,
            "step {i} ({}): the Verilog device answered\n  {got:02x?}\n  = {}\n\
             the model device\n  {:02x?}\n  = {}",
            step.what,
            describe(got),
            step.expected,
            describe(&step.expected)
        );
    }

    // Pins. Every wait was long enough: each request found the device idle, except the one sent
    // during a job on purpose; `error` rises with the first ERROR or NAK and stays high.
    let first_error = steps
        .iter()
        .position(|s| {
            s.expected
                .split(|&b| b == 0)
                .filter(|f| !f.is_empty())
                .any(|f| {
                    let k = decode_packet(f).unwrap().kind;
                    k == kind::ERROR || k == kind::NAK
                })
        })
        .expect("the session sends an error");
    for &(n, i, idle, training, error) in &trace.marks {
        let during_job = steps[i].what == "busy during a job";
        assert_eq!(
            training, during_job,
            "training pin at step {i} ({}), cycle {n}: a wait was too short",
            steps[i].what
        );
        assert!(
            idle || during_job,
            "link_idle low at step {i} ({}), cycle {n}: a wait was too short",
            steps[i].what
        );
        assert_eq!(error, i > first_error, "error pin at step {i}, cycle {n}");
    }
    assert!(end_idle && !end_training, "not idle at the end");
    let jobs = steps
        .iter()
        .filter(|s| s.what.starts_with("train") || s.what.starts_with("evaluate"))
        .count();
    let rises = trace
        .changes
        .windows(2)
        .filter(|w| !w[0].2 && w[1].2)
        .count();
    assert_eq!(rises, jobs, "rising edges of the training pin");
}

#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn iverilog_device_answers_like_the_model_through_its_pins() {
    if common::require_tool("iverilog", "apt-get install iverilog") {
        verilog_vs_model(&IVERILOG, &SMALL, 1);
    }
}

/// Verilator is fast: the same session with twenty passes per job (6120 training samples).
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_device_answers_like_the_model_through_its_pins() {
    if common::require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &SMALL, 20);
    }
}

/// The address widths, shape and bit time of the iCEBreaker bitstream.
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_icebreaker_build_answers_like_the_model() {
    if common::require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &ICEBREAKER, 4);
    }
}

/// The address widths, shape, sample capacity and bit time of the ULX3S bitstream.
#[test]
#[cfg_attr(
    not(tool_verilator),
    ignore = "needs verilator (apt-get install verilator)"
)]
fn verilator_ulx3s_build_answers_like_the_model() {
    if common::require_tool("verilator", "apt-get install verilator") {
        let _one = VERILATOR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        verilog_vs_model(&VERILATOR, &ULX3S, 1);
    }
}
