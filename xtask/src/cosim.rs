//! Co-simulation of a Verilog view of the device (the generated RTL, or what yosys and nextpnr
//! made of it) driven only through its UART pins with a scripted session, compared byte for
//! byte with the reference device (`zo_sim::device::reference::Device` over the model) configured with the
//! same identity: identity, weights, samples, seven training jobs on the builds with mini-batch
//! accumulators and the exact output layer, four elsewhere (every estimator the build takes,
//! both losses, mini-batches with partial batches), two saturating runs, evaluations, inferences, BUSY and
//! the value check that comes before it (TRAIN count 0 during a job), a replay, a NAK, STOP
//! and RESET.
//!
//! The testbench is open loop: it plays a stimulus file (bytes to send as 8N1 on the receive
//! pin, idle gaps long enough for each answer and job, step markers) and records every change
//! of the output pins. [`received`] decodes the transmit pin with the reference receiver
//! (`zo_sim::harness::uart::LineDecoder`) and assigns the bytes to the steps by the markers;
//! [`compare`] checks them and the pins against the reference device and says where they
//! first differ ([`Mismatch`]), so that a mutation test can assert on it.
use anyhow::{bail, Context, Result};
use rust_hdl::prelude::*;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use zo_hdl::config::Shape;
use zo_hdl::device::ZoDevice;
use zo_hdl::engine::controller::ControllerInfo;
use zo_proto::{
    decode_packet, encode_frame, kind, Packet, Params, Request, Response, Sample, MAX_PAYLOAD,
    MAX_READ_COUNT, MAX_WRITE_COUNT,
};
use zo_sim::data::schedule::init_weights;
use zo_sim::device::reference::Device;
use zo_sim::harness::compare::difference;
use zo_sim::harness::fixtures::{random_samples, test_params};
use zo_sim::harness::uart::{LineDecoder, RxEvent};
use zo_sim::model::Model;

/// Slack added to every computed wait, in clock cycles.
const SLACK: u64 = 200;
/// Samples per pass of the training jobs (the sample buffer holds at least this many).
pub const PASS: u16 = 64;

/// The pins of a simulated top-level.
#[derive(Clone, Copy, Debug)]
pub struct Pins {
    pub clock: &'static str,
    pub rx: &'static str,
    pub tx: &'static str,
    /// High (or low when `active_low`) while a job runs.
    pub training: &'static str,
    pub active_low: bool,
    /// The error and link-idle pins, where the top-level has them.
    pub error: Option<&'static str>,
    pub link_idle: Option<&'static str>,
    /// One more output recorded in the trace (activity or a status LED), not compared.
    pub other: &'static str,
}

/// `zo_hdl::device::ZoDevice`'s pins.
pub const DEVICE_PINS: Pins = Pins {
    clock: "clock",
    rx: "rxd",
    tx: "txd",
    training: "training",
    active_low: false,
    error: Some("error"),
    link_idle: Some("link_idle"),
    other: "activity",
};

/// `zo_hdl::board::top::BoardTop`'s pins (the LEDs carry the board's polarity).
pub fn board_pins(board: &zo_hdl::board::top::Board) -> Pins {
    Pins {
        clock: "clk",
        rx: "rx",
        tx: "tx",
        training: "led_train",
        active_low: board.leds_active_low,
        error: None,
        link_idle: None,
        other: "led_status",
    }
}

/// What is simulated: the network, the identity it reports (which carries the sample buffer
/// size and whether it has mini-batch accumulators), the serial bit time and the pins.
#[derive(Clone, Debug)]
pub struct Dut {
    pub name: String,
    pub shape: Shape,
    pub info: ControllerInfo,
    pub clocks_per_bit: usize,
    pub pins: Pins,
}

impl Dut {
    /// Clock cycles of one byte on the wire (8N1).
    fn byte_cycles(&self) -> u64 {
        10 * self.clocks_per_bit as u64
    }

