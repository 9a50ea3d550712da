//! `zo_hdl::link::cobs_decoder::CobsDecoder` driven directly through its ports, against the COBS of
//! `zo_proto`.
//!
//! Each frame (the encoded bytes and their `0x00`) is fed with random idle cycles in between,
//! or back to back. Compared per frame:
//! - the verdict (`frame_ok` at the `frame_end` pulse) with `zo_proto::decode_packet`'s: a
//!   frame is bad exactly when `decode_packet` says `FrameError::Cobs`;
//! - the decoded bytes (`out_valid` / `out_data`) of a good frame with the bytes that
//!   `zo_proto::frame_raw` encoded, or for a frame made some other way with a plain COBS
//!   decoder that is itself checked against `decode_packet` on every frame;
//! - the timing of the contract: every output appears right after the edge of the input byte
//!   that caused it, `frame_end` exactly once per `0x00`, and nothing while the input is idle.
//!
//! Inputs: the test vectors of `docs/PROTOCOL.md` section 2 and the packets of its example
//! exchanges (section 4.4), seeded random
//! byte strings (zeros, runs of 254 and more non-zero bytes, maximum-length packets), the
//! long form with a trailing `0x01` block, empty frames, and broken encodings (truncated,
//! corrupted code bytes, random garbage), plus `clear` in the middle of a frame. A negative
//! control shows that the comparison catches a single flipped bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::link::cobs_decoder::CobsDecoder;
use zo_proto::examples::VECTORS;
use zo_proto::{decode_packet, frame_raw, packet_bytes, FrameError, Packet, MAX_PAYLOAD};

fn hex(s: &str) -> Vec<u8> {
    zo_proto::examples::hex(s).expect("hex bytes")
}

/// What the block said about one frame.
#[derive(Clone, Debug, Default, PartialEq)]
struct FrameOut {
    bytes: Vec<u8>,
    ok: bool,
}

/// The block, stepped directly: inputs applied with the clock low and settled, then the
/// rising edge.
struct Harness {
    uut: Box<CobsDecoder>,
    cycles: u64,
    /// Decoded bytes since the last frame end or clear.
    pending: Vec<u8>,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::new(CobsDecoder::default());
        uut.connect_all();
        let mut h = Self {
            uut,
            cycles: 0,
            pending: Vec::new(),
        };
        h.settle();
        h
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "CobsDecoder");
    }

    /// One clock with these inputs at its rising edge. Collects the outputs that appear after
    /// the edge and checks that they belong to this edge's input (the outputs are registered
    /// and last one cycle). Returns the frame when `frame_end` pulsed.
    fn tick(&mut self, clear: bool, valid: bool, data: u8) -> Result<Option<FrameOut>, String> {
        self.uut.clear.next = clear;
        self.uut.in_valid.next = valid;
        self.uut.in_data.next = (data as u64).to_bits();
        zo_sim::harness::testkit::rising_edge(&mut *self.uut, "CobsDecoder", |u, c| {
            u.clock.next = c.into()
        });
        self.cycles += 1;
        let out_valid = self.uut.out_valid.val();
        let end = self.uut.frame_end.val();
        let fed = valid && !clear;
        if out_valid && !(fed && data != 0) {
            return Err(format!(
                "cycle {}: out_valid without a non-zero input byte at that edge",
                self.cycles
            ));
        }
        if end != (fed && data == 0) {
            return Err(format!(
                "cycle {}: frame_end {end} after input (valid {valid}, clear {clear}, {data:#04x})",
                self.cycles
            ));
        }
        if clear {
            self.pending.clear();
        }
        if out_valid {
            self.pending.push(self.uut.out_data.val().index() as u8);
        }
        if end {
            let ok = self.uut.frame_ok.val();
            return Ok(Some(FrameOut {
                bytes: std::mem::take(&mut self.pending),
                ok,
            }));
        }
        Ok(None)
    }

    /// Feeds `wire` (which ends with its `0x00`), with idle cycles drawn from `gap`; returns
    /// what the block said at the delimiter.
    fn frame(
        &mut self,
        wire: &[u8],
        rng: &mut ChaCha8Rng,
        gap: impl Fn(&mut ChaCha8Rng) -> usize,
    ) -> Result<FrameOut, String> {
        assert_eq!(wire.last(), Some(&0), "a frame ends with its delimiter");
        assert!(!wire[..wire.len() - 1].contains(&0));
        let mut result = None;
        for &b in wire {
            for _ in 0..gap(rng) {
                if self.tick(false, false, rng.gen())?.is_some() {
                    return Err("frame_end while idle".into());
                }
            }
            if let Some(f) = self.tick(false, true, b)? {
                result = Some(f);
            }
        }
        result.ok_or_else(|| "no frame_end at the delimiter".into())
    }
}

