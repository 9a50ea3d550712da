//! The frame layer: COBS, CRC, bad packets and the streaming receiver.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_proto::{
    crc16, decode_packet, encode_frame, packet_bytes, try_encode_frame, FrameDecoder, FrameError,
    NakReason, Packet, COBS_MAX, MAX_PAYLOAD,
};

/// An independent textbook COBS encoder (shortest form) to compare with.
fn reference_cobs(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut block = Vec::new();
    for (i, &b) in data.iter().enumerate() {
        if b == 0 {
            out.push(block.len() as u8 + 1);
            out.append(&mut block);
        } else {
            block.push(b);
            if block.len() == 254 {
                out.push(0xFF);
                out.append(&mut block);
                if i + 1 == data.len() {
                    return out;
                }
            }
        }
    }
    out.push(block.len() as u8 + 1);
    out.append(&mut block);
    out
}

/// The raw packet with a freely chosen `len` field and a correct CRC.
fn raw_packet(kind: u8, seq: u8, len: u16, payload: &[u8]) -> Vec<u8> {
    let mut raw = vec![kind, seq];
    raw.extend_from_slice(&len.to_le_bytes());
    raw.extend_from_slice(payload);
    let crc = crc16(&raw);
    raw.extend_from_slice(&crc.to_be_bytes());
    raw
}

fn random_packet(rng: &mut ChaCha8Rng, max_len: usize) -> Packet {
    let len = rng.gen_range(0..=max_len);
    // Mix zero-heavy, zero-free and uniform payloads to exercise every COBS block shape.
    let style = rng.gen_range(0..3);
    let payload = (0..len)
        .map(|_| match style {
            0 => rng.gen(),
            1 => rng.gen_range(1..=255),
            _ => {
                if rng.gen_bool(0.5) {
                    0
                } else {
                    rng.gen()
                }
            }
        })
        .collect();
    Packet {
        kind: rng.gen(),
        seq: rng.gen(),
        payload,
    }
}

fn decode_stream(bytes: &[u8]) -> Vec<Result<Packet, FrameError>> {
    let mut rx = FrameDecoder::new();
    bytes.iter().filter_map(|&b| rx.push(b)).collect()
}

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0x29B1);
}

#[test]
fn encoding_matches_reference_and_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for i in 0..3000 {
        let p = random_packet(&mut rng, if i % 4 == 0 { MAX_PAYLOAD } else { 40 });
        let raw = packet_bytes(&p).unwrap();
        let frame = encode_frame(&p);
        let mut want = reference_cobs(&raw);
        want.push(0);
        assert_eq!(frame, want);
        assert_eq!(frame.iter().filter(|&&b| b == 0).count(), 1);
        assert!(frame.len() - 1 <= raw.len() + raw.len().div_ceil(254));
        assert!(frame.len() - 1 <= COBS_MAX);
        assert_eq!(decode_packet(&frame[..frame.len() - 1]), Ok(p.clone()));
        assert_eq!(decode_stream(&frame), vec![Ok(p)]);
    }
}

#[test]
fn largest_frames_fit_cobs_max() {
    for fill in [0x00u8, 0x01, 0xFF] {
        let p = Packet {
            kind: 0xFF,
            seq: 0xFF,
            payload: vec![fill; MAX_PAYLOAD],
        };
        let frame = encode_frame(&p);
        assert!(frame.len() - 1 <= COBS_MAX, "{}", frame.len());
        assert_eq!(decode_stream(&frame), vec![Ok(p)]);
    }
}

#[test]
fn oversized_payload_is_refused() {
    let p = Packet {
        kind: 1,
        seq: 0,
        payload: vec![1; MAX_PAYLOAD + 1],
    };
    assert_eq!(try_encode_frame(&p), Err(FrameError::TooLong));
    assert_eq!(packet_bytes(&p), None);
    let r = std::panic::catch_unwind(|| encode_frame(&p));
    assert!(
        r.is_err(),
        "encode_frame must panic on an oversized payload"
    );
}