    /// Idle cycles after power-on: the engine zeroes the sample buffer (one byte per cycle)
    /// and runs RESET (clearing the learner's accumulators, one per weight) before it listens.
    fn boot_cycles(&self) -> u64 {
        let buffer = (self.info.sample_capacity as u64 + 1) * (self.shape.n_in as u64 + 1) + 1;
        4000 + buffer + 8 * self.shape.n_weights() as u64
    }
}

/// The Verilog of `ZoDevice<AW, SA>` (its top module is `top`, its pins [`DEVICE_PINS`]):
/// `2^AW` weights, `2^SA` bytes of sample buffer for `capacity + 1` records of `n_in + 1` bytes.
pub fn device_verilog<const AW: usize, const SA: usize>(c: &Dut) -> String {
    c.shape.check(AW).unwrap();
    let record = c.shape.n_in + 1;
    assert!(
        (c.info.sample_capacity as usize + 1) * record < 1 << SA,
        "SA too small"
    );
    let mut dev = ZoDevice::<AW, SA>::new(c.shape, &c.info, c.clocks_per_bit);
    dev.connect_all();
    generate_verilog(&dev)
}

/// When the session reads all weights back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightReads {
    /// After writing them and after every training job.
    EveryJob,
    /// After the last training job only; after the others the first block. For slow views
    /// (gate level), where reading 2410 weights at 1 Mbaud costs ~1.2 M cycles.
    LastJob,
}

/// One request of the session (or raw wire bytes), what the reference device answers, and
/// how long the testbench waits after sending it.
#[derive(Clone, Debug)]
pub struct Step {
    pub what: String,
    pub wire: Vec<u8>,
    pub expected: Vec<u8>,
    pub idle: u64,
}

/// The scripted session, executed on the reference device as it is built.
pub struct Session {
    pub dut: Dut,
    pub steps: Vec<Step>,
    /// Training samples the session runs.
    pub trained: u64,
    model: Device<Model>,
    seq: u8,
}

impl Session {
    fn new(dut: &Dut) -> Self {
        Self {
            dut: dut.clone(),
            model: Device::new(Model::new(dut.shape, 1), dut.info.clone()),
            steps: Vec::new(),
            seq: 0,
            trained: 0,
        }
    }

