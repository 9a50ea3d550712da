//! `zo_hdl::link::frame_rx::FrameRx` driven directly through its ports, against the streaming
//! receiver `zo_proto::FrameDecoder` (and so `zo_proto::decode_packet`).
//!
//! A byte stream of frames is fed to the block and to `FrameDecoder` side by side. Every
//! result of `FrameDecoder` must appear as exactly one `done` pulse of the block, in order and
//! a few cycles after the byte that completed it (the `0x00`, or the 524th byte of an
//! over-long run); the block must give nothing else (empty frames give nothing). Compared per
//! frame:
//! - a good packet: `good`, the header fields `kind` / `seq` / `len`, the captured payload
//!   bytes `p0..p14` (those that exist), and the buffer read back through `raddr` / `rdata`
//!   against `zo_proto::packet_bytes` of the decoded packet;
//! - a bad packet: `nak` with `nak_reason` equal to `FrameError::nak_reason` of
//!   `FrameDecoder`'s error (bad CRC, COBS errors, short, length mismatch, too long,
//!   overflow).
//!
//! Inputs: the test vectors of `docs/PROTOCOL.md` section 2, the packets of its example
//! exchanges (section 4.4, good and bad), and seeded
//! random streams of good packets (maximum payloads, zeros, long runs), bad CRCs, truncated
//! packets and encodings, wrong `len` fields, `len` > 512 with a matching payload, corrupted
//! COBS, over-long runs, empty frames and garbage, with random idle cycles or back to back.
//! Frames that start while `accept` is low must vanish without touching the buffer or the
//! fields. A negative control shows that the comparison catches a single flipped bit.
//!
//! Over 600 lines for a reason: the harness, the stream checker, the stimulus generators and
//! the three documented findings (ignored tests) share one checker and are read together.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::link::frame_rx::FrameRx;
use zo_proto::examples::VECTORS;
use zo_proto::{
    crc16, frame_raw, packet_bytes, FrameDecoder, FrameError, Packet, COBS_MAX, MAX_PAYLOAD,
};

/// Payload bytes the block captures into `p0..p14` (the engine's SET_PARAMS has 15).
const CAPTURED: usize = 15;

/// The `done` latency allowed by the contract ("about two cycles"), in rising edges after the
/// edge of the byte that completed the frame.
const MAX_LATENCY: u64 = 3;

fn hex(s: &str) -> Vec<u8> {
    zo_proto::examples::hex(s).expect("hex bytes")
}

/// The block's verdict on one frame, as seen in the cycle of its `done` pulse.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Good {
        kind: u8,
        seq: u8,
        len: u16,
        p: [u8; CAPTURED],
    },
    Nak(u8),
}

/// The block, stepped directly: inputs applied with the clock low and settled, then the
/// rising edge; outputs read after the edge.
struct Harness {
    uut: Box<FrameRx>,
    edges: u64,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::new(FrameRx::default());
        uut.connect_all();
        let mut h = Self { uut, edges: 0 };
        h.settle();
        h
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "FrameRx");
    }

    /// One clock; returns the verdict when `done` pulsed after the edge.
    fn tick(&mut self, valid: bool, data: u8, accept: bool, raddr: u16) -> Option<Verdict> {
        let u = &mut self.uut;
        u.in_valid.next = valid;
        u.in_data.next = (data as u64).to_bits();
        u.accept.next = accept;
        u.raddr.next = (raddr as u64).to_bits();
        zo_sim::harness::testkit::rising_edge(&mut *self.uut, "FrameRx", |u, c| {
            u.clock.next = c.into()
        });
        self.edges += 1;
        let u = &self.uut;
        if !u.done.val() {
            assert!(!u.good.val() && !u.nak.val(), "good or nak without done");
            return None;
        }
        assert!(
            u.good.val() != u.nak.val(),
            "done with good {}",
            u.good.val()
        );
        Some(if u.good.val() {
            self.fields()
        } else {
            Verdict::Nak(u.nak_reason.val().index() as u8)
        })
    }

    /// The captured fields, as a good verdict.
    fn fields(&self) -> Verdict {
        let u = &self.uut;
        let b = |s: &Signal<Out, Bits<8>>| s.val().index() as u8;
        Verdict::Good {
            kind: b(&u.kind),
            seq: b(&u.seq),
            len: u.len.val().index() as u16,
            p: [
                b(&u.p0),
                b(&u.p1),
                b(&u.p2),
                b(&u.p3),
                b(&u.p4),
                b(&u.p5),
                b(&u.p6),
                b(&u.p7),
                b(&u.p8),
                b(&u.p9),
                b(&u.p10),
                b(&u.p11),
                b(&u.p12),
                b(&u.p13),
                b(&u.p14),
            ],
        }
    }

    /// Reads buffer bytes `0..n` (one cycle of latency), with the input idle.
    fn read_buffer(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|a| {
                assert!(
                    self.tick(false, 0, true, a as u16).is_none(),
                    "done while reading"
                );
                self.uut.rdata.val().index() as u8
            })
            .collect()
    }
}

