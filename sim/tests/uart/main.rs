//! The 8N1 UART: the transmitter sends exactly the model waveform, the receiver decodes
//! exactly as the model decoder (same events on the same cycles), and both survive what a real
//! link does to them: back-to-back streams, baud error, glitches, noise and framing errors.
//! The generated Verilog of both blocks is tested in `verilog.rs`.

mod verilog;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::link::uart_rx::{mid_offset, UartRx, RX_LATENCY};
use zo_hdl::link::uart_tx::UartTx;
use zo_sim::harness::uart::{
    bit_time_tolerance, bits_waveform, bytes_of, frame, waveform, LineDecoder, RxEvent,
};

/// Clocks per bit under test: 12 MHz / 1 Mbaud, 48 MHz / 3 Mbaud, and the minimum.
const CPBS: [usize; 3] = [12, 16, 4];

// ---------------------------------------------------------------------------------------------
// Harnesses: the blocks stepped directly (clock high, settle, clock low, settle).
// ---------------------------------------------------------------------------------------------

struct Tx {
    uut: Box<UartTx>,
}

impl Tx {
    fn new(clocks_per_bit: usize) -> Self {
        let mut uut = Box::new(UartTx::new(clocks_per_bit));
        uut.connect_all();
        let mut tx = Self { uut };
        tx.settle();
        tx
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "UartTx");
    }

    /// Whether the next edge accepts `send`.
    fn ready(&self) -> bool {
        self.uut.ready.val()
    }

    fn txd(&self) -> bool {
        self.uut.txd.val()
    }

    /// One clock with these inputs seen at its rising edge; returns `txd` after it.
    fn tick(&mut self, send: bool, data: u8) -> bool {
        self.uut.send.next = send;
        self.uut.data.next = (data as u64).to_bits();
        self.settle();
        zo_sim::harness::testkit::high_then_low(&mut *self.uut, "UartTx", |u, c| {
            u.clock.next = c.into()
        });
        self.txd()
    }
}

struct Rx {
    uut: Box<UartRx>,
    /// Rising edges so far.
    edges: usize,
    /// Pulses seen, stamped with the line sample that decided them (edge - RX_LATENCY).
    events: Vec<(usize, RxEvent)>,
}

impl Rx {
    fn new(clocks_per_bit: usize) -> Self {
        let mut uut = Box::new(UartRx::new(clocks_per_bit));
        uut.connect_all();
        let mut rx = Self {
            uut,
            edges: 0,
            events: Vec::new(),
        };
        rx.settle();
        rx
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "UartRx");
    }

    fn busy(&self) -> bool {
        self.uut.busy.val()
    }

    fn data(&self) -> u8 {
        self.uut.data.val().index() as u8
    }

    /// One clock with pin level `rxd` seen at its rising edge (this is line sample
    /// `self.edges`); records the pulses visible after the edge.
    fn tick(&mut self, rxd: bool) {
        self.uut.rxd.next = rxd;
        self.settle();
        zo_sim::harness::testkit::high_then_low(&mut *self.uut, "UartRx", |u, c| {
            u.clock.next = c.into()
        });
        let (valid, error) = (self.uut.valid.val(), self.uut.frame_error.val());
        assert!(
            !(valid && error),
            "valid and frame_error together after edge {}",
            self.edges
        );
        if valid || error {
            let at = self
                .edges
                .checked_sub(RX_LATENCY)
                .expect("an output pulse before any sample could have reached the FSM");
            let e = if valid {
                RxEvent::Byte(self.data())
            } else {
                RxEvent::FrameError
            };
            self.events.push((at, e));
        }
        self.edges += 1;
    }
}

/// The receiver's events on `line` (from power-on), checked against the model decoder: same
/// events, same cycles, and `busy` in step with the model after every clock.
fn receive(clocks_per_bit: usize, line: &[bool], ctx: &str) -> Vec<(usize, RxEvent)> {
    let mut rx = Rx::new(clocks_per_bit);
    let mut model = LineDecoder::new(clocks_per_bit);
    let mut model_events = Vec::new();
    for (n, &level) in line.iter().enumerate() {
        rx.tick(level);
        // After edge n the FSM state reflects sample n - RX_LATENCY.
        if n >= RX_LATENCY {
            let s = n - RX_LATENCY;
            if let Some(e) = model.push(line[s]) {
                model_events.push((s, e));
            }
            assert_eq!(
                rx.busy(),
                model.busy(),
                "busy differs from the model after edge {n}: {ctx}"
            );
        }
    }
    // Flush the samples still inside the synchroniser.
    for _ in 0..RX_LATENCY {
        rx.tick(true);
    }
    for &level in &line[line.len().saturating_sub(RX_LATENCY)..] {
        let s = model.samples();
        if let Some(e) = model.push(level) {
            model_events.push((s, e));
        }
    }
    assert_eq!(
        rx.events, model_events,
        "receiver events (sample, event) differ from the model decoder: {ctx}"
    );
    rx.events
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen()).collect()
}

