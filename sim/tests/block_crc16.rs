//! `zo_hdl::link::crc16::Crc16` driven directly through its ports, against `zo_proto::crc16`.
//!
//! After every clock edge the `crc` register must equal `zo_proto::crc16` of the bytes
//! strobed since the last `clear` (or since power-on), whatever the pattern of `clear`,
//! `strobe` and idle cycles (both at once: clear, then fold). Over every packet of
//! `docs/PROTOCOL.md` (its test vectors and example exchanges, `zo_proto::examples`) and of
//! seeded random packets (zeros, long runs, maximum payloads) the register must end at the
//! packet's CRC before the CRC bytes and, when that CRC is good, at 0 after them.
//! A negative control shows that the comparison catches a single flipped bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::link::crc16::Crc16;
use zo_proto::{crc16, packet_bytes, Packet, MAX_PAYLOAD};

/// Every packet of `docs/PROTOCOL.md`: the test vectors of section 2 and the example
/// exchanges of section 4.4 (some of them bad packets on purpose).
fn doc_packets() -> Vec<Vec<u8>> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"))
}

/// The block, stepped directly: inputs applied with the clock low and settled, then the
/// rising edge.
struct Harness {
    uut: Box<Crc16>,
    cycles: u64,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::new(Crc16::default());
        uut.connect_all();
        let mut h = Self { uut, cycles: 0 };
        h.settle();
        h
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "Crc16");
    }

    /// One clock with these inputs at its rising edge; returns `crc` after the edge.
    fn tick(&mut self, clear: bool, strobe: bool, data: u8) -> u16 {
        self.uut.clear.next = clear;
        self.uut.strobe.next = strobe;
        self.uut.data.next = (data as u64).to_bits();
        zo_sim::harness::testkit::rising_edge(&mut *self.uut, "Crc16", |u, c| {
            u.clock.next = c.into()
        });
        self.cycles += 1;
        self.crc()
    }

    fn crc(&self) -> u16 {
        self.uut.crc.val().index() as u16
    }
}

/// The comparison every check goes through: the block's register against the reference CRC
/// of the bytes folded since the last restart.
fn compare(block: u16, folded: &[u8]) -> Result<(), String> {
    let want = crc16(folded);
    if block == want {
        Ok(())
    } else {
        Err(format!(
            "crc register {block:#06x}, zo_proto::crc16 {want:#06x} over {} bytes",
            folded.len()
        ))
    }
}

/// Folds `bytes` with random idle cycles in between (the first byte with `clear` when
/// `clear_first`), checking the register after every edge; returns the final register.
fn fold_checked(
    h: &mut Harness,
    rng: &mut ChaCha8Rng,
    bytes: &[u8],
    clear_first: bool,
) -> Result<u16, String> {
    let mut folded: Vec<u8> = Vec::new();
    let before = h.crc();
    for (i, &b) in bytes.iter().enumerate() {
        while rng.gen_bool(0.2) {
            // Idle: the register holds; the data lines carry noise.
            let got = h.tick(false, false, rng.gen());
            if i == 0 && clear_first {
                if got != before {
                    return Err(format!(
                        "idle before the clear: {got:#06x}, was {before:#06x}"
                    ));
                }
            } else {
                compare(got, &folded).map_err(|e| format!("idle before byte {i}: {e}"))?;
            }
        }
        let got = h.tick(clear_first && i == 0, true, b);
        folded.push(b);
        compare(got, &folded).map_err(|e| format!("byte {i} ({b:#04x}): {e}"))?;
    }
    Ok(h.crc())
}

/// A random packet: random kind and seq, a payload of random length with plenty of zeros
/// and of long non-zero runs, sometimes the maximum length.
fn random_packet(rng: &mut ChaCha8Rng) -> Packet {
    let len = match rng.gen_range(0..10) {
        0 => MAX_PAYLOAD,
        1 => rng.gen_range(250..=MAX_PAYLOAD),
        _ => rng.gen_range(0..64),
    };
    let style = rng.gen_range(0..3);
    let payload = (0..len)
        .map(|_| match style {
            0 => rng.gen(),
            1 => {
                if rng.gen_bool(0.3) {
                    0
                } else {
                    rng.gen()
                }
            }
            _ => rng.gen_range(1..=255),
        })
        .collect();
    Packet {
        kind: rng.gen(),
        seq: rng.gen(),
        payload,
    }
}

