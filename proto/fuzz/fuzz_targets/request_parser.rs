//! Arbitrary `kind`, `n_in` and payload into `Request::decode` (and `Response::decode`);
//! whatever decodes must re-encode to the same payload and decode again to the same message.
//!
//! Input layout: `kind:u8 n_in:u16le payload..`; `n_in = 0xFFFF` stands for `usize::MAX`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zo_proto::{ErrorCode, ProtoError, Request, Response};

fuzz_target!(|data: &[u8]| {
    let [kind, n0, n1, payload @ ..] = data else {
        return;
    };
    let n_in = match u16::from_le_bytes([*n0, *n1]) {
        0xFFFF => usize::MAX,
        n => usize::from(n),
    };
    match Request::decode(*kind, payload, n_in) {
        Ok(r) => {
            assert_eq!(r.kind(), *kind);
            let encoded = r.encode_payload();
            assert_eq!(encoded, payload);
            assert_eq!(Request::decode(*kind, &encoded, n_in), Ok(r.clone()));
            let p = r.to_packet(7);
            assert_eq!((p.kind, p.seq), (*kind, 7));
        }
        Err(e) => {
            let (code, detail) = e.error_code();
            match e {
                ProtoError::BadValue { offset, .. } => {
                    assert_eq!((code, detail), (ErrorCode::BadValue, offset));
                    assert!(usize::from(offset) < payload.len());
                }
                ProtoError::UnknownType(k) => assert_eq!(k, *kind),
                ProtoError::BadLength { got, .. } => assert_eq!(got, payload.len()),
            }
            let _ = e.to_string();
        }
    }
    if let Ok(r) = Response::decode(*kind, payload) {
        assert_eq!(r.kind(), *kind);
        let encoded = r.encode_payload();
        assert_eq!(Response::decode(*kind, &encoded), Ok(r));
    }
});