fn first_mismatch(a: &[bool], b: &[bool]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

// ---------------------------------------------------------------------------------------------
// Transmitter
// ---------------------------------------------------------------------------------------------

/// Each byte alone: txd equals the model waveform clock for clock, `ready` falls at the
/// accepting edge and rises exactly in the last clock of the stop bit, and `send` while not
/// ready (with other data) is ignored.
#[test]
fn tx_sends_the_model_waveform_for_every_byte() {
    for cpb in CPBS {
        let mut tx = Tx::new(cpb);
        assert!(
            tx.txd() && tx.ready(),
            "cpb {cpb}: idle high and ready at power-on"
        );
        for b in 0..=255u8 {
            let idle = 1 + b as usize % 4;
            let expected = waveform(&[b], cpb as f64, idle);
            let mut got = Vec::with_capacity(expected.len());
            for i in 0..expected.len() {
                let ready = tx.ready();
                let want_ready = i <= idle || i >= idle + 10 * cpb;
                assert_eq!(
                    ready, want_ready,
                    "cpb {cpb} byte {b:#04x}: ready before edge {i}"
                );
                let (send, data) = if i == idle {
                    (true, b)
                } else if !ready {
                    (true, !b) // must be ignored
                } else {
                    (false, 0)
                };
                got.push(tx.tick(send, data));
            }
            if let Some(i) = first_mismatch(&got, &expected) {
                panic!("cpb {cpb} byte {b:#04x}: txd differs from the model at clock {i}");
            }
        }
    }
}

/// 64 random bytes offered continuously (`send` held high): accepted one per frame, sent with
/// no gap at all (the whole line equals the back-to-back model waveform), and received intact.
#[test]
fn tx_back_to_back_stream_has_no_gaps_and_loops_back() {
    for cpb in CPBS {
        let bytes = random_bytes(64, cpb as u64);
        let mut tx = Tx::new(cpb);
        let mut next = 0;
        let mut accepted_at = Vec::new();
        let mut line = Vec::new();
        for edge in 0..(64 * 10 + 3) * cpb {
            let send = next < bytes.len();
            let accept = send && tx.ready();
            line.push(tx.tick(send, bytes.get(next).copied().unwrap_or(0)));
            if accept {
                accepted_at.push(edge);
                next += 1;
            }
        }
        let want_at: Vec<usize> = (0..64).map(|k| k * 10 * cpb).collect();
        assert_eq!(accepted_at, want_at, "cpb {cpb}: a byte every 10 bits");
        let expected = waveform(&bytes, cpb as f64, 3 * cpb);
        // The model has 3 bits of idle before the stream; the transmitter starts at once.
        let expected = &expected[3 * cpb..];
        if let Some(i) = first_mismatch(&line, expected) {
            panic!("cpb {cpb}: back-to-back txd differs from the model at clock {i}");
        }
        // The same line into the receiver (after some idle).
        let mut rx_line = vec![true; 5];
        rx_line.extend(&line);
        let ev = receive(cpb, &rx_line, &format!("back-to-back cpb {cpb}"));
        assert_eq!(bytes_of(&ev), Ok(bytes), "cpb {cpb}: bytes received");
    }
}

/// TX pin wired to RX pin: all 256 byte values, in random order with random idle gaps
/// (including none), arrive intact, once each, in order.
#[test]
fn tx_to_rx_loopback_of_all_byte_values() {
    for cpb in CPBS {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + cpb as u64);
        let mut bytes: Vec<u8> = (0..=255).collect();
        for i in (1..bytes.len()).rev() {
            bytes.swap(i, rng.gen_range(0..=i));
        }
        let mut tx = Tx::new(cpb);
        let mut rx = Rx::new(cpb);
        let mut next = 0;
        let mut wait = 0;
        let mut quiet = 0;
        // 256 frames with average gaps of 0.75 bit: well under 13 bits a byte.
        let limit = 256 * 13 * cpb;
        while quiet < 12 * cpb {
            assert!(rx.edges < limit, "cpb {cpb}: loopback never went quiet");
            let pin = tx.txd();
            let send = next < bytes.len() && tx.ready() && wait == 0;
            if tx.ready() && wait > 0 {
                wait -= 1;
            }
            tx.tick(send, bytes.get(next).copied().unwrap_or(0));
            rx.tick(pin);
            if send {
                next += 1;
                wait = if rng.gen_bool(0.5) {
                    0
                } else {
                    rng.gen_range(1..3 * cpb)
                };
            }
            quiet = if next == bytes.len() && tx.ready() && !rx.busy() {
                quiet + 1
            } else {
                0
            };
        }
        assert_eq!(next, 256);
        assert_eq!(bytes_of(&rx.events), Ok(bytes), "cpb {cpb}: loopback bytes");
    }
}

