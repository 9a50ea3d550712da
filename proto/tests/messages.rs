//! Messages: round trips of every request and response, and rejection of invalid fields.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_proto::{
    decode_packet, encode_frame, kind, ErrorCode, FrameDecoder, Identity, NakReason, Params,
    ProtoError, Request, Response, Sample, Status, MAX_PAYLOAD, MAX_READ_COUNT, MAX_WRITE_COUNT,
};

fn sample(rng: &mut ChaCha8Rng, n_in: usize) -> Sample {
    Sample {
        label: rng.gen(),
        features: (0..n_in).map(|_| rng.gen()).collect(),
    }
}

fn params(rng: &mut ChaCha8Rng) -> Params {
    Params {
        estimator: rng.gen_range(0..=2),
        loss: rng.gen_range(0..=1),
        sigma: rng.gen_range(0..=0x7FFF),
        eta_mant: rng.gen(),
        eta_shift: rng.gen_range(0..=31),
        batch: rng.gen_range(1..=u16::MAX),
        reseed: rng.gen(),
        seed: rng.gen(),
        out_shift: rng.gen_range(0..=31),
        momentum: rng.gen_range(0..=7),
    }
}

fn random_requests(rng: &mut ChaCha8Rng, n_in: usize) -> Vec<Request> {
    let max_samples = (MAX_PAYLOAD - 4) / (1 + n_in);
    let n_write = rng.gen_range(1..=MAX_WRITE_COUNT as usize);
    let n_samples = rng.gen_range(0..=max_samples);
    vec![
        Request::Identify,
        Request::ReadWeights {
            start: rng.gen(),
            count: rng.gen_range(1..=MAX_READ_COUNT),
        },
        Request::WriteWeights {
            start: rng.gen(),
            values: (0..n_write).map(|_| rng.gen()).collect(),
        },
        // The largest write: 4 + 2 * 252 = 508 bytes.
        Request::WriteWeights {
            start: rng.gen(),
            values: (0..MAX_WRITE_COUNT).map(|_| rng.gen()).collect(),
        },
        Request::LoadSamples {
            start: rng.gen(),
            samples: (0..n_samples).map(|_| sample(rng, n_in)).collect(),
        },
        // As many samples as fit.
        Request::LoadSamples {
            start: rng.gen(),
            samples: (0..max_samples).map(|_| sample(rng, n_in)).collect(),
        },
        Request::SetParams(params(rng)),
        Request::Train {
            first: rng.gen(),
            count: rng.gen_range(1..=u16::MAX),
            epochs: rng.gen_range(1..=u16::MAX),
        },
        Request::Evaluate {
            first: rng.gen(),
            count: rng.gen_range(1..=u16::MAX),
        },
        Request::Stop,
        Request::Status,
        Request::Infer(sample(rng, n_in)),
        Request::Reset,
    ]
}

fn random_status(rng: &mut ChaCha8Rng) -> Status {
    Status {
        state: rng.gen_range(0..=2),
        epoch: rng.gen(),
        job_done: rng.gen(),
        job_total: rng.gen(),
        samples: rng.gen(),
        updates: rng.gen(),
        saturations: rng.gen(),
        zero_updates: rng.gen(),
        loss_sum: rng.gen(),
        last_loss: rng.gen(),
        eval_count: rng.gen(),
        eval_correct: rng.gen(),
        eval_loss_sum: rng.gen(),
        probe_seed: rng.gen(),
        batch_pos: rng.gen(),
        device_cycles: rng.gen(),
    }
}

fn random_identity(rng: &mut ChaCha8Rng, name_len: usize) -> Identity {
    Identity {
        version: rng.gen(),
        n_in: rng.gen(),
        n_hid: rng.gen(),
        n_out: rng.gen(),
        n_weights: rng.gen(),
        sample_capacity: rng.gen(),
        max_payload: rng.gen(),
        w_frac: rng.gen(),
        x_frac: rng.gen(),
        z_frac: rng.gen(),
        limits: rng.gen(),
        clock_hz: rng.gen(),
        baud: rng.gen(),
        build_id: rng.gen(),
        cycles_per_sample: rng.gen(),
        name: (0..name_len)
            .map(|_| char::from(rng.gen_range(0..128u8)))
            .collect(),
    }
}

