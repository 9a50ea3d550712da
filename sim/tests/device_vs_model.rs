//! The rust-hdl protocol engine and the reference device (`zo_sim::device::reference::Device`
//! over the model) answer every request with the same bytes: identity, errors in the decoder's
//! order, weights, samples, parameters, training and evaluation jobs, inference, replays, NAKs,
//! reset.
//!
//! Over 600 lines for a reason: every request family of docs/PROTOCOL.md is checked through one
//! `Pair` of engine and reference device, and the protocol fixes of issue 11 are adding their
//! tests here while they land; split by request family once they have.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_hdl::config::Shape;
use zo_proto::{
    decode_packet, encode_frame, ErrorCode, FrameDecoder, Identity, Packet, Request, Response,
    Sample, Status,
};
use zo_sim::data::schedule::init_weights;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::rtl_device::RtlDevice;
use zo_sim::harness::compare::difference;
use zo_sim::harness::fixtures::test_params;
use zo_sim::model::Model;

const SHAPE: Shape = Shape::new(5, 4, 3);
const CAPACITY: u16 = 16;

struct Pair {
    model: Device<Model>,
    rtl: RtlDevice<6, 7>,
    seq: u8,
    compared: usize,
    /// Mutation tests: `(exchange, byte, mask)` flips bits of one byte of the RTL's answer on
    /// the wire in the given exchange (counted from 0).
    fault: Option<(usize, usize, u8)>,
}

impl Pair {
    fn new() -> Self {
        Self::with_info(DeviceInfo {
            sample_capacity: CAPACITY,
            ..DeviceInfo::default()
        })
    }

    fn with_info(info: DeviceInfo) -> Self {
        Self {
            rtl: RtlDevice::new(SHAPE, &info),
            model: Device::new(Model::new(SHAPE, 1), info),
            seq: 0,
            compared: 0,
            fault: None,
        }
    }

    /// Sends raw wire bytes to both; the answers must be identical. Returns them, or where
    /// they first differ.
    fn try_wire(&mut self, bytes: &[u8], what: &str) -> Result<Vec<u8>, String> {
        let m = self.model.receive(bytes);
        let frames = m.iter().filter(|&&b| b == 0).count();
        let mut r = self.rtl.transact(bytes, frames.max(1), 200_000);
        if let Some((exchange, byte, mask)) = self.fault {
            if exchange == self.compared {
                r[byte] ^= mask;
            }
        }
        let exchange = self.compared;
        self.compared += 1;
        match difference(&r, &m) {
            None => Ok(m),
            Some(d) => Err(format!(
                "exchange {exchange} ({what}): {d}; RTL answered {r:02x?}, model {m:02x?}"
            )),
        }
    }

    fn wire(&mut self, bytes: &[u8], what: &str) -> Vec<u8> {
        self.try_wire(bytes, what).unwrap_or_else(|e| panic!("{e}"))
    }

    fn packet(&mut self, kind: u8, payload: Vec<u8>, what: &str) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        let p = Packet {
            kind,
            seq: self.seq,
            payload,
        };
        self.wire(&encode_frame(&p), what)
    }

    fn request(&mut self, r: &Request, what: &str) -> Vec<u8> {
        self.packet(r.kind(), r.encode_payload(), what)
    }

    /// Runs the background job on both to completion.
    fn finish_job(&mut self) {
        while self.model.step() {}
        self.rtl.run_job(50_000_000);
        assert!(!self.rtl.job_running(), "the RTL job did not finish");
    }

    /// Lets the training job finish, then compares the status and all `n_weights` weights.
    fn finish_training(&mut self, n_weights: usize) {
        self.finish_job();
        self.request(&Request::Status, "status after training");
        self.request(
            &Request::ReadWeights {
                start: 0,
                count: n_weights as u16,
            },
            "weights after training",
        );
    }
}

/// The single response in `wire`, decoded.
fn response(wire: &[u8]) -> Response {
    let mut rx = FrameDecoder::new();
    let frames: Vec<Packet> = wire
        .iter()
        .filter_map(|&b| rx.push(b))
        .map(|f| f.expect("a good frame"))
        .collect();
    assert_eq!(frames.len(), 1, "one response in {wire:02x?}");
    Response::decode(frames[0].kind, &frames[0].payload).expect("a valid response")
}

fn error(request: u8, code: ErrorCode, detail: u16) -> Response {
    Response::Error {
        request,
        code,
        detail,
    }
}