/// What `FrameDecoder` says about one frame.
type Expected = Result<Packet, FrameError>;

/// The comparison every check goes through: the block's verdict against `zo_proto`'s.
fn compare(block: &Verdict, want: &Expected) -> Result<(), String> {
    match (block, want) {
        (Verdict::Nak(r), Err(e)) if *r == e.nak_reason() as u8 => Ok(()),
        (Verdict::Nak(r), Err(e)) => Err(format!("NAK reason {r}, zo_proto says {e:?}")),
        (Verdict::Nak(r), Ok(_)) => Err(format!("NAK reason {r} for a good packet")),
        (Verdict::Good { .. }, Err(e)) => Err(format!("good, zo_proto says {e:?}")),
        (Verdict::Good { kind, seq, len, p }, Ok(pk)) => {
            let n = pk.payload.len().min(CAPTURED);
            if *kind != pk.kind
                || *seq != pk.seq
                || *len as usize != pk.payload.len()
                || p[..n] != pk.payload[..n]
            {
                Err(format!(
                    "fields kind {kind:#04x} seq {seq} len {len} p {:02x?}, want kind {:#04x} \
                     seq {} len {} p {:02x?}",
                    &p[..n],
                    pk.kind,
                    pk.seq,
                    pk.payload.len(),
                    &pk.payload[..n]
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// The buffer read back against the packet's bytes.
fn compare_buffer(block: &[u8], want: &Packet) -> Result<(), String> {
    let raw = packet_bytes(want).unwrap();
    match block.iter().zip(&raw).position(|(a, b)| a != b) {
        None if block.len() == raw.len() => Ok(()),
        None => Err(format!("read {} bytes, want {}", block.len(), raw.len())),
        Some(i) => Err(format!(
            "buffer byte {i}: {:#04x}, want {:#04x}",
            block[i], raw[i]
        )),
    }
}

/// Drives a stream through the block and `FrameDecoder` and matches their results.
struct Checker {
    h: Harness,
    reference: FrameDecoder,
    /// Results of the reference not yet seen from the block: (edge of the byte, result).
    queue: std::collections::VecDeque<(u64, Expected)>,
    /// Frames compared, by outcome ("good", or the error's name).
    pub tally: std::collections::BTreeMap<String, usize>,
    /// Latencies seen (edges after the completing byte).
    pub latencies: std::collections::BTreeSet<u64>,
    /// Good packets whose buffer should be read back when the input next goes idle.
    readback: Option<Packet>,
    /// Non-zero bytes since the last `0x00`.
    run: usize,
    /// Put one idle cycle before the 524th byte of an over-long run (works around finding 1,
    /// see `finding_overflow_back_to_back_corrupts_next_crc`).
    overflow_gap: bool,
}

impl Checker {
    fn new() -> Self {
        Self {
            h: Harness::new(),
            reference: FrameDecoder::new(),
            queue: Default::default(),
            tally: Default::default(),
            latencies: Default::default(),
            readback: None,
            run: 0,
            overflow_gap: true,
        }
    }

    /// One clock with `byte` (or idle); `accept` high.
    fn clock(&mut self, byte: Option<u8>) -> Result<(), String> {
        let verdict = self.h.tick(byte.is_some(), byte.unwrap_or(0), true, 0);
        let edge = self.h.edges;
        if let Some(b) = byte {
            if let Some(r) = self.reference.push(b) {
                self.queue.push_back((edge, r));
            }
        }
        if let Some(v) = verdict {
            let (at, want) = self
                .queue
                .pop_front()
                .ok_or_else(|| format!("edge {edge}: done {v:?} with nothing expected"))?;
            let latency = edge - at;
            if latency > MAX_LATENCY {
                return Err(format!("done {latency} cycles after the completing byte"));
            }
            self.latencies.insert(latency);
            compare(&v, &want).map_err(|e| format!("edge {edge}: {e}"))?;
            let name = match &want {
                Ok(_) => "good".to_string(),
                Err(e) => format!("{e:?}"),
            };
            *self.tally.entry(name).or_default() += 1;
            if let Ok(p) = want {
                self.readback = Some(p);
            }
        }
        if let Some((at, want)) = self.queue.front() {
            if edge - at > MAX_LATENCY {
                return Err(format!("no done for {want:?} (byte at edge {at})"));
            }
        }
        Ok(())
    }

    /// Feeds `bytes` with idle cycles drawn from `gap` before each.
    fn feed(
        &mut self,
        bytes: &[u8],
        rng: &mut ChaCha8Rng,
        gap: &dyn Fn(&mut ChaCha8Rng) -> usize,
    ) -> Result<(), String> {
        for &b in bytes {
            for _ in 0..gap(rng) {
                self.clock(None)?;
            }
            if b == 0 {
                self.run = 0;
            } else {
                if self.run == COBS_MAX && self.overflow_gap {
                    self.clock(None)?;
                }
                self.run += 1;
            }
            self.clock(Some(b))?;
        }
        Ok(())
    }

    /// Lets any pending result come out; then, when the last result was a good packet,
    /// reads the buffer back and checks it.
    fn drain_and_read(&mut self) -> Result<(), String> {
        for _ in 0..=MAX_LATENCY {
            self.clock(None)?;
        }
        if let Some(p) = self.readback.take() {
            let fields = self.h.fields();
            let got = self.h.read_buffer(p.payload.len() + 6);
            compare_buffer(&got, &p)?;
            // The fields hold while the input is idle.
            compare(&fields, &Ok(p.clone()))?;
        }
        Ok(())
    }
}

/// A random payload: zeros at various densities, long non-zero runs, maximum length.
fn random_payload(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = match rng.gen_range(0..6) {
        0 => MAX_PAYLOAD,
        1 => rng.gen_range(240..=MAX_PAYLOAD),
        _ => rng.gen_range(0..24),
    };
    let zero_p = [0.0, 0.02, 0.2, 0.6][rng.gen_range(0..4)];
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

fn random_packet(rng: &mut ChaCha8Rng) -> Packet {
    Packet {
        kind: rng.gen(),
        seq: rng.gen(),
        payload: random_payload(rng),
    }
}

/// Raw bytes with a correct CRC over whatever header and payload they carry.
fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
    let crc = crc16(&body);
    body.extend_from_slice(&crc.to_be_bytes());
    body
}

/// One random frame for the wire (ending in `0x00`, except for an over-long run, which ends
/// with its own `0x00` after more than `COBS_MAX` bytes).
fn random_frame(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let p = random_packet(rng);
    let raw = packet_bytes(&p).unwrap();
    match rng.gen_range(0..20) {
        // Good packets.
        0..=6 => frame_raw(&raw),
        // Bad CRC: one bit flipped in the CRC or anywhere in the packet.
        7 => {
            let mut r = raw.clone();
            let i = r.len() - 1 - rng.gen_range(0..2);
            r[i] ^= 1 << rng.gen_range(0..8);
            frame_raw(&r)
        }
        8 => {
            let mut r = raw.clone();
            let i = rng.gen_range(0..r.len());
            r[i] ^= 1 << rng.gen_range(0..8);
            frame_raw(&r)
        }
        // Truncated packet (short or length mismatch), re-encoded.
        9 => frame_raw(&raw[..rng.gen_range(0..raw.len())]),
        // Truncated encoding (mostly COBS errors).
        10 => {
            let w = frame_raw(&raw);
            let mut t = w[..rng.gen_range(1..w.len() - 1)].to_vec();
            t.push(0);
            t
        }
        // Wrong len field with a correct CRC.
        11 => {
            let mut body = raw[..raw.len() - 2].to_vec();
            let len = (p.payload.len() as i32 + rng.gen_range(-3..=3)).clamp(0, 0xFFFF) as u16;
            let len = if len as usize == p.payload.len() {
                len ^ 0x100
            } else {
                len
            };
            body[2..4].copy_from_slice(&len.to_le_bytes());
            frame_raw(&with_crc(body))
        }
        // len > 512 with a matching payload and a correct CRC (fits in COBS_MAX).
        12 => {
            let n = rng.gen_range(MAX_PAYLOAD + 1..=MAX_PAYLOAD + 3);
            let mut body = vec![p.kind, p.seq];
            body.extend_from_slice(&(n as u16).to_le_bytes());
            body.extend((0..n).map(|_| if rng.gen_bool(0.1) { 0 } else { rng.gen() }));
            frame_raw(&with_crc(body))
        }
        // Corrupted COBS: a code or data byte replaced.
        13 => {
            let mut w = frame_raw(&raw);
            let i = rng.gen_range(0..w.len() - 1);
            w[i] = rng.gen_range(1..=255);
            w
        }
        // Over-long run: more than COBS_MAX bytes without a delimiter.
        14 => {
            let n = rng.gen_range(COBS_MAX + 1..COBS_MAX + 40);
            let mut w: Vec<u8> = (0..n).map(|_| rng.gen_range(1..=255)).collect();
            w.push(0);
            w
        }
        // Exactly COBS_MAX bytes: not an overflow, a bad packet.
        15 => {
            let mut w: Vec<u8> = (0..COBS_MAX).map(|_| rng.gen_range(1..=255)).collect();
            w.push(0);
            w
        }
        // Empty frames (resync delimiters).
        16 => vec![0; rng.gen_range(1..3)],
        // Garbage.
        17 => {
            let mut w: Vec<u8> = (0..rng.gen_range(1..30))
                .map(|_| rng.gen_range(1..=255))
                .collect();
            w.push(0);
            w
        }
        // Packets of fewer than 6 bytes with a good encoding.
        18 => frame_raw(&raw[..rng.gen_range(0..6)]),
        // A good packet behind a resync delimiter.
        _ => {
            let mut w = vec![0];
            w.extend(frame_raw(&raw));
            w
        }
    }
}

#[test]
fn vectors() {
    let mut c = Checker::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (_, packet, wire) in VECTORS {
        let wire = hex(wire);
        c.feed(&wire, &mut rng, &|r| r.gen_range(0..12)).unwrap();
        c.drain_and_read().unwrap();
        let read = c.h.read_buffer(hex(packet).len());
        assert_eq!(read, hex(packet), "buffer after {wire:02x?}");
    }
    assert_eq!(c.tally.get("good"), Some(&VECTORS.len()));
    assert!(c.queue.is_empty());
    // The document's example packets, good and bad, against `FrameDecoder`.
    for packet in doc_packets() {
        c.feed(&frame_raw(&packet), &mut rng, &|r| r.gen_range(0..12))
            .unwrap_or_else(|e| panic!("{packet:02x?}: {e}"));
        c.drain_and_read()
            .unwrap_or_else(|e| panic!("{packet:02x?}: {e}"));
    }
    assert!(c.queue.is_empty());
}

/// Every packet of `docs/PROTOCOL.md`: the test vectors of section 2 and the example
/// exchanges of section 4.4 (some of them bad packets on purpose).
fn doc_packets() -> Vec<Vec<u8>> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"))
}

/// Random frames of every kind, each followed by a few idle cycles and a read-back of the
/// buffer when it was good.
#[test]
fn random_frames_with_gaps() {
    let mut c = Checker::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xF4A3E);
    for n in 0..500 {
        let frame = random_frame(&mut rng);
        let gap: &dyn Fn(&mut ChaCha8Rng) -> usize = match n % 3 {
            0 => &|_| 0,
            1 => &|r| r.gen_range(0..3),
            // A UART at 10 clocks per bit delivers a byte every 100 clocks or more; a short
            // version of that.
            _ => &|r| r.gen_range(8..14),
        };
        c.feed(&frame, &mut rng, gap)
            .unwrap_or_else(|e| panic!("frame {n} ({} bytes): {e}", frame.len()));
        c.drain_and_read()
            .unwrap_or_else(|e| panic!("frame {n} ({} bytes): {e}", frame.len()));
    }
    assert!(c.queue.is_empty());
    println!(
        "{} edges, outcomes {:?}, done latencies {:?}",
        c.h.edges, c.tally, c.latencies
    );
    for kind in [
        "good",
        "Crc",
        "Cobs",
        "Short",
        "LengthMismatch",
        "TooLong",
        "Overflow",
    ] {
        assert!(
            c.tally.get(kind).copied().unwrap_or(0) >= 5,
            "too few {kind} frames: {:?}",
            c.tally
        );
    }
}

/// The same frames back to back: every byte in consecutive cycles, no idle cycle between
/// frames, results checked as they come.
#[test]
fn random_frames_back_to_back() {
    let mut c = Checker::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xB2B);
    let mut stream = Vec::new();
    for _ in 0..300 {
        stream.extend(random_frame(&mut rng));
    }
    c.feed(&stream, &mut rng, &|_| 0).unwrap();
    for _ in 0..=MAX_LATENCY {
        c.clock(None).unwrap();
    }
    assert!(c.queue.is_empty());
    println!("{} edges, outcomes {:?}", c.h.edges, c.tally);
}

/// Frames that start while `accept` is low (good, bad, empty; not over-long) give no `done`
/// and leave the buffer and the fields as the last accepted good packet left them; the
/// next accepted frame is judged normally. One idle cycle separates frames.
#[test]
fn frames_while_not_accepting_are_dropped() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xACC);
    let mut dropped = 0;
    for n in 0..100 {
        // An accepted good packet.
        let p = random_packet(&mut rng);
        let mut verdict = None;
        for &b in &frame_raw(&packet_bytes(&p).unwrap()) {
            verdict = verdict.or(h.tick(true, b, true, 0));
            verdict = verdict.or(h.tick(false, 0, rng.gen(), 0));
        }
        for _ in 0..MAX_LATENCY {
            verdict = verdict.or(h.tick(false, 0, true, 0));
        }
        let v = verdict.unwrap_or_else(|| panic!("round {n}: no verdict"));
        compare(&v, &Ok(p.clone())).unwrap_or_else(|e| panic!("round {n}: {e}"));
        // Frames dropped: accept low at their first byte (and random later).
        for _ in 0..rng.gen_range(1..4) {
            let frame = loop {
                let f = random_frame(&mut rng);
                if f.len() <= COBS_MAX {
                    break f;
                }
            };
            let mut first = true;
            for &b in &frame {
                let accept = if first && b != 0 { false } else { rng.gen() };
                first &= b == 0;
                let v = h.tick(true, b, accept, 0);
                assert!(v.is_none(), "round {n}: done {v:?} for a dropped frame");
                let v = h.tick(false, 0, rng.gen(), 0);
                assert!(v.is_none(), "round {n}: done {v:?} for a dropped frame");
            }
            dropped += 1;
        }
        for _ in 0..MAX_LATENCY {
            assert!(h.tick(false, 0, true, 0).is_none());
        }
        compare(&h.fields(), &Ok(p.clone())).unwrap_or_else(|e| panic!("round {n}: fields: {e}"));
        let got = h.read_buffer(p.payload.len() + 6);
        compare_buffer(&got, &p).unwrap_or_else(|e| panic!("round {n}: buffer: {e}"));
    }
    assert!(dropped > 150);
}

/// Negative control: one flipped bit in a field, in a buffer byte or in the NAK reason is
/// reported as a mismatch; so is a single bit flipped on the wire.
#[test]
fn negative_control_single_bit_flips_are_caught() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut p = random_packet(&mut rng);
    p.payload = (0..20).map(|_| rng.gen()).collect();
    let wire = frame_raw(&packet_bytes(&p).unwrap());
    let mut c = Checker::new();
    c.feed(&wire, &mut rng, &|_| 0).unwrap();
    c.drain_and_read().expect("the unflipped frame matches");
    let Verdict::Good {
        kind,
        seq,
        len,
        p: bytes,
    } = c.h.fields()
    else {
        panic!("not good")
    };
    let want = Ok(p.clone());
    for bit in 0..8 {
        let m = 1u8 << bit;
        let mut b = bytes;
        b[(bit * 2) % CAPTURED] ^= m;
        for v in [
            Verdict::Good {
                kind: kind ^ m,
                seq,
                len,
                p: bytes,
            },
            Verdict::Good {
                kind,
                seq: seq ^ m,
                len,
                p: bytes,
            },
            Verdict::Good {
                kind,
                seq,
                len: len ^ (m as u16) << 1,
                p: bytes,
            },
            Verdict::Good {
                kind,
                seq,
                len,
                p: b,
            },
        ] {
            assert!(compare(&v, &want).is_err(), "{v:?}");
        }
    }
    let buffer = c.h.read_buffer(p.payload.len() + 6);
    compare_buffer(&buffer, &p).unwrap();
    for i in 0..buffer.len() {
        let mut b = buffer.clone();
        b[i] ^= 1 << (i % 8);
        assert!(compare_buffer(&b, &p).is_err(), "buffer byte {i}");
    }
    for (reason, e) in [
        (1u8, FrameError::Crc),
        (2, FrameError::Cobs),
        (3, FrameError::TooLong),
    ] {
        compare(&Verdict::Nak(reason), &Err(e)).unwrap();
        assert!(compare(&Verdict::Nak(reason ^ 1), &Err(e)).is_err());
        assert!(compare(&Verdict::Nak(reason), &want).is_err());
    }
    // A bit flipped on the wire: the block's verdict no longer matches the packet sent.
    for _ in 0..20 {
        let mut sent = wire.clone();
        let i = rng.gen_range(0..sent.len() - 1);
        sent[i] ^= 1 << rng.gen_range(0..8);
        if sent[i] == 0 {
            continue;
        }
        let mut h = Harness::new();
        let mut verdict = None;
        for &b in &sent {
            verdict = verdict.or(h.tick(true, b, true, 0));
        }
        for _ in 0..MAX_LATENCY {
            verdict = verdict.or(h.tick(false, 0, true, 0));
        }
        let v = verdict.expect("a verdict");
        assert!(compare(&v, &want).is_err(), "flipped wire byte {i}: {v:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Findings: behaviour that disagrees with the contract or with `zo_proto::FrameDecoder`. Each
// test asserts the contract and fails on today's block; run them with `--ignored`. In the
// device none of them can happen while bytes come from the UART (one byte per 10 or more
// clocks, and `accept` held for a whole request), but the block's contract sets no minimum
// byte spacing.

/// Finding 1: when the 524th byte of an over-long run arrives in the cycle right after the
/// 523rd, the decoded byte still in flight is folded into the CRC after the overflow's clear
/// (`Crc16` does clear-then-fold when `clear` and `strobe` meet), and the discarding `0x00`
/// is not given to the decoder, so no `frame_end` clears it again: the next good packet gets
/// `nak` reason 1. With one idle cycle before the 524th byte it is judged good.
#[test]
#[ignore = "finding 1: FrameRx CRC not restarted after a back-to-back overflow"]
fn finding_overflow_back_to_back_corrupts_next_crc() {
    let mut c = Checker::new();
    c.overflow_gap = false;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut run: Vec<u8> = (0..COBS_MAX + 5).map(|_| rng.gen_range(1..=255)).collect();
    run.push(0);
    c.feed(&run, &mut rng, &|_| 0).unwrap();
    c.drain_and_read().unwrap();
    let p = random_packet(&mut rng);
    c.feed(&frame_raw(&packet_bytes(&p).unwrap()), &mut rng, &|_| 1)
        .unwrap();
    c.drain_and_read().unwrap();
}

/// Finding 2: an over-long run that starts while `accept` is low leaves `dropping` set (the
/// discarding `0x00` never reaches the decoder, whose `frame_end` is what clears it), so the
/// next frame is dropped silently although `accept` is high when it starts.
#[test]
#[ignore = "finding 2: FrameRx drops the frame after an over-long run that was not accepted"]
fn finding_dropped_overflow_drops_the_next_frame() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for i in 0..COBS_MAX + 5 {
        let v = h.tick(true, rng.gen_range(1..=255), i != 0, 0);
        assert!(v.is_none(), "the dropped run is silent");
        h.tick(false, 0, true, 0);
    }
    h.tick(true, 0, true, 0);
    let p = random_packet(&mut rng);
    let mut verdict = None;
    for &b in &frame_raw(&packet_bytes(&p).unwrap()) {
        verdict = verdict.or(h.tick(true, b, true, 0));
        verdict = verdict.or(h.tick(false, 0, true, 0));
    }
    for _ in 0..MAX_LATENCY {
        verdict = verdict.or(h.tick(false, 0, true, 0));
    }
    let v = verdict.expect("a verdict for the accepted frame after the dropped run");
    compare(&v, &Ok(p)).unwrap();
}

/// Finding 3: a frame whose first byte arrives in the cycle right after the previous frame's
/// `0x00` is not dropped when `accept` is low: the previous frame's `frame_end` clears
/// `dropping` at the same edge that sets it. The frame is judged and overwrites the buffer.
#[test]
#[ignore = "finding 3: FrameRx ignores accept low on a frame right after a delimiter"]
fn finding_back_to_back_frame_ignores_accept() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let p = random_packet(&mut rng);
    let wire = frame_raw(&packet_bytes(&p).unwrap());
    let mut verdicts = Vec::new();
    for &b in &wire {
        verdicts.extend(h.tick(true, b, true, 0));
    }
    let q = random_packet(&mut rng);
    for (i, &b) in frame_raw(&packet_bytes(&q).unwrap()).iter().enumerate() {
        verdicts.extend(h.tick(true, b, i != 0, 0));
    }
    for _ in 0..MAX_LATENCY {
        verdicts.extend(h.tick(false, 0, true, 0));
    }
    assert_eq!(
        verdicts.len(),
        1,
        "only the accepted frame is judged: {verdicts:?}"
    );
    compare(&verdicts[0], &Ok(p.clone())).unwrap();
    compare_buffer(&h.read_buffer(p.payload.len() + 6), &p).unwrap();
}