/// A plain COBS decoder (standard form): the decoded bytes, or `None` when the encoding is
/// bad or empty. Checked against `zo_proto::decode_packet` by [`reference`].
fn plain_cobs_decode(enc: &[u8]) -> Option<Vec<u8>> {
    if enc.is_empty() || enc.contains(&0) {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < enc.len() {
        let code = enc[i] as usize;
        if i + code > enc.len() {
            return None;
        }
        out.extend_from_slice(&enc[i + 1..i + code]);
        i += code;
        if code != 0xFF && i < enc.len() {
            out.push(0);
        }
    }
    Some(out)
}

/// The expected outcome of a frame (without its delimiter) from `zo_proto`: `None` when
/// `decode_packet` finds the COBS bad, else the decoded bytes. When `encoded_from` is given
/// (the frame is `frame_raw(encoded_from)`), those are the decoded bytes.
fn reference(enc: &[u8], encoded_from: Option<&[u8]>) -> Option<Vec<u8>> {
    let verdict = decode_packet(enc);
    let plain = plain_cobs_decode(enc);
    let cobs_ok = verdict != Err(FrameError::Cobs);
    assert_eq!(
        plain.is_some(),
        cobs_ok,
        "plain decoder disagrees with zo_proto on {enc:02x?}"
    );
    if let Ok(p) = &verdict {
        assert_eq!(
            plain.as_deref(),
            packet_bytes(p).as_deref(),
            "plain decoder"
        );
    }
    if let Some(raw) = encoded_from {
        assert!(cobs_ok, "zo_proto decodes its own encoding");
        assert_eq!(plain.as_deref(), Some(raw), "plain decoder round trip");
    }
    plain
}

/// The comparison every check goes through.
fn compare(block: &FrameOut, want: &Option<Vec<u8>>) -> Result<(), String> {
    match want {
        None if block.ok => Err(format!(
            "frame_ok high for a bad encoding (decoded {} bytes)",
            block.bytes.len()
        )),
        None => Ok(()),
        Some(_) if !block.ok => Err("frame_ok low for a good encoding".into()),
        Some(w) if *w != block.bytes => {
            let at = w
                .iter()
                .zip(&block.bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(w.len().min(block.bytes.len()));
            Err(format!(
                "decoded {} bytes, want {}; first difference at {at}",
                block.bytes.len(),
                w.len()
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Random raw bytes: lengths up to a maximum packet and beyond, zeros, long non-zero runs.
fn random_raw(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = match rng.gen_range(0..8) {
        0 => MAX_PAYLOAD + 6,
        1 => rng.gen_range(250..=600),
        2 => [253, 254, 255, 256, 507, 508, 509, 510][rng.gen_range(0..8)],
        _ => rng.gen_range(0..40),
    };
    let zero_p = [0.0, 0.01, 0.1, 0.5, 1.0][rng.gen_range(0..5)];
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

/// A random good packet's raw bytes (maximum payloads included).
fn random_packet_raw(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = if rng.gen_bool(0.2) {
        MAX_PAYLOAD
    } else {
        rng.gen_range(0..MAX_PAYLOAD)
    };
    let payload = (0..len)
        .map(|_| if rng.gen_bool(0.05) { 0 } else { rng.gen() })
        .collect();
    packet_bytes(&Packet {
        kind: rng.gen(),
        seq: rng.gen(),
        payload,
    })
    .unwrap()
}

/// A broken or unusual encoding derived from a good one (without the delimiter).
fn mutate(rng: &mut ChaCha8Rng, enc: &[u8]) -> Vec<u8> {
    let mut e = enc.to_vec();
    match rng.gen_range(0..6) {
        // Truncated.
        0 if e.len() > 1 => e.truncate(rng.gen_range(1..e.len())),
        // One byte replaced by another non-zero byte (a code byte or a data byte).
        1 => {
            let i = rng.gen_range(0..e.len());
            e[i] = rng.gen_range(1..=255);
        }
        // The first code byte points further.
        2 => e[0] = e[0].saturating_add(rng.gen_range(1..4)),
        // Extra non-zero bytes at the end.
        3 => {
            for _ in 0..rng.gen_range(1..4) {
                e.push(rng.gen_range(1..=255));
            }
        }
        // Pure garbage.
        4 => {
            let n = rng.gen_range(1..300);
            e = (0..n).map(|_| rng.gen_range(1..=255)).collect();
        }
        // A lone code byte.
        _ => e = vec![rng.gen_range(1..=255)],
    }
    e
}

fn with_delimiter(enc: &[u8]) -> Vec<u8> {
    let mut w = enc.to_vec();
    w.push(0);
    w
}

#[test]
fn vectors() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (_, packet, wire) in VECTORS {
        let packet = hex(packet);
        let wire = hex(wire);
        assert_eq!(frame_raw(&packet), wire, "zo_proto encodes the vector");
        let want = reference(&wire[..wire.len() - 1], Some(&packet));
        let got = h.frame(&wire, &mut rng, |r| r.gen_range(0..3)).unwrap();
        compare(&got, &want).unwrap_or_else(|e| panic!("vector {wire:02x?}: {e}"));
    }
    for packet in doc_packets() {
        let wire = frame_raw(&packet);
        let want = reference(&wire[..wire.len() - 1], Some(&packet));
        let got = h.frame(&wire, &mut rng, |r| r.gen_range(0..3)).unwrap();
        compare(&got, &want).unwrap_or_else(|e| panic!("example {packet:02x?}: {e}"));
    }
}

/// Every packet of `docs/PROTOCOL.md`: the test vectors of section 2 and the example
/// exchanges of section 4.4 (some of them bad packets on purpose).
fn doc_packets() -> Vec<Vec<u8>> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"))
}

#[test]
fn random_strings_round_trip() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0B5);
    let mut runs_254 = 0;
    for n in 0..400 {
        let raw = if n % 4 == 0 {
            random_packet_raw(&mut rng)
        } else {
            random_raw(&mut rng)
        };
        runs_254 += raw.split(|&b| b == 0).filter(|r| r.len() >= 254).count();
        let wire = frame_raw(&raw);
        let want = reference(&wire[..wire.len() - 1], Some(&raw));
        // Half of the frames back to back, half with idle cycles.
        let got = if n % 2 == 0 {
            h.frame(&wire, &mut rng, |_| 0)
        } else {
            h.frame(&wire, &mut rng, |r| if r.gen_bool(0.3) { 1 } else { 0 })
        }
        .unwrap_or_else(|e| panic!("string {n}: {e}"));
        compare(&got, &want).unwrap_or_else(|e| panic!("string {n} ({} bytes): {e}", raw.len()));
    }
    assert!(
        runs_254 >= 20,
        "only {runs_254} runs of >= 254 non-zero bytes"
    );
    println!("{} cycles", h.cycles);
}

/// The long form of a block of 254 at the end (a trailing `0x01` block) decodes to the same
/// bytes; an empty frame is bad, and so is a frame that ends inside a block.
#[test]
fn edge_cases() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut check = |enc: Vec<u8>, name: &str| {
        let want = reference(&enc, None);
        let got = h
            .frame(&with_delimiter(&enc), &mut rng, |_| 0)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        compare(&got, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
        want
    };
    let run: Vec<u8> = (0..254).map(|i| (i % 255) as u8 + 1).collect();
    let wire = frame_raw(&run);
    assert_eq!(wire[0], 0xFF);
    let mut long = wire[..wire.len() - 1].to_vec();
    long.push(0x01);
    assert_eq!(check(long, "trailing 0x01 block"), Some(run.clone()));
    assert_eq!(check(vec![0x01], "a lone 0x01"), Some(vec![]));
    assert_eq!(check(vec![0x01, 0x01], "two 0x01"), Some(vec![0]));
    assert_eq!(check(vec![0xFF], "a lone 0xFF"), None);
    assert_eq!(check(vec![0x03, 0x11], "ends inside a block"), None);
    // Empty frames: frame_end with frame_ok low, as decode_packet(&[]) is a COBS error.
    assert_eq!(decode_packet(&[]), Err(FrameError::Cobs));
    for _ in 0..3 {
        let got = h.tick(false, true, 0).unwrap().expect("frame_end");
        compare(&got, &None).unwrap();
    }
}

#[test]
fn broken_encodings_against_zo_proto() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xBAD);
    let (mut bad, mut good) = (0, 0);
    for n in 0..500 {
        let raw = if rng.gen_bool(0.5) {
            random_packet_raw(&mut rng)
        } else {
            random_raw(&mut rng)
        };
        let wire = frame_raw(&raw);
        let enc = mutate(&mut rng, &wire[..wire.len() - 1]);
        let want = reference(&enc, None);
        if want.is_some() {
            good += 1;
        } else {
            bad += 1;
        }
        let got = h
            .frame(&with_delimiter(&enc), &mut rng, |r| r.gen_range(0..2))
            .unwrap_or_else(|e| panic!("frame {n}: {e}"));
        compare(&got, &want).unwrap_or_else(|e| panic!("frame {n} {enc:02x?}: {e}"));
    }
    assert!(bad >= 150 && good >= 50, "bad {bad}, good {good}");
}

/// `clear` in the middle of a frame (with or without a byte at the same edge, which is
/// ignored) restarts the decoder: the next frame decodes on its own.
#[test]
fn clear_restarts_the_decoder() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for n in 0..100 {
        let junk = frame_raw(&random_raw(&mut rng));
        let cut = rng.gen_range(0..junk.len() - 1);
        for &b in &junk[..cut] {
            assert!(h.tick(false, true, b).unwrap().is_none());
        }
        let b = if rng.gen_bool(0.5) { 0 } else { rng.gen() };
        assert!(h.tick(true, rng.gen_bool(0.5), b).unwrap().is_none());
        let raw = random_raw(&mut rng);
        let wire = frame_raw(&raw);
        let want = reference(&wire[..wire.len() - 1], Some(&raw));
        let got = h.frame(&wire, &mut rng, |_| 0).unwrap();
        compare(&got, &want).unwrap_or_else(|e| panic!("frame {n} after clear: {e}"));
    }
}

/// Negative control: a single flipped bit in one decoded byte, or a flipped `frame_ok`,
/// is reported as a mismatch; so is a single bit flipped in a byte fed to the block.
#[test]
fn negative_control_single_bit_flips_are_caught() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let raw = random_packet_raw(&mut rng);
    let wire = frame_raw(&raw);
    let want = reference(&wire[..wire.len() - 1], Some(&raw));
    let got = h.frame(&wire, &mut rng, |_| 0).unwrap();
    compare(&got, &want).expect("the unflipped frame matches");
    for _ in 0..20 {
        let mut flipped = got.clone();
        let i = rng.gen_range(0..flipped.bytes.len());
        flipped.bytes[i] ^= 1 << rng.gen_range(0..8);
        assert!(compare(&flipped, &want).is_err(), "flipped bit at byte {i}");
    }
    let mut flipped = got.clone();
    flipped.ok = !flipped.ok;
    assert!(compare(&flipped, &want).is_err(), "flipped frame_ok");
    // A bit flipped on the wire (keeping it free of zeros): the block's output no longer
    // matches what was encoded.
    let mut caught = 0;
    for _ in 0..20 {
        let mut sent = wire.clone();
        let i = rng.gen_range(0..sent.len() - 1);
        sent[i] ^= 1 << rng.gen_range(0..8);
        if sent[i] == 0 {
            continue;
        }
        let got = h.frame(&sent, &mut rng, |_| 0).unwrap();
        assert!(compare(&got, &want).is_err(), "a flipped wire bit at {i}");
        caught += 1;
    }
    assert!(caught > 10);
}