fn status(wire: &[u8]) -> Status {
    match response(wire) {
        Response::Status(s) => s,
        other => panic!("expected a status, got {other:?}"),
    }
}

fn set_params(estimator: u8, loss: u8, batch: u16, seed: u32) -> Request {
    Request::SetParams(test_params(estimator, loss, batch, seed))
}

#[test]
fn engine_answers_like_the_reference_device() {
    let mut d = Pair::new();
    d.request(&Request::Identify, "identify");
    d.request(&Request::Status, "status after power-on");

    // Errors, in the decoder's order of checks.
    d.packet(0x20, vec![], "unknown type");
    d.packet(0x09, vec![1], "status with a payload");
    d.packet(0x02, vec![0, 0, 0], "read: short");
    d.packet(0x02, vec![0, 0, 0, 0], "read: count 0");
    d.packet(0x02, vec![0, 0, 255, 0], "read: count 255");
    d.packet(0x02, vec![60, 0, 4, 0], "read: out of range");
    d.packet(0x03, vec![0, 0, 1, 0, 7], "write: length mismatch");
    d.packet(0x03, vec![0, 0, 253, 0], "write: count 253");
    d.packet(0x03, vec![40, 0, 2, 0, 1, 0, 2, 0], "write: out of range");
    d.packet(0x04, vec![0, 0, 1, 0, 0], "load: length mismatch");
    d.packet(
        0x04,
        vec![15, 0, 2, 0, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5],
        "load: out of range",
    );
    d.packet(
        0x04,
        vec![0, 0, 2, 0, 0, 1, 2, 3, 4, 5, 3, 1, 2, 3, 4, 5],
        "load: bad label",
    );
    for (offset, value) in [(0usize, 4u8), (1, 2), (3, 0x80), (5, 32), (6, 0), (8, 2)] {
        let mut p = set_params(0, 1, 1, 1).encode_payload();
        p[offset] = value;
        if offset == 6 {
            p[7] = 0;
        }
        d.packet(0x05, p, &format!("set params: bad byte {offset}"));
    }
    d.packet(0x05, vec![0; 12], "set params: short");
    d.packet(0x06, vec![0, 0, 0, 0, 1, 0], "train: count 0");
    d.packet(0x06, vec![0, 0, 1, 0, 0, 0], "train: epochs 0");
    d.packet(0x06, vec![10, 0, 7, 0, 1, 0], "train: out of range");
    d.packet(0x07, vec![0, 0, 0, 0], "evaluate: count 0");
    d.packet(0x0A, vec![0, 1, 2], "infer: short");
    d.packet(0x0A, vec![3, 1, 2, 3, 4, 5], "infer: bad label");

    // Weights, samples, parameters.
    let w0 = init_weights(SHAPE, 2);
    d.request(
        &Request::WriteWeights {
            start: 0,
            values: w0.clone(),
        },
        "write weights",
    );
    d.request(
        &Request::ReadWeights {
            start: 0,
            count: w0.len() as u16,
        },
        "read weights",
    );
    d.request(&Request::ReadWeights { start: 7, count: 5 }, "read a block");
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let samples: Vec<Sample> = (0..CAPACITY)
        .map(|_| Sample {
            label: rng.gen_range(0..3),
            features: (0..5).map(|_| rng.gen()).collect(),
        })
        .collect();
    d.request(
        &Request::LoadSamples {
            start: 0,
            samples: samples.clone(),
        },
        "load samples",
    );
    d.request(
        &Request::LoadSamples {
            start: 3,
            samples: vec![],
        },
        "load nothing",
    );

    for (i, (estimator, loss, batch)) in [
        (0u8, 1u8, 1u16),
        (1, 0, 3),
        (0, 0, 4),
        (1, 1, 1),
        (2, 1, 1),
        (2, 0, 2),
    ]
    .into_iter()
    .enumerate()
    {
        d.request(
            &set_params(estimator, loss, batch, 40 + i as u32),
            "set params",
        );
        d.request(
            &Request::Train {
                first: 2,
                count: 11,
                epochs: 2,
            },
            "train",
        );
        d.request(
            &Request::ReadWeights { start: 0, count: 2 },
            "busy during a job",
        );
        d.finish_training(w0.len());
        d.request(
            &Request::Evaluate {
                first: 0,
                count: 16,
            },
            "evaluate",
        );
        d.finish_job();
        d.request(&Request::Status, "status after evaluation");
        for s in &samples[..3] {
            d.request(&Request::Infer(s.clone()), "infer");
        }
    }

    // A retransmission is answered from the stored response, not executed again.
    let again = encode_frame(&Packet {
        kind: 0x06,
        seq: d.seq,
        payload: vec![0, 0, 1, 0, 1, 0],
    });
    d.wire(&again, "replay of the last request");
    // Damaged frames get NAKs, and the stored response survives them.
    let mut bad = encode_frame(&Request::Status.to_packet(200));
    bad[2] ^= 0x10;
    d.wire(&bad, "bad CRC");
    d.wire(&[0x03, 0x01, 0x00], "bad COBS");
    d.wire(&[0x02, 0x05, 0x00], "short packet");
    d.wire(&again, "replay after NAKs");
    d.request(&Request::Stop, "stop without a job");
    d.request(&Request::Reset, "reset");
    d.request(&Request::Status, "status after reset");
    d.request(&Request::Identify, "identify after reset");
    assert!(d.compared > 60);
}

