//! The zo serial protocol, version 3: the frame codec and the messages between a host and a
//! learner board. The specification is `docs/PROTOCOL.md`; this crate implements it.
//!
//! ```text
//! wire   = COBS(packet) 0x00
//! packet = type:u8  seq:u8  len:u16le  payload[len]  crc:u16be      (CRC-16/IBM-3740)
//! ```
//!
//! - [`frame`]: [`Packet`], [`crc16`], [`encode_frame`], [`decode_packet`] and the streaming
//!   receiver [`FrameDecoder`].
//! - [`msg`]: [`Request`] and [`Response`] and their payloads ([`Params`], [`Sample`],
//!   [`Identity`], [`Status`], [`ErrorCode`], [`NakReason`]), and the type codes in [`kind`].
//!
//! A round trip:
//!
//! ```
//! use zo_proto::{encode_frame, FrameDecoder, Request};
//!
//! let wire = encode_frame(&Request::ReadWeights { start: 0, count: 4 }.to_packet(1));
//! let mut rx = FrameDecoder::new();
//! let packet = wire.iter().find_map(|&b| rx.push(b)).unwrap().unwrap();
//! let request = Request::decode(packet.kind, &packet.payload, 16).unwrap();
//! assert_eq!(request, Request::ReadWeights { start: 0, count: 4 });
//! ```
//!
//! Library code never prints and never panics on received data: every decoder is total. The
//! only panic is [`encode_frame`] on a payload longer than [`MAX_PAYLOAD`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod examples;
pub mod frame;
pub mod msg;

pub use frame::{
    crc16, decode_packet, encode_frame, frame_raw, packet_bytes, try_encode_frame, FrameDecoder,
    FrameError, Packet, COBS_MAX, MAX_PAYLOAD, PACKET_OVERHEAD,
};
pub use msg::{
    kind, ErrorCode, Identity, NakReason, Params, ProtoError, Request, Response, Sample, Status,
    MAX_READ_COUNT, MAX_WRITE_COUNT,
};

/// The protocol version this crate speaks, reported first in the identity.
pub const PROTOCOL_VERSION: u8 = 3;