    fn wire(&mut self, wire: Vec<u8>, what: &str) -> Vec<u8> {
        let expected = self.model.receive(&wire);
        // Execution (at most an inference), the engine's preparation (measured: up to ~3.2
        // cycles per byte of request and response before it sends) and the answer on the wire.
        let c = &self.dut;
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

    /// READ_WEIGHTS of the first `n` weights in blocks of at most `MAX_READ_COUNT`.
    fn read_weights(&mut self, n: usize, what: &str) -> Vec<i16> {
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
        let per = ((MAX_PAYLOAD - 4) / (self.dut.shape.n_in + 1)).min(32);
        for (k, block) in data.chunks(per).enumerate() {
            let first = start as usize + k * per;
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
    /// `device_cycles`) plus the job engine's per sample.
    fn finish_job(&mut self, training: bool, batch: u16) {
        let shape = self.dut.shape;
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
            let per_sample = shape.train_cycles_of(self.model.backend().params.estimator);
            n * per_sample + applies * shape.apply_op_cycles()
        } else {
            n * shape.infer_cycles()
        };
        self.steps.last_mut().unwrap().idle += learner + JOB_CYCLES_PER_SAMPLE * n + SLACK;
    }
}

/// Job-engine cycles per sample besides the learner's: bookkeeping, label read and the status
/// file's 17-cycle sweep and the four states around it (24 leaves a few cycles of margin).
const JOB_CYCLES_PER_SAMPLE: u64 = 24;

fn weights_of(response: &[u8]) -> Vec<i16> {
    let packet = decode_packet(&response[..response.len() - 1]).unwrap();
    match Response::decode(packet.kind, &packet.payload).unwrap() {
        Response::Weights { values, .. } => values,
        other => panic!("expected weights, got {other:?}"),
    }
}

/// The session; every training job runs `epochs` passes of (up to) `PASS` samples (306
/// training samples with one pass). Samples are loaded into the first and the last `PASS`
/// slots; training uses the last ones, so the highest sample addresses are exercised.
pub fn build_session(dut: &Dut, epochs: u16, reads: WeightReads) -> Session {
    let (shape, capacity) = (dut.shape, dut.info.sample_capacity);
    assert!(capacity >= PASS);
    let n = shape.n_weights();
    let some = if reads == WeightReads::EveryJob {
        n
    } else {
        n.min(MAX_READ_COUNT as usize)
    };
    let mut s = Session::new(dut);
    s.request(&Request::Identify, "identify");
    s.request(&Request::Status, "status after power-on");
    let w0 = init_weights(shape, 3);
    s.write_weights(&w0, "write weights");
    assert_eq!(s.read_weights(some, "read weights back"), w0[..some]);
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
    // (estimator, loss, batch, samples per pass, momentum): 64 % 3 and 50 % 4 leave partial
    // batches that the end of each pass applies. The hybrid estimators (2, 3) and momentum run
    // where the build has them; elsewhere their SET_PARAMS is refused, and checked as such.
    let full = dut.info.batch_accumulators && dut.info.exact_output;
    let mut jobs = vec![
        (0u8, 1u8, 1u16, PASS, 0u8),
        (1, 0, 4, 50, 0),
        (0, 0, 3, PASS, 0),
        (1, 1, 1, PASS, 0),
    ];
    if full {
        jobs.extend([(2, 1, 1, PASS, 2), (2, 0, 3, 50, 1), (3, 1, 2, 50, 0)]);
    } else {
        let mut p = test_params(2, 1, 1, 39);
        p.momentum = 2;
        s.request(
            &Request::SetParams(p),
            "set params refused by a smaller build",
        );
        s.request(
            &Request::SetParams(test_params(3, 1, 1, 38)),
            "wp-hybrid refused by a smaller build",
        );
    }
    let mut previous = w0.clone();
    for (i, &(estimator, loss, batch, count, momentum)) in jobs.iter().enumerate() {
        let tag = format!(
            "job {i} (estimator {estimator}, loss {loss}, batch {batch}, momentum {momentum})"
        );
        let mut p = test_params(estimator, loss, batch, 40 + i as u32);
        p.momentum = momentum;
        s.request(&Request::SetParams(p), &format!("set params, {tag}"));
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
            // The packet's own checks come before BUSY (docs/PROTOCOL.md): BAD_VALUE 2.
            s.request(
                &Request::Train {
                    first: 0,
                    count: 0,
                    epochs: 1,
                },
                "value check before BUSY (TRAIN count 0) during a job",
            );
        }
        s.finish_job(true, batch);
        s.request(&Request::Status, &format!("status after training, {tag}"));
        let w = s.read_weights(some, &format!("weights after training, {tag}"));
        assert_ne!(w, previous[..some], "{tag} did not change the weights");
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
        let last = i == 1;
        let count = if last { n } else { some };
        s.read_weights(count, &format!("weights after training, {tag}"));
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

// Stimulus words: opcode in bits 31..24, argument below.
const OP_END: u32 = 0;
const OP_SEND: u32 = 1;
const OP_IDLE: u32 = 2;
const OP_MARK: u32 = 3;

fn stimulus(dut: &Dut, steps: &[Step]) -> String {
    let mut words = vec![OP_IDLE << 24 | dut.boot_cycles() as u32];
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

/// Clocks `top`, plays the stimulus (`+stimulus=FILE`, at most `words` words) and writes to
/// `+trace=FILE`, per negative clock edge `n` (1, 2, ...):
/// `C n tx training error other` whenever an output changed, `M n step link_idle training
/// error` at a step marker, `E n link_idle training error` at the end. `training` is the
/// pin's level with its polarity removed; missing pins read as idle and error-free.
fn testbench(dut: &Dut, words: usize) -> String {
    let p = &dut.pins;
    let mut ports = vec![
        format!(".{}(clock)", p.clock),
        format!(".{}(rxd)", p.rx),
        format!(".{}(txd)", p.tx),
        format!(".{}(training_pin)", p.training),
        format!(".{}(other)", p.other),
    ];
    if let Some(e) = p.error {
        ports.push(format!(".{e}(error_pin)"));
    }
    if let Some(l) = p.link_idle {
        ports.push(format!(".{l}(link_idle_pin)"));
    }
    format!(
        r#"`timescale 1ns/1ns
module tb;
  reg clock = 0;
  reg rxd = 1;
  wire txd, training_pin, other, error_pin, link_idle_pin;
  wire training = training_pin ^ 1'b{active_low};
  wire error = {error};
  wire link_idle = {link_idle};
  top dut({ports});
  reg [31:0] stim [0:{last}];
  reg [8*4096-1:0] stimulus_file, trace_file;
  reg [31:0] op;
  reg [9:0] frame;
  reg [3:0] seen;
  integer pc, b, fd, n;
  always #5 clock = ~clock;
  initial begin
    n = 0;
    seen = 4'bxxxx;
    if (!$value$plusargs("stimulus=%s", stimulus_file) || !$value$plusargs("trace=%s", trace_file)) begin
      $display("usage: +stimulus=FILE +trace=FILE");
      $finish;
    end
    fd = $fopen(trace_file, "w");
    $readmemh(stimulus_file, stim);
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
    if ({{txd, training, error, other}} !== seen) begin
      seen = {{txd, training, error, other}};
      $fwrite(fd, "C %0d %b %b %b %b\n", n, txd, training, error, other);
    end
  end
endmodule
"#,
        active_low = p.active_low as u8,
        error = if p.error.is_some() {
            "error_pin"
        } else {
            "1'b0"
        },
        link_idle = if p.link_idle.is_some() {
            "link_idle_pin"
        } else {
            "1'b1"
        },
        ports = ports.join(", "),
        last = words - 1,
        end = OP_END,
        send = OP_SEND,
        idle = OP_IDLE,
        mark = OP_MARK,
        cpb = dut.clocks_per_bit,
    )
}

/// A pin level in the trace; `x` or `z` is a failure of the view.
fn level(s: &str, what: &'static str, cycle: usize) -> Result<bool, Mismatch> {
    match s {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(Mismatch::Undefined { pin: what, cycle }),
    }
}

/// What the testbench recorded.
#[derive(Debug, Default, Clone)]
pub struct Trace {
    /// `(cycle, txd, training, error)` at each change of an output (and cycle 1).
    pub changes: Vec<(usize, bool, bool, bool)>,
    /// `(cycle, step, link_idle, training, error)`.
    pub marks: Vec<(usize, usize, bool, bool, bool)>,
    /// `(cycle, link_idle, training, error)` at the end.
    pub end: Option<(usize, bool, bool, bool)>,
}

fn parse_trace(text: &str) -> Result<Trace, Mismatch> {
    let mut t = Trace::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || Mismatch::Trace(line.to_string());
        let n: usize = f.get(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let at = |i: usize| f.get(i).copied().ok_or_else(bad);
        match f[0] {
            "C" => t.changes.push((
                n,
                level(at(2)?, "tx", n)?,
                level(at(3)?, "training", n)?,
                level(at(4)?, "error", n)?,
            )),
            "M" => t.marks.push((
                n,
                at(2)?.parse().map_err(|_| bad())?,
                level(at(3)?, "link_idle", n)?,
                level(at(4)?, "training", n)?,
                level(at(5)?, "error", n)?,
            )),
            "E" => {
                t.end = Some((
                    n,
                    level(at(2)?, "link_idle", n)?,
                    level(at(3)?, "training", n)?,
                    level(at(4)?, "error", n)?,
                ))
            }
            _ => return Err(bad()),
        }
    }
    Ok(t)
}

/// Where a view first disagreed with the reference device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// A step's answer differs (`detail` names the byte, and the weight when there is one).
    Answer {
        step: usize,
        what: String,
        detail: String,
        got: String,
        expected: String,
    },
    /// Every byte is right but some arrived after the next request was sent.
    Late { step: usize, what: String },
    /// A byte was sent before the first request.
    Unsolicited { byte: u8, cycle: usize },
    /// The transmit line broke the 8N1 framing.
    FrameErrors(Vec<usize>),
    /// A pin was wrong at a step marker (a wait too short, or the pin itself).
    Pin {
        step: usize,
        what: String,
        pin: &'static str,
        cycle: usize,
    },
    /// A pin was neither 0 nor 1.
    Undefined { pin: &'static str, cycle: usize },
    /// The testbench's trace is incomplete or malformed.
    Trace(String),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Answer {
                step,
                what,
                detail,
                got,
                expected,
            } => write!(
                f,
                "step {step} ({what}): {detail}\n  the simulated device answered {got}\n  \
                 the reference device {expected}"
            ),
            Mismatch::Late { step, what } => write!(
                f,
                "step {step} ({what}): all bytes are right but some arrived after the next \
                 request was sent: a wait is too short"
            ),
            Mismatch::Unsolicited { byte, cycle } => {
                write!(
                    f,
                    "byte {byte:#04x} sent before the first request, at cycle {cycle}"
                )
            }
            Mismatch::FrameErrors(c) => write!(f, "frame errors on tx at cycles {c:?}"),
            Mismatch::Pin {
                step,
                what,
                pin,
                cycle,
            } => write!(f, "{pin} pin wrong at step {step} ({what}), cycle {cycle}"),
            Mismatch::Undefined { pin, cycle } => {
                write!(f, "{pin} is neither 0 nor 1 at cycle {cycle}")
            }
            Mismatch::Trace(t) => write!(f, "bad trace: {t}"),
        }
    }
}

/// The responses in `bytes`, decoded for a failure message.
pub fn describe(bytes: &[u8]) -> String {
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

/// The bytes the device sent after each step marker, decoded from the transmit pin.
pub fn received(dut: &Dut, steps: &[Step], trace: &Trace) -> Result<Vec<Vec<u8>>, Mismatch> {
    let (end_cycle, ..) = trace
        .end
        .ok_or_else(|| Mismatch::Trace("the testbench did not finish".into()))?;
    // tx, one level per cycle, decoded by the reference receiver.
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
    let events = LineDecoder::decode(dut.clocks_per_bit, &line);
    let errors: Vec<usize> = events
        .iter()
        .filter(|(_, e)| *e == RxEvent::FrameError)
        .map(|&(n, _)| n + 1)
        .collect();
    if !errors.is_empty() {
        return Err(Mismatch::FrameErrors(errors));
    }
    if trace.marks.len() != steps.len() {
        return Err(Mismatch::Trace(format!(
            "{} step markers for {} steps",
            trace.marks.len(),
            steps.len()
        )));
    }
    let mut got = vec![Vec::new(); steps.len()];
    for &(n, e) in &events {
        let cycle = n + 1;
        let RxEvent::Byte(b) = e else { unreachable!() };
        match trace.marks.iter().rposition(|m| m.0 <= cycle) {
            Some(i) => got[i].push(b),
            None => return Err(Mismatch::Unsolicited { byte: b, cycle }),
        }
    }
    Ok(got)
}

/// Checks every step's answer (`got`, from [`received`]) and the pins against the reference
/// device; the first disagreement is returned.
pub fn compare(dut: &Dut, steps: &[Step], got: &[Vec<u8>], trace: &Trace) -> Result<(), Mismatch> {
    let all_got: Vec<u8> = got.concat();
    let all_expected: Vec<u8> = steps.iter().flat_map(|s| s.expected.clone()).collect();
    for (i, (step, got)) in steps.iter().zip(got).enumerate() {
        if let Some(d) = difference(got, &step.expected) {
            if all_got == all_expected {
                return Err(Mismatch::Late {
                    step: i,
                    what: step.what.clone(),
                });
            }
            return Err(Mismatch::Answer {
                step: i,
                what: step.what.clone(),
                detail: d.to_string(),
                got: format!("{got:02x?} = {}", describe(got)),
                expected: format!("{:02x?} = {}", step.expected, describe(&step.expected)),
            });
        }
    }

    // Pins. Every wait was long enough: each request found the device idle, except the two
    // sent during a job on purpose (named "... during a job"); `error` rises with the first ERROR or NAK and stays high.
    let first_error = steps
        .iter()
        .position(|s| {
            s.expected
                .split(|&b| b == 0)
                .filter(|f| !f.is_empty())
                .any(|f| {
                    let k = decode_packet(f).map_or(0, |p| p.kind);
                    k == kind::ERROR || k == kind::NAK
                })
        })
        .unwrap_or(steps.len());
    let pin = |i: usize, pin: &'static str, cycle: usize| Mismatch::Pin {
        step: i,
        what: steps[i].what.clone(),
        pin,
        cycle,
    };
    for &(n, i, idle, training, error) in &trace.marks {
        let during_job = steps[i].what.ends_with("during a job");
        if training != during_job {
            return Err(pin(i, dut.pins.training, n));
        }
        if !(idle || during_job) {
            return Err(pin(i, "link_idle", n));
        }
        if dut.pins.error.is_some() && error != (i > first_error) {
            return Err(pin(i, "error", n));
        }
    }
    let (end, end_idle, end_training, _) = trace.end.expect("checked by received");
    if !end_idle || end_training {
        return Err(Mismatch::Pin {
            step: steps.len(),
            what: "end of the session".into(),
            pin: dut.pins.training,
            cycle: end,
        });
    }
    let jobs = steps
        .iter()
        .filter(|s| s.what.starts_with("train") || s.what.starts_with("evaluate"))
        .count();
    let rises = trace
        .changes
        .windows(2)
        .filter(|w| !w[0].2 && w[1].2)
        .count();
    if rises != jobs {
        return Err(Mismatch::Trace(format!(
            "{rises} rising edges of the training pin for {jobs} jobs"
        )));
    }
    Ok(())
}

/// A simulator: how to compile the testbench with the design files, and how to run it.
pub struct Simulator {
    pub name: &'static str,
    compile: fn(dir: &Path, files: &[PathBuf], defines: &[&str]) -> Command,
    simulate: fn(dir: &Path) -> Command,
}

/// A testbench compiled with a design, ready to play sessions.
pub struct Bench<'s> {
    sim: &'s Simulator,
    dut: Dut,
    dir: PathBuf,
    words: usize,
    pub compile: Duration,
}

/// Stimulus words of a session: the testbench is sized for them.
pub fn stimulus_words(session: &Session) -> usize {
    stimulus(&session.dut, &session.steps).lines().count()
}

/// Compiles the testbench for `dut` with `design` (Verilog files whose top module is `top`)
/// in `dir`, for sessions of at most `words` stimulus words.
pub fn build<'s>(
    sim: &'s Simulator,
    dut: &Dut,
    design: &[PathBuf],
    defines: &[&str],
    dir: &Path,
    words: usize,
) -> Result<Bench<'s>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let t0 = Instant::now();
    let bench = dir.join("tb.v");
    std::fs::write(&bench, testbench(dut, words))?;
    let mut files = vec![bench];
    files.extend(design.iter().cloned());
    run(&mut (sim.compile)(dir, &files, defines), sim.name)?;
    Ok(Bench {
        sim,
        dut: dut.clone(),
        dir: dir.to_path_buf(),
        words,
        compile: t0.elapsed(),
    })
}