/// After 100 000 random bytes (frames of garbage, NAKs, possible accidental commands), a
/// delimiter and an IDENTIFY get the correct identity.
#[test]
fn engine_recovers_from_100k_random_bytes() {
    let mut d = Pair::new();
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.gen()).collect();
    for chunk in noise.chunks(1000) {
        d.rtl.feed(chunk, 2);
        d.rtl.take_output();
    }
    // Let any answer to the noise finish, then flush a partial frame.
    for _ in 0..20_000 {
        d.rtl.tick();
    }
    d.rtl.take_output();
    let identify = encode_frame(&Request::Identify.to_packet(77));
    let mut wire = vec![0u8];
    wire.extend(&identify);
    let expected = Device::new(
        Model::new(SHAPE, 1),
        DeviceInfo {
            sample_capacity: CAPACITY,
            ..DeviceInfo::default()
        },
    )
    .receive(&identify);
    // The leading delimiter ends whatever garbage frame was open: that one may get a NAK first.
    let got = d.rtl.transact(&wire, 2, 200_000);
    assert!(
        got.ends_with(&expected),
        "identity after noise: got {got:02x?}, want {expected:02x?}"
    );
    assert!(
        got.len() <= expected.len() + 9,
        "more than one NAK before the identity"
    );
}

/// A build without mini-batch accumulators and without the exact output layer (the iCE40
/// boards' default): IDENTIFY says so, SET_PARAMS with batch > 1 gets OUT_OF_RANGE (detail 1),
/// with momentum OUT_OF_RANGE (detail 0), with the hybrid estimator OUT_OF_RANGE (detail 1),
/// and none changes anything; batch 1 trains exactly as the model does.
#[test]
fn engine_without_accumulators_answers_like_the_reference_device() {
    let mut d = Pair::with_info(DeviceInfo {
        sample_capacity: CAPACITY,
        batch_accumulators: false,
        exact_output: false,
        ..DeviceInfo::default()
    });
    let id = d.request(&Request::Identify, "identify");
    match response(&id) {
        Response::Identity(i) => {
            assert_eq!(i.limits, Identity::NO_BATCH | Identity::NO_HYBRID);
            assert_eq!(
                (i.max_batch(), i.max_momentum(), i.max_estimator()),
                (1, 0, 1)
            );
        }
        other => panic!("{other:?}"),
    }
    let k = zo_proto::kind::SET_PARAMS;
    let hybrid = d.request(&set_params(2, 1, 1, 9), "hybrid refused");
    assert_eq!(response(&hybrid), error(k, ErrorCode::OutOfRange, 1));
    let mut p = test_params(0, 1, 1, 9);
    p.momentum = 3;
    let momentum = d.request(&Request::SetParams(p), "momentum refused");
    assert_eq!(response(&momentum), error(k, ErrorCode::OutOfRange, 0));
    // Both at once: momentum is checked first (docs/PROTOCOL.md, order of checks).
    p.estimator = 2;
    let both = d.request(&Request::SetParams(p), "momentum and hybrid refused");
    assert_eq!(response(&both), error(k, ErrorCode::OutOfRange, 0));
    let weights: Vec<i16> = (0..SHAPE.n_weights() as i16)
        .map(|i| (i * 97) % 900 - 450)
        .collect();
    d.request(
        &Request::WriteWeights {
            start: 0,
            values: weights.clone(),
        },
        "write weights",
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let samples: Vec<Sample> = (0..6)
        .map(|_| Sample {
            label: rng.gen_range(0..SHAPE.n_out as u8),
            features: (0..SHAPE.n_in).map(|_| rng.gen()).collect(),
        })
        .collect();
    d.request(&Request::LoadSamples { start: 0, samples }, "load samples");
    for batch in [2u16, 3, 0xFFFF] {
        d.request(&set_params(0, 1, batch, 9), "batch above 1 refused");
    }
    d.request(&Request::Status, "status: nothing changed");
    d.request(&set_params(0, 1, 1, 9), "batch 1 accepted");
    d.request(
        &Request::Train {
            first: 0,
            count: 6,
            epochs: 3,
        },
        "train",
    );
    d.finish_training(SHAPE.n_weights());
    d.request(&Request::Reset, "reset");
    d.request(&Request::Status, "status after reset");
}

fn random_samples(n: u16, seed: u64) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Sample {
            label: rng.gen_range(0..SHAPE.n_out as u8),
            features: (0..SHAPE.n_in).map(|_| rng.gen()).collect(),
        })
        .collect()
}

