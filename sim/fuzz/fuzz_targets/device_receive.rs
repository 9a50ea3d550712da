//! Fuzzes the device's protocol engine (`zo_sim::device::reference::Device::receive`) with the
//! bit-exact model as backend.
//!
//! The input is used twice, on two fresh devices:
//!
//! 1. As raw wire bytes, fed in a few slices. This exercises the frame layer (COBS, length,
//!    CRC, overflow) and the device's `NAK`s; random bytes rarely pass the CRC.
//! 2. As a list of `(kind, seq, len:u16le, payload[len])` chunks, each wrapped into a valid
//!    frame with `zo_proto::encode_frame` (payload truncated to 512 bytes), so that invalid
//!    *requests* with valid framing reach the command parser and the command handlers.
//!
//! After each slice or frame the device runs up to 50 job steps. Every byte stream the
//! device returns must decode into frames that `zo_proto::Response::decode` accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zo_hdl::config::Shape;
use zo_proto::{encode_frame, FrameDecoder, Packet, Response, MAX_PAYLOAD};
use zo_sim::device::reference::{DeviceInfo, Device};
use zo_sim::model::Model;

/// Job steps run after each slice.
const STEPS: usize = 50;

fn new_device() -> Device<Model> {
    Device::new(
        Model::new(Shape::new(5, 4, 3), 1),
        DeviceInfo {
            sample_capacity: 8,
            ..Default::default()
        },
    )
}

/// Decodes one returned byte stream; panics unless it is whole frames, each a good packet
/// holding a response. Returns the decoded responses with their seq.
fn check_output(out: &[u8]) -> Vec<(u8, Response)> {
    let mut rx = FrameDecoder::new();
    let mut responses = Vec::new();
    for &b in out {
        if let Some(frame) = rx.push(b) {
            let packet = frame.unwrap_or_else(|e| panic!("device sent a bad frame: {e}: {out:02x?}"));
            let response = Response::decode(packet.kind, &packet.payload).unwrap_or_else(|e| {
                panic!("device sent an undecodable response: {e}: {packet:02x?}")
            });
            responses.push((packet.seq, response));
        }
    }
    assert!(
        out.is_empty() || out.last() == Some(&0),
        "device output does not end with a frame delimiter: {out:02x?}"
    );
    responses
}

fn run_steps(device: &mut Device<Model>) {
    for _ in 0..STEPS {
        if !device.step() {
            break;
        }
    }
}

/// Pass 1: the input as raw wire bytes, in 1 to 4 slices (chosen by the first byte).
fn raw(data: &[u8]) {
    let mut device = new_device();
    let slices = 1 + data.first().map_or(0, |b| (b % 4) as usize);
    let size = data.len().div_ceil(slices).max(1);
    for chunk in data.chunks(size) {
        let out = device.receive(chunk);
        check_output(&out);
        run_steps(&mut device);
    }
}

/// Pass 2: the input as `(kind, seq, len:u16le, payload)` chunks, each sent as a valid frame.
fn framed(data: &[u8]) {
    let mut device = new_device();
    let mut rest = data;
    while rest.len() >= 2 {
        let (kind, seq) = (rest[0], rest[1]);
        rest = &rest[2..];
        let len = match rest {
            [lo, hi, tail @ ..] => {
                rest = tail;
                u16::from_le_bytes([*lo, *hi]) as usize
            }
            [lo] => {
                rest = &[];
                *lo as usize
            }
            [] => 0,
        };
        let take = len.min(rest.len());
        let (payload, tail) = rest.split_at(take);
        rest = tail;
        let payload = payload[..payload.len().min(MAX_PAYLOAD)].to_vec();
        let wire = encode_frame(&Packet { kind, seq, payload });
        let out = device.receive(&wire);
        let responses = check_output(&out);
        // A good frame is answered by exactly one response carrying its seq.
        assert_eq!(responses.len(), 1, "one good frame, {} responses: {out:02x?}", responses.len());
        assert_eq!(responses[0].0, seq, "response seq differs from the request's: {out:02x?}");
        run_steps(&mut device);
    }
}

fuzz_target!(|data: &[u8]| {
    raw(data);
    framed(data);
});