impl Bench<'_> {
    /// Plays `session` (files named after `name`), with extra `+plusargs` for the design.
    pub fn play(&self, session: &Session, name: &str, plusargs: &[&str]) -> Result<Run> {
        let words = stimulus(&self.dut, &session.steps);
        if words.lines().count() > self.words {
            bail!("the session is longer than the testbench was built for");
        }
        let (stim, trace) = (
            self.dir.join(format!("{name}.stimulus.hex")),
            self.dir.join(format!("{name}.trace.txt")),
        );
        std::fs::write(&stim, &words)?;
        let _ = std::fs::remove_file(&trace);
        let t = Instant::now();
        let mut cmd = (self.sim.simulate)(&self.dir);
        cmd.arg(format!("+stimulus={}", stim.display()))
            .arg(format!("+trace={}", trace.display()))
            .args(plusargs);
        run(&mut cmd, self.sim.name)?;
        let simulate = t.elapsed();
        let text = std::fs::read_to_string(&trace).context("the testbench wrote no trace")?;
        let trace = parse_trace(&text).map_err(|m| anyhow::anyhow!("{m}"))?;
        let cycles = trace.end.map_or(0, |e| e.0);
        Ok(Run {
            trace,
            cycles,
            compile: self.compile,
            simulate,
        })
    }
}