/// docs/PROTOCOL.md, order of checks: every check of the packet alone (lengths and values,
/// TRAIN's and EVALUATE's count and epochs included) comes before BUSY, so during a job a count
/// or epochs of 0 gets BAD_VALUE, as it does without one; the device's checks (the sample and
/// weight ranges) come after BUSY; without a job the values come before the sample range.
#[test]
fn value_checks_come_before_busy() {
    let mut d = Pair::new();
    let train = |first: u16, count: u16, epochs: u16| Request::Train {
        first,
        count,
        epochs,
    };
    // Encoded by hand: the codec refuses to decode these, but a client may send them.
    let train_raw = |first: u16, count: u16, epochs: u16| {
        [
            first.to_le_bytes(),
            count.to_le_bytes(),
            epochs.to_le_bytes(),
        ]
        .concat()
    };
    let r = d.request(&train(0, 16, 1000), "a long job");
    assert_eq!(response(&r), Response::Done { request: 0x06 });
    assert!(d.rtl.job_running() && d.model.busy());
    let value_cases = |d: &mut Pair, when: &str| {
        for (kind, payload, detail, what) in [
            (0x06, train_raw(0, 0, 1), 2, "train: count 0"),
            (0x06, train_raw(0, 1, 0), 4, "train: epochs 0"),
            (
                0x06,
                train_raw(100, 0, 0),
                2,
                "train: count 0, epochs 0, outside",
            ),
            (0x06, train_raw(100, 1, 0), 4, "train: epochs 0, outside"),
            (
                0x07,
                train_raw(0, 0, 0)[..4].to_vec(),
                2,
                "evaluate: count 0",
            ),
            (
                0x07,
                train_raw(100, 0, 0)[..4].to_vec(),
                2,
                "evaluate: count 0, outside",
            ),
            (0x02, vec![0, 0, 0, 0], 2, "read: count 0"),
        ] {
            let what = format!("{when}: {what}");
            assert_eq!(
                response(&d.packet(kind, payload, &what)),
                error(kind, ErrorCode::BadValue, detail),
                "{what}"
            );
        }
        let r = d.packet(0x06, vec![1; 5], &format!("{when}: train: short"));
        assert_eq!(response(&r), error(0x06, ErrorCode::BadLength, 0), "{when}");
    };
    value_cases(&mut d, "during a job");
    // The device's checks come after BUSY.
    for req in [
        train(10, 7, 1),
        Request::Evaluate {
            first: 10,
            count: 7,
        },
        Request::ReadWeights {
            start: 60,
            count: 4,
        },
    ] {
        let k = req.kind();
        assert_eq!(
            response(&d.request(&req, "outside, during a job")),
            error(k, ErrorCode::Busy, 0),
            "{req:?}"
        );
    }
    let r = d.request(&Request::Stop, "stop");
    assert_eq!(response(&r), Response::Done { request: 0x08 });
    assert!(!d.rtl.job_running() && !d.model.busy());
    value_cases(&mut d, "idle");
    for req in [
        train(10, 7, 1),
        Request::Evaluate {
            first: 10,
            count: 7,
        },
    ] {
        let k = req.kind();
        assert_eq!(
            response(&d.request(&req, "outside, idle")),
            error(k, ErrorCode::OutOfRange, CAPACITY),
            "{req:?}"
        );
    }
}

