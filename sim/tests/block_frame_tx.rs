//! `zo_hdl::link::frame_tx::FrameTx` driven directly through its ports, against
//! `zo_proto::encode_frame` / `zo_proto::frame_raw`.
//!
//! The packet is written into the block's buffer through `we` / `waddr` / `wdata`, `start`
//! sends it, and the bytes handed over on `tx_send` (with `tx_ready` random or always high)
//! must be exactly `frame_raw(buffer[0..len])`, which for a packet is `encode_frame`. The
//! three NAK frames (`nak_start`) must be `encode_frame(Response::Nak(reason).to_packet(0))`
//! and must leave the stored packet intact (a later `start` replays it). The handshake of the
//! contract is checked on every cycle: `tx_send` only while `tx_ready` is high, never in two
//! consecutive cycles, `busy` high from the cycle after `start` until the delimiter has gone.
//!
//! Inputs: the packets of the test vectors of `docs/PROTOCOL.md` section 2 and of its example
//! exchanges (section 4.4), and seeded random
//! packets and raw byte strings of 6..=518 bytes (zeros, runs of 254 and more non-zero bytes,
//! maximum-length payloads). A negative control shows that the comparison catches a single
//! flipped bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::link::frame_tx::FrameTx;
use zo_proto::examples::VECTORS;
use zo_proto::{encode_frame, frame_raw, packet_bytes, NakReason, Packet, Response, MAX_PAYLOAD};

fn hex(s: &str) -> Vec<u8> {
    zo_proto::examples::hex(s).expect("hex bytes")
}

/// The inputs of one clock.
#[derive(Clone, Copy, Default)]
struct In {
    we: bool,
    waddr: u16,
    wdata: u8,
    start: bool,
    len: u16,
    nak_start: bool,
    nak_reason: u8,
    tx_ready: bool,
}

/// The block, stepped directly: inputs applied with the clock low and settled (the
/// combinational `tx_send` / `tx_data` read there, as a UART would see them at the edge), then
/// the rising edge.
struct Harness {
    uut: Box<FrameTx>,
    cycles: u64,
    last_send: bool,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::new(FrameTx::default());
        uut.connect_all();
        let mut h = Self {
            uut,
            cycles: 0,
            last_send: false,
        };
        h.settle();
        h
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "FrameTx");
    }

    /// One clock; returns the byte handed over at its edge, if any, and `busy` after it.
    fn tick(&mut self, i: In) -> Result<(Option<u8>, bool), String> {
        let set_clock = |u: &mut FrameTx, c: bool| u.clock.next = c.into();
        let u = &mut self.uut;
        u.we.next = i.we;
        u.waddr.next = (i.waddr as u64).to_bits();
        u.wdata.next = (i.wdata as u64).to_bits();
        u.start.next = i.start;
        u.len.next = (i.len as u64).to_bits();
        u.nak_start.next = i.nak_start;
        u.nak_reason.next = (i.nak_reason as u64).to_bits();
        u.tx_ready.next = i.tx_ready;
        zo_sim::harness::testkit::clock_to(&mut *self.uut, "FrameTx", set_clock, false);
        let send = self.uut.tx_send.val();
        let data = self.uut.tx_data.val().index() as u8;
        let busy_before = self.uut.busy.val();
        if send && !i.tx_ready {
            return Err(format!(
                "cycle {}: tx_send while tx_ready is low",
                self.cycles
            ));
        }
        if send && self.last_send {
            return Err(format!(
                "cycle {}: tx_send in two consecutive cycles",
                self.cycles
            ));
        }
        if send && !busy_before {
            return Err(format!("cycle {}: tx_send while not busy", self.cycles));
        }
        self.last_send = send;
        zo_sim::harness::testkit::clock_to(&mut *self.uut, "FrameTx", set_clock, true);
        self.cycles += 1;
        Ok((send.then_some(data), self.uut.busy.val()))
    }

    /// Writes `bytes` at buffer addresses 0.. (while idle).
    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        for (a, &b) in bytes.iter().enumerate() {
            let (sent, busy) = self.tick(In {
                we: true,
                waddr: a as u16,
                wdata: b,
                ..In::default()
            })?;
            if sent.is_some() || busy {
                return Err("activity while writing the buffer".into());
            }
        }
        Ok(())
    }

    /// Starts a transmission (a packet of `len` when `nak` is `None`) and collects the bytes
    /// handed over until `busy` falls, with `tx_ready` high with probability `ready_p`.
    fn send(
        &mut self,
        len: usize,
        nak: Option<u8>,
        rng: &mut ChaCha8Rng,
        ready_p: f64,
    ) -> Result<Vec<u8>, String> {
        let (sent, busy) = self.tick(In {
            start: nak.is_none(),
            len: len as u16,
            nak_start: nak.is_some(),
            nak_reason: nak.unwrap_or(0),
            tx_ready: rng.gen_bool(ready_p),
            ..In::default()
        })?;
        if sent.is_some() {
            return Err("a byte sent at the start edge".into());
        }
        if !busy {
            return Err("busy low in the cycle after start".into());
        }
        let mut out = Vec::new();
        let limit = 40 * (len + 8) + 200;
        for _ in 0..limit {
            let (sent, busy) = self.tick(In {
                tx_ready: rng.gen_bool(ready_p),
                // Noise on the start lines while busy: must be ignored.
                start: rng.gen_bool(0.05),
                len: rng.gen_range(6..=518),
                nak_start: rng.gen_bool(0.05),
                nak_reason: rng.gen_range(1..=3),
                ..In::default()
            })?;
            if let Some(b) = sent {
                out.push(b);
                if b == 0 && busy {
                    return Err("busy still high after the delimiter was handed over".into());
                }
            }
            if !busy {
                if out.last() != Some(&0) {
                    return Err(format!(
                        "busy fell after {} bytes, before a delimiter",
                        out.len()
                    ));
                }
                return Ok(out);
            }
        }
        Err(format!(
            "still busy after {limit} cycles ({} bytes sent)",
            out.len()
        ))
    }
}