pub const IVERILOG: Simulator = Simulator {
    name: "iverilog",
    compile: |dir, files, defines| {
        let mut c = Command::new("iverilog");
        c.args(["-g2012", "-s", "tb", "-o"]).arg(dir.join("tb.vvp"));
        c.args(defines.iter().map(|d| format!("-D{d}")));
        c.args(files);
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
pub const VERILATOR: Simulator = Simulator {
    name: "verilator",
    compile: |dir, files, defines| {
        let mut c = Command::new("verilator");
        c.args(["--binary", "--timing", "-fno-const-bit-op-tree"])
            .args([
                "-Wno-fatal",
                "-Wno-lint",
                "-Wno-style",
                "--top-module",
                "tb",
            ])
            .args(defines.iter().map(|d| format!("-D{d}")))
            .args(["-j", "1", "-o", "tb", "--Mdir"])
            .arg(dir.join("obj_dir"))
            .args(files);
        c
    },
    simulate: |dir| Command::new(dir.join("obj_dir").join("tb")),
};

/// Longest a simulator or its compiler may run (env `ZO_SIM_TIMEOUT_S`, default 1800 s). A
/// zero-delay loop in the design stops an event-driven simulator's clock without ending the
/// process; this turns that hang into a failure that says so.
fn sim_timeout() -> Duration {
    let secs = std::env::var("ZO_SIM_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1800);
    Duration::from_secs(secs)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {what}"))?;
    // Drain both pipes on their own threads so a chatty tool never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut text);
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let limit = sim_timeout();
    let t = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{what} did not finish in {} s (ZO_SIM_TIMEOUT_S): if simulated time stopped, \
                 the design has a zero-delay loop (hdl/src/engine/mod.rs, wiring rule)",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    if !status.success() {
        bail!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
    }
    Ok(())
}

/// A finished simulation.
pub struct Run {
    pub trace: Trace,
    pub cycles: usize,
    pub compile: Duration,
    pub simulate: Duration,
}

impl Run {
    pub fn cycles_per_second(&self) -> f64 {
        self.cycles as f64 / self.simulate.as_secs_f64()
    }
}

/// Compiles the testbench with `design` (Verilog files whose top module is `top`) in `dir`
/// and plays `session` on it.
pub fn simulate(
    sim: &Simulator,
    session: &Session,
    design: &[PathBuf],
    defines: &[&str],
    dir: &Path,
) -> Result<Run> {
    build(
        sim,
        &session.dut,
        design,
        defines,
        dir,
        stimulus_words(session),
    )?
    .play(session, "session", &[])
}

/// Checks a finished run against the reference device: the first mismatch, or none.
pub fn check(session: &Session, run: &Run) -> Result<(), Mismatch> {
    let got = received(&session.dut, &session.steps, &run.trace)?;
    compare(&session.dut, &session.steps, &got, &run.trace)
}

/// Plays `session` on `design` and compares everything with the reference device; the
/// simulation's figures on success, the first mismatch as the error.
pub fn cosimulate(
    sim: &Simulator,
    session: &Session,
    design: &[PathBuf],
    defines: &[&str],
    dir: &Path,
) -> Result<Run> {
    let run = simulate(sim, session, design, defines, dir)?;
    check(session, &run).map_err(|m| anyhow::anyhow!("{m}"))?;
    Ok(run)
}

/// One line of figures for a finished run.
pub fn summary(sim: &Simulator, session: &Session, run: &Run) -> String {
    format!(
        "{} {}: {} steps, {} training samples, {} cycles simulated in {:.1} s ({:.0} cycles/s); \
         build {:.1} s",
        sim.name,
        session.dut.name,
        session.steps.len(),
        session.trained,
        run.cycles,
        run.simulate.as_secs_f64(),
        run.cycles_per_second(),
        run.compile.as_secs_f64()
    )
}