#[test]
fn bad_cobs() {
    assert_eq!(decode_packet(&[]), Err(FrameError::Cobs));
    // A code byte that points past the end.
    assert_eq!(decode_packet(&[0x07, 1, 2, 3]), Err(FrameError::Cobs));
    // A 0x00 inside.
    let frame = encode_frame(&Packet {
        kind: 1,
        seq: 2,
        payload: vec![3, 4],
    });
    let mut inner = frame[..frame.len() - 1].to_vec();
    inner.insert(2, 0);
    assert_eq!(decode_packet(&inner), Err(FrameError::Cobs));
    // Truncating the wire inside a block.
    let frame = encode_frame(&Packet {
        kind: 1,
        seq: 2,
        payload: vec![0, 4, 5, 6, 7],
    });
    // The packet is 01 02 05 00 00 04 05 06 07 crc crc: dropping the last wire byte leaves
    // the last code byte pointing past the end.
    let inner = &frame[..frame.len() - 1];
    assert_eq!(
        decode_packet(&inner[..inner.len() - 1]),
        Err(FrameError::Cobs)
    );
}

#[test]
fn short_packets() {
    for n in 0..6 {
        let raw: Vec<u8> = (1..=n as u8).collect();
        assert_eq!(
            decode_packet(&reference_cobs(&raw)),
            Err(FrameError::Short),
            "{n}"
        );
    }
}

#[test]
fn truncated_and_extended_packets() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..200 {
        let p = random_packet(&mut rng, 64);
        let raw = packet_bytes(&p).unwrap();
        // Cut 1.. bytes off the end of the packet, or add some: the length disagrees.
        for cut in 1..=raw.len() {
            let got = decode_packet(&reference_cobs(&raw[..raw.len() - cut]));
            let want = if raw.len() - cut < 6 {
                FrameError::Short
            } else {
                FrameError::LengthMismatch
            };
            assert_eq!(got, Err(want), "cut {cut} of {}", raw.len());
        }
        for extra in 1..4 {
            let mut longer = raw.clone();
            longer.extend((0..extra).map(|_| rng.gen::<u8>()));
            assert_eq!(
                decode_packet(&reference_cobs(&longer)),
                Err(FrameError::LengthMismatch)
            );
        }
        // A correct len but a damaged payload byte: the CRC fails.
        if !p.payload.is_empty() {
            let mut bad = raw.clone();
            let i = rng.gen_range(4..raw.len() - 2);
            bad[i] ^= 1 << rng.gen_range(0..8);
            assert_eq!(decode_packet(&reference_cobs(&bad)), Err(FrameError::Crc));
        }
    }
}

#[test]
fn too_long_and_crc() {
    // len = payload length > 512: too long, even with a correct CRC.
    for n in [513usize, 516, 600] {
        let raw = raw_packet(4, 1, n as u16, &vec![7; n]);
        assert_eq!(
            decode_packet(&reference_cobs(&raw)),
            Err(FrameError::TooLong)
        );
    }
    // 512 is fine.
    let raw = raw_packet(4, 1, 512, &[7; 512]);
    assert!(decode_packet(&reference_cobs(&raw)).is_ok());
    // A too-long packet through the receiver: 516 payload bytes with zeros fit in COBS_MAX.
    let mut wire = reference_cobs(&raw_packet(4, 1, 516, &[0; 516]));
    assert!(wire.len() <= COBS_MAX);
    wire.push(0);
    assert_eq!(decode_stream(&wire), vec![Err(FrameError::TooLong)]);
    // A wrong CRC byte.
    let mut raw = raw_packet(1, 0, 0, &[]);
    raw[5] ^= 0x80;
    assert_eq!(decode_packet(&reference_cobs(&raw)), Err(FrameError::Crc));
}

#[test]
fn nak_reasons() {
    assert_eq!(FrameError::Crc.nak_reason(), NakReason::Crc);
    assert_eq!(FrameError::Cobs.nak_reason(), NakReason::Cobs);
    assert_eq!(FrameError::Short.nak_reason(), NakReason::Cobs);
    assert_eq!(FrameError::LengthMismatch.nak_reason(), NakReason::Length);
    assert_eq!(FrameError::TooLong.nak_reason(), NakReason::Length);
    assert_eq!(FrameError::Overflow.nak_reason(), NakReason::Length);
    for e in [
        FrameError::Cobs,
        FrameError::Short,
        FrameError::LengthMismatch,
        FrameError::TooLong,
        FrameError::Crc,
        FrameError::Overflow,
    ] {
        assert!(e.to_string().starts_with("bad frame: "), "{e}");
    }
}

