//! Arbitrary bytes into the streaming receiver; every packet it yields is decoded as a request
//! and as a response, and re-encoded.
//!
//! The first byte picks a mode. Mode 0 feeds the rest of the input to the receiver as wire
//! bytes. Mode 1 builds a valid packet from the input (`kind seq n_in payload..`), sends it
//! over the wire between random-looking bytes, and so reaches the message decoders with good
//! CRCs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zo_proto::{
    encode_frame, FrameDecoder, FrameError, Packet, Request, Response, COBS_MAX, MAX_PAYLOAD,
};

fn check_packet(p: &Packet, n_in: usize) {
    assert!(p.payload.len() <= MAX_PAYLOAD);
    // A packet the receiver accepted re-encodes to a frame it accepts again, unchanged.
    let frame = encode_frame(p);
    assert!(frame.len() <= COBS_MAX + 1);
    assert_eq!(frame.iter().position(|&b| b == 0), Some(frame.len() - 1));
    let mut rx = FrameDecoder::new();
    let again: Vec<_> = frame.iter().filter_map(|&b| rx.push(b)).collect();
    assert_eq!(again, vec![Ok(p.clone())]);
    if let Ok(r) = Request::decode(p.kind, &p.payload, n_in) {
        assert_eq!(r.kind(), p.kind);
        assert_eq!(r.encode_payload(), p.payload);
    }
    if let Ok(r) = Response::decode(p.kind, &p.payload) {
        assert_eq!(r.kind(), p.kind);
        assert_eq!(Response::decode(p.kind, &r.encode_payload()), Ok(r));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let n_in = usize::from(mode >> 1);
    if mode & 1 == 0 {
        let mut rx = FrameDecoder::new();
        let mut run = 0usize;
        for &b in rest {
            run = if b == 0 { 0 } else { run + 1 };
            match rx.push(b) {
                Some(Ok(p)) => check_packet(&p, n_in),
                Some(Err(FrameError::Overflow)) => assert_eq!(run, COBS_MAX + 1),
                Some(Err(_)) => assert_eq!(b, 0),
                None => {}
            }
        }
    } else {
        let [kind, seq, noise @ ..] = rest else {
            return;
        };
        let (noise, payload) = noise.split_at(noise.len().min(8));
        let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
        let p = Packet {
            kind: *kind,
            seq: *seq,
            payload: payload.to_vec(),
        };
        let mut wire = noise.to_vec();
        wire.push(0);
        wire.extend(encode_frame(&p));
        let mut rx = FrameDecoder::new();
        let got: Vec<_> = wire.iter().filter_map(|&b| rx.push(b)).collect();
        assert_eq!(got.last(), Some(&Ok(p.clone())));
        check_packet(&p, n_in);
    }
});