/// docs/PROTOCOL.md section 3: ERROR answers are stored and replayed; replay is keyed on seq
/// alone (another request with the stored seq is not executed); an executed RESET forgets the
/// stored answer, a refused one does not.
#[test]
fn replay_covers_errors_and_is_keyed_on_seq_alone() {
    let mut d = Pair::new();
    let refused = d.request(
        &Request::ReadWeights { start: 0, count: 0 },
        "read: count 0",
    );
    assert_eq!(response(&refused), error(0x02, ErrorCode::BadValue, 2));
    let seq = d.seq;
    let executed = d.model.executed.len();
    for (req, what) in [
        (
            Request::ReadWeights { start: 0, count: 0 },
            "the same request",
        ),
        (Request::Identify, "IDENTIFY with the stored seq"),
        (Request::Reset, "RESET with the stored seq"),
    ] {
        let again = d.wire(&encode_frame(&req.to_packet(seq)), what);
        assert_eq!(again, refused, "{what}: replayed");
    }
    assert_eq!(d.model.executed.len(), executed, "nothing executed again");
    // A refused RESET is stored too; an executed one forgets.
    let bad_reset = d.packet(0x0B, vec![1], "reset with a payload");
    assert_eq!(response(&bad_reset), error(0x0B, ErrorCode::BadLength, 0));
    let again = d.wire(
        &encode_frame(&Request::Status.to_packet(d.seq)),
        "status, same seq",
    );
    assert_eq!(again, bad_reset);
    let reset = d.request(&Request::Reset, "reset");
    let reset_seq = d.seq;
    assert_eq!(response(&reset), Response::Done { request: 0x0B });
    let after = d.wire(
        &encode_frame(&Request::Status.to_packet(reset_seq)),
        "status with the reset's seq",
    );
    assert_eq!(
        status(&after),
        Status {
            probe_seed: 1,
            ..Status::default()
        },
        "executed after RESET; RESET leaves a zero status with probe seed 1"
    );
}