// ---------------------------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------------------------

/// A random 200-byte back-to-back stream from a transmitter whose baud rate is off by
/// -3 %, -1.5 %, 0, +1.5 %, +3 % arrives intact. At the minimum of 4 clocks per bit the
/// documented tolerance is about ±2.5 %, so there only ±1.5 % is required.
#[test]
fn rx_tolerates_baud_error() {
    for cpb in CPBS {
        let errors: &[f64] = if cpb >= 12 {
            &[-0.03, -0.015, 0.0, 0.015, 0.03]
        } else {
            &[-0.015, 0.0, 0.015]
        };
        let bytes = random_bytes(200, 7 + cpb as u64);
        for &err in errors {
            // A faster transmitter has shorter bits.
            let t = cpb as f64 / (1.0 + err);
            let line = waveform(&bytes, t, 2 * cpb);
            let ctx = format!("cpb {cpb}, baud error {:+.1} %", err * 100.0);
            let ev = receive(cpb, &line, &ctx);
            assert_eq!(bytes_of(&ev), Ok(bytes.clone()), "{ctx}");
        }
    }
}

/// The model decoder (the receiver's executable specification, equal to it cycle for cycle
/// by the other tests) decodes every back-to-back stream whose bit time lies inside the
/// documented tolerance, at every edge phase, and fails just outside it on either side: the
/// tolerance in `UartRx`'s doc comment is exact.
#[test]
fn documented_baud_tolerance_is_exact() {
    let phases = [0.0, 0.001, 0.25, 0.5, 0.75, 0.999];
    for cpb in [4, 5, 12, 13, 16] {
        let (lo, hi) = bit_time_tolerance(cpb);
        let c = cpb as f64;
        // Starts with 0x00 so that bit 8 differs from the stop bit.
        let mut bytes = random_bytes(100, cpb as u64);
        bytes[0] = 0;
        let bits: Vec<bool> = bytes.iter().flat_map(|&b| frame(b)).collect();
        let ok = |d: f64, phase: f64| {
            let line = bits_waveform(&bits, c * (1.0 + d), phase, 2 * cpb);
            bytes_of(&LineDecoder::decode(cpb, &line)) == Ok(bytes.clone())
        };
        for i in 0..=10 {
            let d = 0.999 * (lo + (hi - lo) * i as f64 / 10.0);
            for p in phases {
                assert!(
                    ok(d, p),
                    "cpb {cpb}: bit time {:+.3} %, phase {p} fails",
                    d * 100.0
                );
            }
        }
        let too_fast = lo - 0.25 / (10.0 * c);
        let too_slow = hi + 0.25 / (9.0 * c);
        assert!(
            phases.iter().any(|&p| !ok(too_fast, p)),
            "cpb {cpb}: still decodes at {:+.3} %: the fast limit is not tight",
            too_fast * 100.0
        );
        assert!(
            phases.iter().any(|&p| !ok(too_slow, p)),
            "cpb {cpb}: still decodes at {:+.3} %: the slow limit is not tight",
            too_slow * 100.0
        );
        if cpb >= 12 {
            // Baud +3 % shortens the bit to 1 / 1.03, -3 % lengthens it to 1 / 0.97.
            assert!(
                lo < 1.0 / 1.03 - 1.0 && hi > 1.0 / 0.97 - 1.0,
                "cpb {cpb}: ±3 % baud"
            );
        }
    }
}

/// Low pulses on the idle line shorter than a third of a bit (and up to the documented
/// `m` clocks) give no byte and no error, and the byte that follows one bit later is
/// received; a pulse of `m + 1` clocks is (as documented) a start bit.
#[test]
fn rx_ignores_idle_line_glitches() {
    for cpb in CPBS {
        let m = mid_offset(cpb);
        assert!(
            (1..cpb).filter(|g| 3 * g < cpb).all(|g| g <= m),
            "cpb {cpb}: m covers every pulse shorter than a third of a bit"
        );
        for g in 1..=m {
            let mut line = vec![true; 2 * cpb];
            line.resize(line.len() + g, false);
            line.resize(line.len() + cpb - g, true);
            line.extend(waveform(&[0x5a], cpb as f64, cpb));
            let ev = receive(cpb, &line, &format!("cpb {cpb}, glitch of {g}"));
            assert_eq!(
                bytes_of(&ev),
                Ok(vec![0x5a]),
                "cpb {cpb}: glitch of {g} clocks"
            );
        }
        let mut line = vec![true; 2 * cpb];
        line.resize(line.len() + m + 1, false);
        line.resize(line.len() + 11 * cpb, true);
        let ev = receive(cpb, &line, &format!("cpb {cpb}, pulse of m + 1"));
        assert_eq!(bytes_of(&ev), Ok(vec![0xff]), "cpb {cpb}: pulse of m + 1");
    }
}

