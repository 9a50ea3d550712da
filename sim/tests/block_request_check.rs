//! `zo_hdl::engine::request_check::RequestCheck` driven directly through its ports, against
//! the reference device (`zo_sim::device::reference::Device` over the model), which decodes
//! with `zo_proto::Request::decode` and then applies BUSY and its limits.
//!
//! Each request is sent to a fresh reference device (idle, or busy with a TRAIN job it has
//! accepted but not run) and its answer is reduced to a verdict: ERROR with code and detail,
//! or accepted. The block sees the same request as the frame receiver would hold it (type,
//! length, payload bytes 0-14, words), one clock for its registered range checks, and its
//! verdict is the field verdict when `field_bad`, else the limit verdict. They must be equal,
//! with one documented exception: LOAD_SAMPLES labels are the executor's scan (the block
//! accepts, the device answers OUT_OF_RANGE `n_out`). `write_len` and `load_bytes` are checked
//! on every request.
//!
//! Inputs: every request packet of docs/PROTOCOL.md (test vectors and example exchanges), and
//! seeded requests of every type (and unknown ones) built valid and then mutated at one or two
//! fields to boundary values (0, 1, the limits and their neighbours, 0x7F/0x80, 0xFF) or to
//! another length, on two shapes and all four build variants (with and without mini-batch
//! accumulators and exact output layer). The test fails unless every verdict of the device
//! (every check of the chain failing, and every request type accepted) occurred: a check whose
//! boundary moved by one, or whose code, detail or order changed, shows up as a mismatch.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::collections::BTreeSet;
use zo_hdl::config::Shape;
use zo_hdl::engine::request_check::RequestCheck;
use zo_proto::{encode_frame, Packet, Response};
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::model::Model;

const CAPACITY: u16 = 16;

/// A verdict: `None` accepted, else the ERROR code and detail.
type Verdict = Option<(u8, u16)>;

/// The reference device's verdict on `kind` / `payload`, idle or with a job running.
fn model_verdict(shape: Shape, info: &DeviceInfo, busy: bool, kind: u8, payload: &[u8]) -> Verdict {
    let mut dev = Device::new(Model::new(shape, 1), info.clone());
    if busy {
        let train = Packet {
            kind: 6,
            seq: 1,
            payload: vec![0, 0, 1, 0, 1, 0],
        };
        dev.receive(&encode_frame(&train));
        assert!(
            dev.busy(),
            "the TRAIN that makes the device busy was refused"
        );
    }
    let request = Packet {
        kind,
        seq: 2,
        payload: payload.to_vec(),
    };
    let packet = dev.request(&request).expect("one good answer");
    match Response::decode(packet.kind, &packet.payload).expect("a response") {
        Response::Error { code, detail, .. } => Some((code as u8, detail)),
        _ => None,
    }
}

struct Harness {
    uut: Box<RequestCheck>,
}

impl Harness {
    fn new(shape: Shape, info: &DeviceInfo) -> Self {
        let mut uut = Box::new(RequestCheck::new(
            shape,
            info.sample_capacity as usize,
            info.batch_accumulators,
            info.exact_output,
        ));
        uut.connect_all();
        zo_sim::harness::testkit::settle(&mut *uut, "RequestCheck");
        Self { uut }
    }

    /// Presents the request for one clock (the range checks register it) and returns the
    /// verdict, `write_len` and `load_bytes` after the edge.
    fn verdict(&mut self, busy: bool, kind: u8, payload: &[u8]) -> (Verdict, u16, u32) {
        let byte = |k: usize| payload.get(k).copied().unwrap_or(0) as u64;
        let word = |k: usize| byte(k) | byte(k + 1) << 8;
        let u = &mut self.uut;
        u.kind.next = (kind as u64).to_bits();
        u.len.next = (payload.len() as u64).to_bits();
        u.p0.next = byte(0).to_bits();
        u.p1.next = byte(1).to_bits();
        u.p5.next = byte(5).to_bits();
        u.p8.next = byte(8).to_bits();
        u.p13.next = byte(13).to_bits();
        u.p14.next = byte(14).to_bits();
        u.p01.next = word(0).to_bits();
        u.p23.next = word(2).to_bits();
        u.p45.next = word(4).to_bits();
        u.p67.next = word(6).to_bits();
        u.job_active.next = busy;
        let set_clock = |u: &mut RequestCheck, c: bool| u.clock.next = c.into();
        zo_sim::harness::testkit::rising_edge(&mut **u, "RequestCheck", set_clock);
        let v = if u.field_bad.val() {
            Some((
                u.field_code.val().index() as u8,
                u.field_detail.val().index() as u16,
            ))
        } else if u.limit_bad.val() {
            Some((
                u.limit_code.val().index() as u8,
                u.limit_detail.val().index() as u16,
            ))
        } else {
            None
        };
        (
            v,
            u.write_len.val().index() as u16,
            u.load_bytes.val().index() as u32,
        )
    }
}

