//! `zo_hdl::engine::response_writer::ResponseWriter` driven directly through its ports, against
//! `zo_proto::packet_bytes`.
//!
//! Each response is written as the engine writes it: `clear`, four `header` clocks with the
//! packet's type, seq and payload length, one `emit` per payload byte (with idle clocks between
//! some of them), `crc_hi`, `crc_lo`, `save`. The writes seen on `we` / `waddr` / `wdata` must
//! be exactly `packet_bytes(packet)` at positions 0.., and `length` its length; idle clocks and
//! `save` write nothing. After a second packet, `replay` must bring `length` back to the saved
//! one without a write.
//!
//! Inputs: every response packet of docs/PROTOCOL.md (test vectors and example exchanges) and
//! seeded random packets with payloads of 0..=512 bytes (all byte values, maximum length).
//! Every byte and the CRC are compared, so a flipped bit in any of them, a header byte from the
//! wrong position, a CRC over the wrong bytes or a miscounted length fails.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::engine::response_writer::ResponseWriter;
use zo_proto::{packet_bytes, Packet, MAX_PAYLOAD};

/// The commands of one clock.
#[derive(Clone, Copy, Default)]
struct In {
    clear: bool,
    header: bool,
    emit: bool,
    byte: u8,
    crc_hi: bool,
    crc_lo: bool,
    save: bool,
    replay: bool,
}

struct Harness {
    uut: Box<ResponseWriter>,
    /// The packet buffer as the writes left it.
    buffer: Vec<u8>,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::<ResponseWriter>::default();
        uut.connect_all();
        zo_sim::harness::testkit::settle(&mut *uut, "ResponseWriter");
        Self {
            uut,
            buffer: vec![0; 1024],
        }
    }

    /// One clock with `i`, for a packet with `kind`, `seq` and payload length `len`; returns
    /// whether it wrote.
    fn tick(&mut self, i: In, kind: u8, seq: u8, len: usize) -> bool {
        let u = &mut self.uut;
        u.clear.next = i.clear;
        u.header.next = i.header;
        u.emit.next = i.emit;
        u.payload_byte.next = (i.byte as u64).to_bits();
        u.crc_hi.next = i.crc_hi;
        u.crc_lo.next = i.crc_lo;
        u.save.next = i.save;
        u.replay.next = i.replay;
        u.kind.next = (kind as u64).to_bits();
        u.seq.next = (seq as u64).to_bits();
        u.len.next = (len as u64).to_bits();
        let set_clock = |u: &mut ResponseWriter, c: bool| u.clock.next = c.into();
        zo_sim::harness::testkit::clock_to(&mut **u, "ResponseWriter", set_clock, false);
        let we = u.we.val();
        if we {
            self.buffer[u.waddr.val().index()] = u.wdata.val().index() as u8;
        }
        zo_sim::harness::testkit::clock_to(&mut **u, "ResponseWriter", set_clock, true);
        we
    }

    fn length(&self) -> usize {
        self.uut.length.val().index()
    }

    /// Writes `p` as the engine does and returns the bytes written, checking the length.
    fn write(&mut self, p: &Packet, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let (k, s, n) = (p.kind, p.seq, p.payload.len());
        assert!(!self.tick(
            In {
                clear: true,
                ..In::default()
            },
            k,
            s,
            n
        ));
        assert_eq!(self.length(), 0, "length after clear");
        for _ in 0..4 {
            assert!(self.tick(
                In {
                    header: true,
                    ..In::default()
                },
                k,
                s,
                n
            ));
        }
        for &b in &p.payload {
            while rng.gen_bool(0.2) {
                assert!(!self.tick(In::default(), k, s, n), "an idle clock wrote");
            }
            assert!(self.tick(
                In {
                    emit: true,
                    byte: b,
                    ..In::default()
                },
                k,
                s,
                n
            ));
        }
        for i in [
            In {
                crc_hi: true,
                ..In::default()
            },
            In {
                crc_lo: true,
                ..In::default()
            },
        ] {
            assert!(self.tick(i, k, s, n));
        }
        assert!(
            !self.tick(
                In {
                    save: true,
                    ..In::default()
                },
                k,
                s,
                n
            ),
            "save wrote"
        );
        assert_eq!(
            self.length(),
            n + 6,
            "length of a packet of {n} payload bytes"
        );
        self.buffer[..n + 6].to_vec()
    }
}

fn doc_responses() -> Vec<Packet> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .expect("the document's packets")
        .into_iter()
        .filter(|p| p.len() >= 6 && p[0] >= 0x7E)
        .filter(|p| u16::from_le_bytes([p[2], p[3]]) as usize + 6 == p.len())
        .map(|p| Packet {
            kind: p[0],
            seq: p[1],
            payload: p[4..p.len() - 2].to_vec(),
        })
        .collect()
}

#[test]
fn writer_builds_the_packets_of_the_codec() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut packets = doc_responses();
    assert!(
        packets.len() >= 8,
        "the document's responses were not found"
    );
    for i in 0..200 {
        let len = match i % 4 {
            0 => MAX_PAYLOAD,
            1 => rng.gen_range(0..8),
            _ => rng.gen_range(0..=MAX_PAYLOAD),
        };
        packets.push(Packet {
            kind: rng.gen(),
            seq: rng.gen(),
            payload: (0..len).map(|_| rng.gen()).collect(),
        });
    }
    let mut h = Harness::new();
    for p in packets {
        let want = packet_bytes(&p).expect("an encodable packet");
        let got = h.write(&p, &mut rng);
        assert_eq!(got, want, "packet {:02x} seq {}", p.kind, p.seq);
        // A replay after an idle clock: the saved length, and no write.
        assert!(!h.tick(In::default(), 0, 0, 0));
        assert!(!h.tick(
            In {
                replay: true,
                ..In::default()
            },
            0,
            0,
            0
        ));
        assert_eq!(h.length(), want.len(), "length after a replay");
        assert_eq!(h.buffer[..want.len()], want[..], "a replay wrote");
    }
}

#[test]
fn replay_restores_the_saved_length_not_the_last() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut h = Harness::new();
    let first = Packet {
        kind: 0x81,
        seq: 3,
        payload: vec![1, 2, 3],
    };
    h.write(&first, &mut rng);
    // A second packet written but not saved (the engine saves at Send): replay goes back to
    // the first packet's length.
    let (k, s, n) = (0x7F, 4, 4);
    h.tick(
        In {
            clear: true,
            ..In::default()
        },
        k,
        s,
        n,
    );
    for _ in 0..4 {
        h.tick(
            In {
                header: true,
                ..In::default()
            },
            k,
            s,
            n,
        );
    }
    assert_eq!(h.length(), 4);
    h.tick(
        In {
            replay: true,
            ..In::default()
        },
        0,
        0,
        0,
    );
    assert_eq!(h.length(), 9, "replay must restore the saved length");
}