fn random_responses(rng: &mut ChaCha8Rng) -> Vec<Response> {
    let n_w = rng.gen_range(0..=MAX_READ_COUNT as usize);
    let n_out = rng.gen_range(1..=10);
    let name_len = rng.gen_range(0..=40);
    let mut v = vec![
        Response::Identity(random_identity(rng, name_len)),
        Response::Identity(random_identity(rng, 255)),
        Response::Weights {
            start: rng.gen(),
            values: (0..n_w).map(|_| rng.gen()).collect(),
        },
        // The largest response: 4 + 2 * 254 = 512 bytes.
        Response::Weights {
            start: rng.gen(),
            values: (0..MAX_READ_COUNT).map(|_| rng.gen()).collect(),
        },
        Response::Status(random_status(rng)),
        Response::Inference {
            class: rng.gen(),
            loss: rng.gen(),
            logits: (0..n_out).map(|_| rng.gen()).collect(),
        },
        Response::Error {
            request: rng.gen(),
            code: ErrorCode::from_u8(rng.gen_range(1..=5)).unwrap(),
            detail: rng.gen(),
        },
        Response::Nak(NakReason::from_u8(rng.gen_range(1..=3)).unwrap()),
    ];
    for request in [3u8, 4, 5, 6, 7, 8, 0x0B] {
        v.push(Response::Done { request });
    }
    v
}

/// Through the whole stack: message -> packet -> wire -> receiver -> packet -> message.
fn over_the_wire(p: &zo_proto::Packet) -> zo_proto::Packet {
    let wire = encode_frame(p);
    let mut rx = FrameDecoder::new();
    let mut got: Vec<_> = wire.iter().filter_map(|&b| rx.push(b)).collect();
    assert_eq!(got.len(), 1);
    got.pop().unwrap().expect("good frame")
}

#[test]
fn request_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for round in 0..300 {
        let n_in = match round % 4 {
            0 => 0,
            1 => 16,
            2 => rng.gen_range(1..64),
            _ => MAX_PAYLOAD - 1, // the largest INFER
        };
        for r in random_requests(&mut rng, n_in) {
            let seq = rng.gen();
            let p = r.to_packet(seq);
            assert_eq!(p.kind, r.kind());
            assert!(p.payload.len() <= MAX_PAYLOAD, "{r:?}");
            let back = over_the_wire(&p);
            assert_eq!(back.seq, seq);
            assert_eq!(
                Request::decode(back.kind, &back.payload, n_in),
                Ok(r.clone())
            );
            // The encoding is canonical.
            assert_eq!(back.payload, r.encode_payload());
        }
    }
}

#[test]
fn response_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..300 {
        for r in random_responses(&mut rng) {
            let seq = rng.gen();
            let p = r.to_packet(seq);
            assert_eq!(p.kind, r.kind());
            assert!(p.payload.len() <= MAX_PAYLOAD, "{r:?}");
            let back = over_the_wire(&p);
            assert_eq!(Response::decode(back.kind, &back.payload), Ok(r.clone()));
        }
    }
}

#[test]
fn kinds_and_layouts() {
    assert_eq!(Response::Done { request: 6 }.kind(), 0x86);
    assert!(Response::Done { request: 6 }.encode_payload().is_empty());
    assert_eq!(Response::Nak(NakReason::Length).kind(), kind::NAK);
    assert_eq!(Response::Nak(NakReason::Length).encode_payload(), [3]);
    assert_eq!(
        Response::Status(Status::default()).encode_payload().len(),
        64
    );
    let id = Identity {
        version: 2,
        n_in: 16,
        n_hid: 8,
        n_out: 4,
        n_weights: 172,
        sample_capacity: 256,
        max_payload: 512,
        w_frac: 12,
        x_frac: 8,
        z_frac: 8,
        limits: 0,
        clock_hz: 12_000_000,
        baud: 1_000_000,
        build_id: 0xDEADBEEF,
        cycles_per_sample: 577,
        name: "virtual-model".into(),
    };
    let payload = Response::Identity(id.clone()).encode_payload();
    assert_eq!(payload.len(), 31 + 13);
    assert_eq!(
        payload[..14],
        [2, 16, 8, 4, 172, 0, 0, 1, 0, 2, 12, 8, 8, 0]
    );
    assert_eq!(payload[14..18], 12_000_000u32.to_le_bytes());
    assert_eq!(payload[22..26], [0xEF, 0xBE, 0xAD, 0xDE]);
    assert_eq!(payload[30], 13);
    assert_eq!(&payload[31..], b"virtual-model");
    // Non-ASCII names are replaced, long ones cut at 255 bytes.
    let odd = Identity {
        name: format!("é{}", "x".repeat(300)),
        ..id
    };
    match Response::decode(0x81, &Response::Identity(odd).encode_payload()) {
        Ok(Response::Identity(back)) => {
            assert_eq!(back.name.len(), 255);
            assert!(back.name.starts_with("?x"));
        }
        other => panic!("{other:?}"),
    }
    let sp = Request::SetParams(Params {
        estimator: 1,
        loss: 0,
        sigma: 0x1234,
        eta_mant: 5,
        eta_shift: 9,
        batch: 0x0102,
        reseed: true,
        seed: 0x0A0B0C0D,
        out_shift: 17,
        momentum: 3,
    });
    assert_eq!(
        sp.encode_payload(),
        [1, 0, 0x34, 0x12, 5, 9, 0x02, 0x01, 1, 0x0D, 0x0C, 0x0B, 0x0A, 17, 3]
    );
    assert_eq!(
        Request::Train {
            first: 1,
            count: 2,
            epochs: 3
        }
        .encode_payload(),
        [1, 0, 2, 0, 3, 0]
    );
    for k in 0..=255u8 {
        assert!(!kind::name(k).is_empty());
    }
    assert_eq!(kind::name(kind::INFER), "INFER");
    assert_eq!(kind::name(0x8A), "INFER response");
    assert_eq!(kind::name(0x42), "unknown");
}