/// A valid payload of request `kind` (random fields near the device's limits).
fn valid_payload(shape: Shape, kind: u8, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let n_w = shape.n_weights() as u16;
    let cap = CAPACITY;
    let range = |rng: &mut ChaCha8Rng, limit: u16, max_count: u16| -> (u16, u16) {
        let count = rng.gen_range(1..=max_count.min(limit));
        let start = rng.gen_range(0..=limit - count);
        (start, count)
    };
    let mut p = Vec::new();
    let put16 = |p: &mut Vec<u8>, v: u16| p.extend_from_slice(&v.to_le_bytes());
    match kind {
        2 => {
            let (s, c) = range(rng, n_w, 254);
            put16(&mut p, s);
            put16(&mut p, c);
        }
        3 => {
            let (s, c) = range(rng, n_w, 252);
            put16(&mut p, s);
            put16(&mut p, c);
            p.extend((0..2 * c).map(|_| rng.gen::<u8>()));
        }
        4 => {
            let (s, c) = range(rng, cap, 8);
            put16(&mut p, s);
            put16(&mut p, c);
            for _ in 0..c {
                p.push(rng.gen_range(0..shape.n_out as u8));
                p.extend((0..shape.n_in).map(|_| rng.gen::<u8>()));
            }
        }
        5 => {
            p.push(rng.gen_range(0..=2)); // estimator
            p.push(rng.gen_range(0..=1)); // loss
            put16(&mut p, rng.gen_range(0..=0x7FFF)); // sigma
            p.push(rng.gen()); // eta mantissa
            p.push(rng.gen_range(0..=31)); // eta shift
            put16(&mut p, rng.gen_range(1..=3)); // batch
            p.push(rng.gen_range(0..=1)); // reseed
            p.extend_from_slice(&rng.gen::<u32>().to_le_bytes()); // seed
            p.push(rng.gen_range(0..=31)); // out shift
            p.push(rng.gen_range(0..=7)); // momentum
        }
        6 => {
            let (s, c) = range(rng, cap, cap);
            put16(&mut p, s);
            put16(&mut p, c);
            put16(&mut p, rng.gen_range(1..=3));
        }
        7 => {
            let (s, c) = range(rng, cap, cap);
            put16(&mut p, s);
            put16(&mut p, c);
        }
        10 => {
            p.push(rng.gen_range(0..shape.n_out as u8));
            p.extend((0..shape.n_in).map(|_| rng.gen::<u8>()));
        }
        _ => {}
    }
    p
}

/// Values at the edges of the fields' ranges.
fn boundary_byte(shape: Shape, rng: &mut ChaCha8Rng) -> u8 {
    let n_w = shape.n_weights();
    let picks = [
        0,
        1,
        2,
        3,
        4,
        5,
        7,
        8,
        31,
        32,
        0x7F,
        0x80,
        0xFC,
        0xFD,
        0xFE,
        0xFF,
        shape.n_out as u8 - 1,
        shape.n_out as u8,
        CAPACITY as u8 - 1,
        CAPACITY as u8,
        CAPACITY as u8 + 1,
        (n_w & 0xFF) as u8,
        (n_w & 0xFF) as u8 - 1,
        (n_w & 0xFF) as u8 + 1,
        (n_w >> 8) as u8,
    ];
    // Zero ends most ranges (count, batch, epochs): give it a larger share.
    if rng.gen_bool(0.2) {
        0
    } else {
        picks[rng.gen_range(0..picks.len())]
    }
}

/// A request built valid, then mutated at one or two places (a byte or the length).
fn mutated(shape: Shape, rng: &mut ChaCha8Rng) -> (u8, Vec<u8>) {
    let kinds = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x7F, 0x81, 0xFF];
    let kind = kinds[rng.gen_range(0..kinds.len())];
    let mut p = valid_payload(shape, kind, rng);
    for _ in 0..rng.gen_range(0..=2) {
        match rng.gen_range(0..6) {
            0 => {
                let extra = rng.gen_range(1..=3);
                p.extend((0..extra).map(|_| boundary_byte(shape, rng)));
            }
            1 if !p.is_empty() => {
                let n = rng.gen_range(1..=p.len().min(3));
                p.truncate(p.len() - n);
            }
            _ if !p.is_empty() => {
                let k = rng.gen_range(0..p.len().min(16));
                p[k] = boundary_byte(shape, rng);
            }
            _ => {}
        }
    }
    (kind, p)
}