/// The comparison every check goes through: the bytes handed over against the reference frame.
fn compare(block: &[u8], want: &[u8]) -> Result<(), String> {
    if block == want {
        return Ok(());
    }
    let at = block
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(block.len().min(want.len()));
    Err(format!(
        "sent {} bytes, want {}; first difference at {at}: {:02x?} vs {:02x?}",
        block.len(),
        want.len(),
        block.get(at),
        want.get(at)
    ))
}

/// Writes, sends and compares one raw packet (6..=518 bytes).
fn check_raw(
    h: &mut Harness,
    rng: &mut ChaCha8Rng,
    raw: &[u8],
    ready_p: f64,
) -> Result<Vec<u8>, String> {
    h.write(raw)?;
    let sent = h.send(raw.len(), None, rng, ready_p)?;
    compare(&sent, &frame_raw(raw))?;
    Ok(sent)
}

fn nak_frame(reason: NakReason) -> Vec<u8> {
    encode_frame(&Response::Nak(reason).to_packet(0))
}

/// Random raw bytes of 6..=518: zeros at various densities, long non-zero runs.
fn random_raw(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = match rng.gen_range(0..8) {
        0 => MAX_PAYLOAD + 6,
        1 => rng.gen_range(250..=MAX_PAYLOAD + 6),
        2 => [253, 254, 255, 256, 259, 260, 261, 507, 508, 509, 510][rng.gen_range(0..11)],
        _ => rng.gen_range(6..40),
    };
    let zero_p = [0.0, 0.0, 0.01, 0.1, 0.5, 1.0][rng.gen_range(0..6)];
    (0..len)
        .map(|_| {
            if rng.gen_bool(zero_p) {
                0
            } else {
                rng.gen_range(1..=255)
            }
        })
        .collect()
}

/// A random packet (maximum payloads included).
fn random_packet(rng: &mut ChaCha8Rng) -> Packet {
    let len = match rng.gen_range(0..5) {
        0 => MAX_PAYLOAD,
        1 => rng.gen_range(240..=MAX_PAYLOAD),
        _ => rng.gen_range(0..32),
    };
    let nonzero = rng.gen_bool(0.5);
    let payload = (0..len)
        .map(|_| {
            if nonzero {
                rng.gen_range(1..=255)
            } else {
                rng.gen()
            }
        })
        .collect();
    Packet {
        kind: rng.gen(),
        seq: rng.gen(),
        payload,
    }
}

#[test]
fn vectors() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (_, packet, wire) in VECTORS {
        let packet = hex(packet);
        let wire = hex(wire);
        let sent = check_raw(&mut h, &mut rng, &packet, 1.0).unwrap_or_else(|e| panic!("{e}"));
        compare(&sent, &wire).unwrap_or_else(|e| panic!("vector {wire:02x?}: {e}"));
        let sent = check_raw(&mut h, &mut rng, &packet, 0.5).unwrap_or_else(|e| panic!("{e}"));
        compare(&sent, &wire).unwrap_or_else(|e| panic!("vector {wire:02x?}, slow: {e}"));
    }
    // The document's example packets of 6 bytes or more (the block's `len` range).
    let examples: Vec<Vec<u8>> = doc_packets().into_iter().filter(|p| p.len() >= 6).collect();
    assert!(examples.len() >= 40);
    for packet in examples {
        check_raw(&mut h, &mut rng, &packet, 0.7).unwrap_or_else(|e| panic!("{packet:02x?}: {e}"));
    }
}