/// The ERROR code and detail a device answers with for a request payload.
fn answer(kind: u8, payload: &[u8], n_in: usize) -> (ErrorCode, u16) {
    Request::decode(kind, payload, n_in)
        .expect_err("must be rejected")
        .error_code()
}

#[test]
fn request_field_values_are_validated() {
    use ErrorCode::{BadLength, BadValue, UnknownType};
    let good = Request::SetParams(Params::default()).encode_payload();
    let with = |i: usize, v: u8| {
        let mut p = good.clone();
        p[i] = v;
        p
    };
    let cases: Vec<(u8, Vec<u8>, (ErrorCode, u16))> = vec![
        // Unknown types, including response types and zero.
        (0x00, vec![], (UnknownType, 0)),
        (0x0C, vec![], (UnknownType, 0)),
        (0x81, vec![], (UnknownType, 0)),
        (0x7F, vec![1, 2, 3, 4], (UnknownType, 0)),
        // READ_WEIGHTS count 1..=254.
        (kind::READ_WEIGHTS, vec![0, 0, 0, 0], (BadValue, 2)),
        (kind::READ_WEIGHTS, vec![0, 0, 255, 0], (BadValue, 2)),
        (kind::READ_WEIGHTS, vec![0, 0, 0, 1], (BadValue, 2)),
        (kind::READ_WEIGHTS, vec![0, 0, 1], (BadLength, 0)),
        (kind::READ_WEIGHTS, vec![0, 0, 1, 0, 0], (BadLength, 0)),
        // WRITE_WEIGHTS count 1..=252 and 4 + 2 * count bytes.
        (kind::WRITE_WEIGHTS, vec![0, 0, 0, 0], (BadValue, 2)),
        (kind::WRITE_WEIGHTS, vec![0, 0, 253, 0], (BadValue, 2)),
        (kind::WRITE_WEIGHTS, vec![0, 0, 1, 0, 9], (BadLength, 0)),
        (
            kind::WRITE_WEIGHTS,
            vec![0, 0, 1, 0, 9, 9, 9],
            (BadLength, 0),
        ),
        (kind::WRITE_WEIGHTS, vec![0, 0, 1], (BadLength, 0)),
        // LOAD_SAMPLES: records of 1 + n_in bytes (n_in = 3 below).
        (
            kind::LOAD_SAMPLES,
            vec![0, 0, 1, 0, 1, 2, 3],
            (BadLength, 0),
        ),
        (
            kind::LOAD_SAMPLES,
            vec![0, 0, 1, 0, 1, 2, 3, 4, 5],
            (BadLength, 0),
        ),
        (
            kind::LOAD_SAMPLES,
            vec![0, 0, 2, 0, 1, 2, 3, 4],
            (BadLength, 0),
        ),
        (kind::LOAD_SAMPLES, vec![0, 0], (BadLength, 0)),
        // SET_PARAMS fields, at their offsets.
        (kind::SET_PARAMS, with(0, 4), (BadValue, 0)),
        (kind::SET_PARAMS, with(1, 2), (BadValue, 1)),
        (kind::SET_PARAMS, with(3, 0x80), (BadValue, 2)),
        (kind::SET_PARAMS, with(5, 32), (BadValue, 5)),
        (kind::SET_PARAMS, with(6, 0), (BadValue, 6)),
        (kind::SET_PARAMS, with(8, 2), (BadValue, 8)),
        (kind::SET_PARAMS, with(8, 0x81), (BadValue, 8)),
        (kind::SET_PARAMS, with(13, 32), (BadValue, 13)),
        (kind::SET_PARAMS, with(14, 8), (BadValue, 14)),
        (kind::SET_PARAMS, good[..14].to_vec(), (BadLength, 0)),
        (kind::SET_PARAMS, [&good[..], &[0]].concat(), (BadLength, 0)),
        // TRAIN count and epochs, EVALUATE count 1..=65535 (first count, then epochs).
        (kind::TRAIN, vec![0, 0, 0, 0, 1, 0], (BadValue, 2)),
        (kind::TRAIN, vec![0, 0, 1, 0, 0, 0], (BadValue, 4)),
        (kind::TRAIN, vec![0; 6], (BadValue, 2)),
        (kind::EVALUATE, vec![0xFF, 0xFF, 0, 0], (BadValue, 2)),
        // Fixed lengths (before the values).
        (kind::TRAIN, vec![0; 5], (BadLength, 0)),
        (kind::TRAIN, vec![0; 7], (BadLength, 0)),
        (kind::EVALUATE, vec![0; 3], (BadLength, 0)),
        (kind::IDENTIFY, vec![0], (BadLength, 0)),
        (kind::STOP, vec![0], (BadLength, 0)),
        (kind::STATUS, vec![0], (BadLength, 0)),
        (kind::RESET, vec![0], (BadLength, 0)),
        // INFER: 1 + n_in bytes.
        (kind::INFER, vec![0; 3], (BadLength, 0)),
        (kind::INFER, vec![0; 5], (BadLength, 0)),
        (kind::INFER, vec![], (BadLength, 0)),
    ];
    for (k, payload, want) in cases {
        assert_eq!(
            answer(k, &payload, 3),
            want,
            "{} {payload:02x?}",
            kind::name(k)
        );
    }
    // The first invalid field by offset is reported.
    let mut p = good.clone();
    p[5] = 40;
    p[0] = 9;
    assert_eq!(answer(kind::SET_PARAMS, &p, 3), (BadValue, 0));
    // Boundaries that are accepted.
    let ok = |k: u8, p: &[u8]| Request::decode(k, p, 3).expect("accepted");
    ok(kind::READ_WEIGHTS, &[0, 0, 254, 0]);
    ok(kind::READ_WEIGHTS, &[0xFF, 0xFF, 1, 0]);
    ok(kind::SET_PARAMS, &with(3, 0x7F));
    ok(kind::SET_PARAMS, &with(5, 31));
    ok(kind::SET_PARAMS, &with(8, 0));
    ok(kind::SET_PARAMS, &with(0, 2));
    ok(kind::SET_PARAMS, &with(0, 3));
    ok(kind::SET_PARAMS, &with(13, 31));
    ok(kind::SET_PARAMS, &with(14, 7));
    ok(kind::TRAIN, &[0xFF, 0xFF, 1, 0, 1, 0]);
    ok(kind::TRAIN, &[0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    ok(kind::EVALUATE, &[0xFF, 0xFF, 1, 0]);
    ok(kind::LOAD_SAMPLES, &[0, 0, 0, 0]);
    ok(kind::LOAD_SAMPLES, &[0, 0, 1, 0, 9, 1, 2, 3]);
    ok(kind::INFER, &[9, 1, 2, 3]);
    // Labels are not checked here (the device knows n_out).
    assert_eq!(
        ok(kind::INFER, &[255, 1, 2, 3]),
        Request::Infer(Sample {
            label: 255,
            features: vec![1, 2, 3]
        })
    );
    // Absurd n_in never panics.
    assert_eq!(answer(kind::INFER, &[1], usize::MAX), (BadLength, 0));
    assert_eq!(
        answer(kind::LOAD_SAMPLES, &[0, 0, 1, 0, 1], usize::MAX),
        (BadLength, 0)
    );
}

#[test]
fn error_messages_name_the_problem() {
    let e = Request::decode(
        kind::SET_PARAMS,
        &[0, 1, 0, 1, 1, 40, 1, 0, 0, 1, 0, 0, 0, 15, 0],
        3,
    )
    .unwrap_err();
    assert_eq!(
        e,
        ProtoError::BadValue {
            kind: kind::SET_PARAMS,
            offset: 5,
            what: "eta_shift (must be 0..=31)"
        }
    );
    assert!(e.to_string().contains("SET_PARAMS"), "{e}");
    assert!(e.to_string().contains("eta_shift"), "{e}");
    let e = Request::decode(kind::INFER, &[1, 2], 16).unwrap_err();
    assert!(e.to_string().contains("17"), "{e}");
    assert_eq!(
        Request::decode(0x42, &[], 16).unwrap_err().to_string(),
        "unknown message type 0x42"
    );
    for code in 1..=5 {
        let c = ErrorCode::from_u8(code).unwrap();
        assert_eq!(c as u8, code);
        assert_eq!(ErrorCode::try_from(code), Ok(c));
        assert!(c.to_string().starts_with(c.name()), "{c}");
    }
    assert_eq!(ErrorCode::from_u8(0), None);
    assert_eq!(ErrorCode::from_u8(6), None);
    assert_eq!(NakReason::from_u8(4), None);
    assert_eq!(NakReason::try_from(2), Ok(NakReason::Cobs));
}

#[test]
fn response_decode_rejects_bad_payloads() {
    let bad_len = |k: u8, p: &[u8]| {
        assert!(
            matches!(Response::decode(k, p), Err(ProtoError::BadLength { .. })),
            "{k:02x} {p:02x?}"
        )
    };
    bad_len(0x81, &[0; 30]);
    bad_len(0x81, &[0; 32]); // name_len 0 but one name byte
    bad_len(0x82, &[0, 0, 2, 0, 1, 2]);
    bad_len(0x82, &[0, 0]);
    bad_len(0x83, &[0]);
    bad_len(0x8B, &[0]);
    bad_len(0x89, &[0; 63]);
    bad_len(0x89, &[0; 65]);
    bad_len(0x8A, &[0; 4]);
    bad_len(0x8A, &[0; 6]);
    bad_len(kind::ERROR, &[1, 2, 3]);
    bad_len(kind::NAK, &[]);
    bad_len(kind::NAK, &[1, 1]);
    // Responses with data are not Done.
    bad_len(0x81, &[]);
    bad_len(0x89, &[]);
    let bad_value = |k: u8, p: &[u8], offset: u16| match Response::decode(k, p) {
        Err(ProtoError::BadValue { offset: o, .. }) => assert_eq!(o, offset),
        other => panic!("{k:02x} {p:02x?}: {other:?}"),
    };
    bad_value(kind::ERROR, &[1, 0, 0, 0], 1);
    bad_value(kind::ERROR, &[1, 6, 0, 0], 1);
    bad_value(kind::NAK, &[0], 0);
    bad_value(kind::NAK, &[4], 0);
    let mut id = vec![0u8; 33];
    id[30] = 2;
    id[32] = 0x80;
    bad_value(0x81, &id, 32);
    for k in [0x00u8, 0x01, 0x0B, 0x80, 0x8C, 0xFF, 0x7D] {
        assert_eq!(Response::decode(k, &[]), Err(ProtoError::UnknownType(k)));
    }
    // Reserved fields are ignored.
    let mut st = Response::Status(Status::default()).encode_payload();
    st[1] = 0xAA;
    st[54] = 0x55;
    assert_eq!(
        Response::decode(0x89, &st),
        Ok(Response::Status(Status::default()))
    );
}

/// Decoders are total: random kinds and payloads never panic, and anything that decodes
/// survives a round trip.
#[test]
fn decoders_are_total_on_random_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for _ in 0..100_000 {
        let k: u8 = rng.gen();
        let len = rng.gen_range(0..80);
        let payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let n_in = rng.gen_range(0..8);
        if let Ok(r) = Request::decode(k, &payload, n_in) {
            assert_eq!(r.kind(), k);
            assert_eq!(r.encode_payload(), payload);
        }
        if let Ok(r) = Response::decode(k, &payload) {
            assert_eq!(r.kind(), k);
            assert_eq!(Response::decode(k, &r.encode_payload()), Ok(r));
        }
        let _ = decode_packet(&payload);
    }
}