/// The verdicts that must occur, for a build with or without accumulators and exact layer.
fn required(shape: Shape, info: &DeviceInfo) -> BTreeSet<(u8, Verdict)> {
    let mut r = BTreeSet::new();
    for kind in 1..=11u8 {
        r.insert((kind, None));
        if ![1, 8, 9, 11].contains(&kind) {
            r.insert((kind, Some((4, 0))));
        }
        r.insert((kind, Some((2, 0))));
    }
    r.insert((0, Some((1, 0))));
    r.insert((12, Some((1, 0))));
    for (kind, detail) in [(2, 2), (3, 2), (6, 2), (6, 4), (7, 2)] {
        r.insert((kind, Some((5, detail))));
    }
    for detail in [0, 1, 2, 5, 6, 8, 13, 14] {
        r.insert((5, Some((5, detail))));
    }
    let n_w = shape.n_weights() as u16;
    for (kind, limit) in [
        (2, n_w),
        (3, n_w),
        (4, CAPACITY),
        (6, CAPACITY),
        (7, CAPACITY),
        (10, shape.n_out as u16),
    ] {
        r.insert((kind, Some((3, limit))));
    }
    if !info.batch_accumulators {
        r.insert((5, Some((3, 0))));
        r.insert((5, Some((3, 1))));
    }
    if !info.exact_output {
        r.insert((5, Some((3, 1))));
    }
    r
}

fn doc_requests() -> Vec<(u8, Vec<u8>)> {
    zo_proto::examples::doc_packets(include_str!("../../docs/PROTOCOL.md"))
        .expect("the document's packets")
        .into_iter()
        .filter(|p| p.len() >= 6 && (1..=11).contains(&p[0]))
        .filter(|p| u16::from_le_bytes([p[2], p[3]]) as usize + 6 == p.len())
        .map(|p| (p[0], p[4..p.len() - 2].to_vec()))
        .collect()
}

fn run(shape: Shape, info: &DeviceInfo, seed: u64, cases: usize) {
    let mut h = Harness::new(shape, info);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = BTreeSet::new();
    let mut requests = doc_requests();
    assert!(
        requests.len() >= 8,
        "the document's requests were not found"
    );
    requests.extend((0..cases).map(|_| mutated(shape, &mut rng)));
    let record = (shape.n_in + 1) as u32;
    for (i, (kind, payload)) in requests.iter().enumerate() {
        let busy = i % 4 == 3;
        let mut want = model_verdict(shape, info, busy, *kind, payload);
        seen.insert((*kind, want));
        if *kind == 4 && want == Some((3, shape.n_out as u16)) {
            // LOAD_SAMPLES labels: the executor's scan, not this block.
            want = None;
        }
        let (got, write_len, load_bytes) = h.verdict(busy, *kind, payload);
        assert_eq!(
            got, want,
            "shape {shape:?}, {info:?}, busy {busy}: request {kind:#04x} {payload:02x?}"
        );
        let count = payload.get(2).copied().unwrap_or(0) as u32
            | (payload.get(3).copied().unwrap_or(0) as u32) << 8;
        assert_eq!(
            write_len,
            (4 + 2 * count) as u16,
            "write_len, count {count}"
        );
        assert_eq!(load_bytes, count * record, "load_bytes, count {count}");
    }
    let missing: Vec<_> = required(shape, info).difference(&seen).copied().collect();
    assert!(
        missing.is_empty(),
        "verdicts never produced by the inputs: {missing:?}"
    );
}

#[test]
fn request_checks_match_the_reference_device() {
    for (s, shape) in [Shape::new(5, 4, 3), Shape::new(12, 6, 4)]
        .into_iter()
        .enumerate()
    {
        for (v, (batch, exact)) in [(true, true), (false, false), (false, true), (true, false)]
            .into_iter()
            .enumerate()
        {
            let info = DeviceInfo {
                sample_capacity: CAPACITY,
                batch_accumulators: batch,
                exact_output: exact,
                ..DeviceInfo::default()
            };
            run(shape, &info, 11 + 10 * s as u64 + v as u64, 20_000);
        }
    }
}