/// One sample of every bit's three-sample window inverted (a spike at mid-bit): the majority
/// vote still recovers every byte of a back-to-back stream.
#[test]
fn rx_majority_vote_outvotes_single_sample_spikes() {
    for cpb in CPBS {
        let m = mid_offset(cpb);
        let idle = 2 * cpb;
        let bytes = random_bytes(100, 50 + cpb as u64);
        let mut line = waveform(&bytes, cpb as f64, idle);
        let mut rng = ChaCha8Rng::seed_from_u64(cpb as u64);
        for bit in 0..10 * bytes.len() {
            let at = idle + bit * cpb + m + rng.gen_range(0..3) - 1;
            line[at] = !line[at];
        }
        let ev = receive(cpb, &line, &format!("spikes, cpb {cpb}"));
        assert_eq!(bytes_of(&ev), Ok(bytes), "cpb {cpb}: spiked stream");
    }
}

/// A byte with a low stop bit (followed by a break) gives exactly one one-cycle
/// `frame_error`, no `valid`, leaves `data` at the previous byte; after the line idles for a
/// bit the next byte is received. The break after the bad frame must not start frames.
#[test]
fn rx_frame_error_then_recovery() {
    for cpb in CPBS {
        let mut bad = frame(0x3c);
        bad[9] = false;
        let mut line = waveform(&[0xa7], cpb as f64, 2 * cpb);
        let bad_at = line.len();
        line.extend(bits_waveform(&bad, cpb as f64, 0.0, 0));
        // Break: the line stays low for 1.5 more bits, then idles for 1.5 bits.
        line.resize(line.len() + 3 * cpb / 2, false);
        line.resize(line.len() + 3 * cpb / 2, true);
        line.extend(waveform(&[0x96], cpb as f64, 2 * cpb));
        let ctx = format!("frame error, cpb {cpb}");
        let ev = receive(cpb, &line, &ctx);
        let kinds: Vec<RxEvent> = ev.iter().map(|&(_, e)| e).collect();
        assert_eq!(
            kinds,
            vec![
                RxEvent::Byte(0xa7),
                RxEvent::FrameError,
                RxEvent::Byte(0x96)
            ],
            "{ctx}"
        );
        // The error is reported at the bad frame's stop-bit vote.
        assert_eq!(ev[1].0, bad_at + 9 * cpb + mid_offset(cpb) + 1, "{ctx}");
        // `data` keeps the last good byte through the error.
        let mut rx = Rx::new(cpb);
        for &level in &line[..ev[1].0 + RX_LATENCY + 1] {
            rx.tick(level);
        }
        assert_eq!(rx.events.len(), 2, "{ctx}");
        assert_eq!(rx.data(), 0xa7, "{ctx}: data after the frame error");
    }
}

/// Cycle-for-cycle equality with the model decoder on random lines: random run lengths
/// (glitches, breaks, partial frames, short idles after errors) and random frames with
/// random bit times; exercises every path of the FSM, recovery included.
#[test]
fn rx_matches_model_decoder_on_random_lines() {
    for cpb in CPBS {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + cpb as u64);
        let mut line = vec![true; cpb];
        while line.len() < 40_000 {
            if rng.gen_bool(0.5) {
                let n = rng.gen_range(1..3 * cpb);
                let level = !line[line.len() - 1];
                line.resize(line.len() + n, level);
            } else {
                let mut f = frame(rng.gen());
                f[9] = rng.gen_bool(0.8);
                let t = cpb as f64 * rng.gen_range(0.9..1.1);
                line.extend(bits_waveform(&f, t, 0.0, rng.gen_range(0..cpb)));
            }
        }
        let ev = receive(cpb, &line, &format!("random line, cpb {cpb}"));
        let errors = ev.iter().filter(|e| e.1 == RxEvent::FrameError).count();
        assert!(
            errors > 10 && ev.len() - errors > 10,
            "cpb {cpb}: the random line should give bytes and errors ({} events, {errors} errors)",
            ev.len()
        );
    }
}