/// Every packet of `docs/PROTOCOL.md`: the test vectors of section 2 and the example
/// exchanges of section 4.4 (some of them bad packets on purpose).
fn doc_packets() -> Vec<Vec<u8>> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"))
}

#[test]
fn random_packets_against_encode_frame() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x7E);
    for n in 0..150 {
        let p = random_packet(&mut rng);
        let raw = packet_bytes(&p).unwrap();
        h.write(&raw).unwrap();
        let ready_p = [1.0, 0.7, 0.2][n % 3];
        let sent = h.send(raw.len(), None, &mut rng, ready_p).unwrap();
        compare(&sent, &encode_frame(&p))
            .unwrap_or_else(|e| panic!("packet {n} ({} payload bytes): {e}", p.payload.len()));
    }
    println!("{} cycles", h.cycles);
}

#[test]
fn random_raw_strings_against_frame_raw() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x7E7E);
    let mut runs_254 = 0;
    for n in 0..250 {
        let raw = random_raw(&mut rng);
        runs_254 += raw.split(|&b| b == 0).filter(|r| r.len() >= 254).count();
        let ready_p = [1.0, 0.6][n % 2];
        check_raw(&mut h, &mut rng, &raw, ready_p)
            .unwrap_or_else(|e| panic!("string {n} ({} bytes): {e}", raw.len()));
    }
    assert!(
        runs_254 >= 20,
        "only {runs_254} runs of >= 254 non-zero bytes"
    );
    println!("{} cycles", h.cycles);
}

/// The NAK frames come from the ROM and leave the stored packet alone: the packet sent
/// before a NAK is sent again, byte for byte, by a `start` after it.
#[test]
fn nak_frames_keep_the_stored_packet() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x4E);
    let reasons = [NakReason::Crc, NakReason::Cobs, NakReason::Length];
    for n in 0..40 {
        let p = random_packet(&mut rng);
        let want = encode_frame(&p);
        let raw = packet_bytes(&p).unwrap();
        h.write(&raw).unwrap();
        compare(&h.send(raw.len(), None, &mut rng, 0.8).unwrap(), &want).unwrap();
        for _ in 0..rng.gen_range(1..3) {
            let reason = reasons[rng.gen_range(0..3)];
            let sent = h.send(0, Some(reason as u8), &mut rng, 0.8).unwrap();
            compare(&sent, &nak_frame(reason))
                .unwrap_or_else(|e| panic!("round {n}: NAK {reason:?}: {e}"));
        }
        compare(&h.send(raw.len(), None, &mut rng, 0.8).unwrap(), &want)
            .unwrap_or_else(|e| panic!("round {n}: replay after NAK: {e}"));
    }
    // The documented NAK vector.
    assert_eq!(nak_frame(NakReason::Crc), hex("02 7e 02 01 04 01 e4 33 00"));
}

/// Negative control: one flipped bit in one byte handed over (or in the expected frame) is
/// reported as a mismatch; so is a single bit flipped in the packet written to the buffer.
#[test]
fn negative_control_single_bit_flips_are_caught() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let p = random_packet(&mut rng);
    let raw = packet_bytes(&p).unwrap();
    let want = encode_frame(&p);
    let sent = check_raw(&mut h, &mut rng, &raw, 1.0).expect("the unflipped frame matches");
    for _ in 0..20 {
        let i = rng.gen_range(0..sent.len());
        let bit = 1 << rng.gen_range(0..8);
        let mut flipped = sent.clone();
        flipped[i] ^= bit;
        assert!(compare(&flipped, &want).is_err(), "flipped sent byte {i}");
        let mut flipped = want.clone();
        flipped[i] ^= bit;
        assert!(
            compare(&sent, &flipped).is_err(),
            "flipped expected byte {i}"
        );
    }
    for _ in 0..5 {
        let mut written = raw.clone();
        let i = rng.gen_range(0..written.len());
        written[i] ^= 1 << rng.gen_range(0..8);
        h.write(&written).unwrap();
        let sent = h.send(written.len(), None, &mut rng, 1.0).unwrap();
        assert!(compare(&sent, &want).is_err(), "flipped buffer byte {i}");
    }
}