/// docs/PROTOCOL.md, Jobs: EVALUATE replaces the eval results, adds `W + 2 n_out + 19` device
/// cycles per sample, advances job_done and epoch, and changes no weight, learner counter,
/// probe seed or batch position; TRAIN keeps the eval results. The eval results equal the sums
/// of INFER over the same samples.
#[test]
fn evaluate_replaces_its_results_and_changes_no_counter() {
    let mut d = Pair::new();
    let w0 = init_weights(SHAPE, 6);
    d.request(
        &Request::WriteWeights {
            start: 0,
            values: w0.clone(),
        },
        "write weights",
    );
    let samples = random_samples(CAPACITY, 8);
    d.request(
        &Request::LoadSamples {
            start: 0,
            samples: samples.clone(),
        },
        "load samples",
    );
    // Batch 4 over 7 samples exercises the accumulators, which EVALUATE must not touch.
    d.request(&set_params(0, 1, 4, 3), "set params");
    d.request(
        &Request::Train {
            first: 0,
            count: 7,
            epochs: 1,
        },
        "train",
    );
    d.finish_job();
    let before = status(&d.request(&Request::Status, "status after training"));
    assert_eq!(
        (before.eval_count, before.epoch, before.job_done),
        (0, 1, 7)
    );
    let w = SHAPE.n_weights() as u64;
    let infer_cycles = w + 2 * SHAPE.n_out as u64 + 19;
    let evaluate = |d: &mut Pair, first: u16, count: u16| {
        let r = d.request(&Request::Evaluate { first, count }, "evaluate");
        assert_eq!(response(&r), Response::Done { request: 0x07 });
        d.finish_job();
        status(&d.request(&Request::Status, "status after evaluation"))
    };
    let all = evaluate(&mut d, 0, 16);
    let part = evaluate(&mut d, 3, 5);
    for (s, count, cycles) in [(all, 16, 16), (part, 5, 21)] {
        let unchanged = Status {
            eval_count: s.eval_count,
            eval_correct: s.eval_correct,
            eval_loss_sum: s.eval_loss_sum,
            device_cycles: s.device_cycles,
            epoch: s.epoch,
            job_done: s.job_done,
            job_total: s.job_total,
            ..before
        };
        assert_eq!(s, unchanged, "EVALUATE changed only its own fields");
        assert_eq!(s.eval_count, count, "eval_count replaced, not accumulated");
        assert_eq!(
            (s.state, s.epoch, s.job_done, s.job_total),
            (0, 1, count, count)
        );
        assert_eq!(
            s.device_cycles,
            before.device_cycles + cycles * infer_cycles
        );
    }
    // The results of the last EVALUATE are the sums of INFER over its samples.
    let (mut correct, mut loss) = (0u32, 0u32);
    for s in &samples[3..8] {
        match response(&d.request(&Request::Infer(s.clone()), "infer")) {
            Response::Inference { class, loss: l, .. } => {
                correct += u32::from(class == s.label);
                loss = loss.wrapping_add(l);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((part.eval_correct, part.eval_loss_sum), (correct, loss));
    let r = d.request(
        &Request::ReadWeights {
            start: 0,
            count: w0.len() as u16,
        },
        "weights after evaluation",
    );
    let trained = response(&r);
    d.request(
        &Request::Train {
            first: 0,
            count: 2,
            epochs: 1,
        },
        "train again",
    );
    d.finish_job();
    let after = status(&d.request(&Request::Status, "status after training again"));
    assert_eq!(
        (after.eval_count, after.eval_correct, after.eval_loss_sum),
        (part.eval_count, part.eval_correct, part.eval_loss_sum),
        "TRAIN keeps the eval results"
    );
    assert!(matches!(trained, Response::Weights { .. }));
}

/// docs/PROTOCOL.md, Parameters: a zero seed is replaced by 1 before both generators are
/// derived, so seed 0 trains exactly as seed 1 with every estimator (and seed 2 does not).
#[test]
fn zero_seed_trains_as_seed_one() {
    let run = |estimator: u8, seed: u32| {
        let mut d = Pair::new();
        d.request(
            &Request::WriteWeights {
                start: 0,
                values: init_weights(SHAPE, 5),
            },
            "write weights",
        );
        d.request(
            &Request::LoadSamples {
                start: 0,
                samples: random_samples(12, 9),
            },
            "load samples",
        );
        let mut out = vec![d.request(&set_params(estimator, 1, 1, seed), "set params")];
        out.push(d.request(&Request::Status, "status after the seed"));
        d.request(
            &Request::Train {
                first: 0,
                count: 12,
                epochs: 3,
            },
            "train",
        );
        d.finish_job();
        out.push(d.request(&Request::Status, "status after training"));
        out.push(d.request(
            &Request::ReadWeights {
                start: 0,
                count: SHAPE.n_weights() as u16,
            },
            "weights after training",
        ));
        out
    };
    for estimator in [0, 1, 2, 3] {
        let one = run(estimator, 1);
        assert_eq!(run(estimator, 0), one, "estimator {estimator}: seed 0 vs 1");
        let two = run(estimator, 2);
        assert_ne!(
            two[3], one[3],
            "estimator {estimator}: seed 2 trains differently"
        );
    }
}

/// The `frame` blocks of docs/PROTOCOL.md 4.4, each from power-on, on the reference device and
/// the rust-hdl engine: exactly the documented answers.
#[test]
fn protocol_md_examples_on_both_engines() {
    let doc = include_str!("../../docs/PROTOCOL.md");
    assert!(
        doc.contains("`n_in` 5, `n_hid` 4, `n_out` 3") && doc.contains("`C` = 16"),
        "the examples' device is this test's"
    );
    let mut exchanges = 0;
    let blocks =
        zo_proto::examples::frame_blocks(doc).unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"));
    for block in blocks {
        let mut d = Pair::new();
        for ex in block {
            let what = ex.what.as_str();
            let got = d.wire(&zo_proto::frame_raw(&ex.request), what);
            assert_eq!(got.last(), Some(&0), "{what}: one frame");
            let packet =
                decode_packet(&got[..got.len() - 1]).unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let raw = zo_proto::packet_bytes(&packet).unwrap();
            assert_eq!(raw, ex.response, "{what}: the device's answer");
            exchanges += 1;
        }
    }
    assert!(exchanges >= 19, "{exchanges} exchanges in PROTOCOL.md");
}

/// Mutation test of the protocol comparison: one flipped bit in one byte of the engine's
/// answer on the wire must fail it, naming the exchange and the byte.
#[test]
fn comparison_catches_one_flipped_bit_on_the_wire() {
    let mut clean = Pair::new();
    clean.request(&Request::Identify, "identify");
    clean.request(&Request::Status, "status");
    let mut d = Pair::new();
    d.fault = Some((1, 6, 0x08));
    d.try_wire(&encode_frame(&Request::Identify.to_packet(1)), "identify")
        .expect("exchange 0 is untouched");
    let e = d
        .try_wire(&encode_frame(&Request::Status.to_packet(2)), "status")
        .expect_err("a flipped bit on the wire is caught");
    assert!(e.starts_with("exchange 1 (status): byte 6: got "), "{e}");
}
