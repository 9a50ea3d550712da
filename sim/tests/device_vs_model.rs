//! The rust-hdl protocol engine and the reference device (`zo_sim::board::Device` over the
//! model) answer every request with the same bytes: identity, errors in the decoder's order,
//! weights, samples, parameters, training and evaluation jobs, inference, replays, NAKs, reset.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_hdl::config::Shape;
use zo_proto::{encode_frame, Packet, Request, Sample};
use zo_sim::board::{BoardInfo, Device};
use zo_sim::fixtures::test_params;
use zo_sim::model::Model;
use zo_sim::rtl_device::RtlDevice;
use zo_sim::train::init_weights;

const SHAPE: Shape = Shape::new(5, 4, 3);
const CAPACITY: u16 = 16;

struct Pair {
    model: Device<Model>,
    rtl: RtlDevice<6, 7>,
    seq: u8,
    compared: usize,
}

impl Pair {
    fn new() -> Self {
        Self::with_info(BoardInfo {
            sample_capacity: CAPACITY,
            ..BoardInfo::default()
        })
    }

    fn with_info(info: BoardInfo) -> Self {
        Self {
            rtl: RtlDevice::new(SHAPE, &info),
            model: Device::new(Model::new(SHAPE, 1), info),
            seq: 0,
            compared: 0,
        }
    }

    /// Sends raw wire bytes to both; the answers must be identical. Returns them.
    fn wire(&mut self, bytes: &[u8], what: &str) -> Vec<u8> {
        let m = self.model.receive(bytes);
        let frames = m.iter().filter(|&&b| b == 0).count();
        let r = self.rtl.transact(bytes, frames.max(1), 200_000);
        assert_eq!(r, m, "{what}: RTL answered {r:02x?}, model {m:02x?}");
        self.compared += 1;
        m
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
    for (offset, value) in [(0usize, 2u8), (1, 2), (3, 0x80), (5, 32), (6, 0), (8, 2)] {
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

    for (i, (estimator, loss, batch)) in [(0u8, 1u8, 1u16), (1, 0, 3), (0, 0, 4), (1, 1, 1)]
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
        BoardInfo {
            sample_capacity: CAPACITY,
            ..BoardInfo::default()
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

/// A build without mini-batch accumulators (the iCE40 boards' default): IDENTIFY says so,
/// SET_PARAMS with batch > 1 gets OUT_OF_RANGE (detail 1) and changes nothing, batch 1 trains
/// exactly as the model does.
#[test]
fn engine_without_accumulators_answers_like_the_reference_device() {
    let mut d = Pair::with_info(BoardInfo {
        sample_capacity: CAPACITY,
        batch_accumulators: false,
        ..BoardInfo::default()
    });
    let id = d.request(&Request::Identify, "identify");
    assert!(!id.is_empty());
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