/// Every single-bit flip of a frame (delimiter included) is detected: the receiver never
/// yields a packet other than the original.
#[test]
fn single_bit_flips_are_detected() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut frames: Vec<Packet> = vec![
        zo_proto::Request::Identify.to_packet(0),
        zo_proto::Request::ReadWeights { start: 3, count: 9 }.to_packet(200),
        Packet {
            kind: 3,
            seq: 1,
            payload: vec![0; 40],
        },
        Packet {
            kind: 4,
            seq: 2,
            payload: vec![0xFF; 300],
        },
    ];
    for _ in 0..6 {
        frames.push(random_packet(&mut rng, MAX_PAYLOAD));
    }
    let mut flips = 0;
    for p in &frames {
        let frame = encode_frame(p);
        for i in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[i] ^= 1 << bit;
                // Then a delimiter, in case the flip removed the original one.
                bad.push(0);
                let results = decode_stream(&bad);
                assert!(!results.is_empty(), "byte {i} bit {bit}: nothing received");
                for r in results {
                    assert!(r.is_err(), "byte {i} bit {bit} of {p:?}: got {r:?}");
                }
                flips += 1;
            }
        }
    }
    assert!(flips > 10_000);
}

#[test]
fn stream_with_garbage_resync_and_overflow() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut wire = vec![0u8, 0, 0];
    let mut sent = Vec::new();
    let mut garbage_frames = 0;
    for i in 0..400 {
        if i == 200 {
            // An over-long run: one Overflow, then everything up to the next 0x00 is dropped.
            wire.extend((0..COBS_MAX * 3).map(|_| rng.gen_range(1..=255u8)));
            garbage_frames += 1;
        } else if rng.gen_bool(0.5) {
            let n = rng.gen_range(1..30);
            wire.extend((0..n).map(|_| rng.gen_range(1..=255u8)));
            garbage_frames += 1;
        }
        // Resync: a 0x00 before each frame (two in a row are ignored).
        wire.push(0);
        if rng.gen_bool(0.3) {
            wire.push(0);
        }
        let p = random_packet(&mut rng, if i % 10 == 0 { MAX_PAYLOAD } else { 60 });
        wire.extend(encode_frame(&p));
        sent.push(p);
    }
    let results = decode_stream(&wire);
    let good: Vec<Packet> = results.iter().filter_map(|r| r.clone().ok()).collect();
    let errors: Vec<FrameError> = results.iter().filter_map(|r| r.clone().err()).collect();
    assert_eq!(good, sent);
    assert_eq!(errors.len(), garbage_frames);
    assert_eq!(
        errors
            .iter()
            .filter(|&&e| e == FrameError::Overflow)
            .count(),
        1
    );
}

#[test]
fn overflow_boundary() {
    // Exactly COBS_MAX bytes are decoded (and fail as a packet, not as an overflow).
    let mut rx = FrameDecoder::new();
    for _ in 0..COBS_MAX {
        assert_eq!(rx.push(0x01), None);
    }
    let r = rx.push(0);
    assert!(
        matches!(r, Some(Err(e)) if e != FrameError::Overflow),
        "{r:?}"
    );

    // One more: Overflow on the byte too many, then silence until the next 0x00.
    let mut rx = FrameDecoder::default();
    for _ in 0..COBS_MAX {
        assert_eq!(rx.push(0x01), None);
    }
    assert_eq!(rx.push(0x01), Some(Err(FrameError::Overflow)));
    for _ in 0..5000 {
        assert_eq!(rx.push(0x42), None);
    }
    assert_eq!(rx.push(0), None);
    assert_eq!(rx.push(0), None);
    let p = Packet {
        kind: 9,
        seq: 7,
        payload: vec![],
    };
    let out: Vec<_> = encode_frame(&p)
        .iter()
        .filter_map(|&b| rx.push(b))
        .collect();
    assert_eq!(out, vec![Ok(p)]);
}

#[test]
fn empty_frames_are_ignored() {
    let mut rx = FrameDecoder::new();
    for _ in 0..100 {
        assert_eq!(rx.push(0), None);
    }
}

#[test]
fn reset_forgets_partial_frame() {
    let mut rx = FrameDecoder::new();
    rx.push(0x05);
    rx.push(0x33);
    rx.reset();
    let p = Packet {
        kind: 1,
        seq: 0,
        payload: vec![],
    };
    let out: Vec<_> = encode_frame(&p)
        .iter()
        .filter_map(|&b| rx.push(b))
        .collect();
    assert_eq!(out, vec![Ok(p)]);
}