#[test]
fn power_on_value_and_check_value() {
    let mut h = Harness::new();
    compare(h.crc(), &[]).expect("power-on value");
    assert_eq!(h.crc(), 0xFFFF);
    // The documented check value, from power-on without a clear.
    let mut folded = Vec::new();
    for &b in b"123456789" {
        let got = h.tick(false, true, b);
        folded.push(b);
        compare(got, &folded).unwrap();
    }
    assert_eq!(h.crc(), 0x29B1);
}

/// Every packet of the document: the register follows `zo_proto::crc16` byte by byte; over
/// a packet with a good CRC it ends at the CRC field before the CRC bytes and at 0 after them.
#[test]
fn document_packets_end_at_their_crc_and_then_zero() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0C1);
    let mut good = 0;
    for packet in doc_packets() {
        let v = format!("{packet:02x?}");
        let end = fold_checked(&mut h, &mut rng, &packet, true).expect(&v);
        compare(end, &packet).unwrap();
        let wire = zo_proto::frame_raw(&packet);
        if zo_proto::decode_packet(&wire[..wire.len() - 1]).is_ok() {
            // The register passed through the CRC field (checked by `fold_checked` against
            // `zo_proto::crc16` of the body) and ends at 0.
            assert_eq!(end, 0, "{v}: register over the whole packet");
            good += 1;
        }
    }
    assert!(good >= 40, "{good} good packets in PROTOCOL.md");
}

#[test]
fn random_packets_against_zo_proto() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x16_1021);
    let mut bytes_total = 0;
    for n in 0..300 {
        let p = random_packet(&mut rng);
        let raw = packet_bytes(&p).expect("payload fits");
        bytes_total += raw.len();
        let end = fold_checked(&mut h, &mut rng, &raw, true)
            .unwrap_or_else(|e| panic!("packet {n} ({} bytes): {e}", raw.len()));
        assert_eq!(end, 0, "packet {n}: an intact packet leaves 0");
    }
    assert!(bytes_total > 20_000, "{bytes_total} bytes folded");
}

/// Random streams of clear / strobe / idle cycles, including clear and strobe together, and
/// clears in the middle of a run; the register after every edge against the reference.
#[test]
fn random_control_patterns() {
    let mut h = Harness::new();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut folded: Vec<u8> = Vec::new();
    let mut both = 0;
    for i in 0..50_000 {
        let clear = rng.gen_bool(0.02);
        let strobe = rng.gen_bool(0.7);
        let data: u8 = if rng.gen_bool(0.2) { 0 } else { rng.gen() };
        let got = h.tick(clear, strobe, data);
        if clear {
            folded.clear();
        }
        if strobe {
            folded.push(data);
        }
        both += (clear && strobe) as u32;
        compare(got, &folded).unwrap_or_else(|e| {
            panic!("cycle {i} (clear {clear}, strobe {strobe}, data {data:#04x}): {e}")
        });
    }
    assert!(both > 100, "clear and strobe together only {both} times");
}

/// Negative control: one flipped bit of the block's register, or one flipped bit of one
/// byte fed to the block, is reported as a mismatch.
#[test]
fn negative_control_single_bit_flips_are_caught() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut h = Harness::new();
    let raw = packet_bytes(&random_packet(&mut rng)).unwrap();
    let end = fold_checked(&mut h, &mut rng, &raw, true).unwrap();
    compare(end, &raw).expect("the unflipped run matches");
    for bit in 0..16 {
        assert!(
            compare(end ^ (1 << bit), &raw).is_err(),
            "a flip of register bit {bit} went unnoticed"
        );
    }
    // A single bit flipped on the way into the block: its register no longer matches the
    // reference over the bytes that were meant to be sent.
    for trial in 0..20 {
        let i = rng.gen_range(0..raw.len());
        let mut sent = raw.clone();
        sent[i] ^= 1 << rng.gen_range(0..8);
        let mut h = Harness::new();
        for &b in &sent {
            h.tick(false, true, b);
        }
        assert!(
            compare(h.crc(), &raw).is_err(),
            "trial {trial}: a flipped input bit at byte {i} went unnoticed"
        );
    }
}
