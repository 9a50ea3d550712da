//! The frame layer (`docs/PROTOCOL.md` section 2): packets, CRC, COBS and the streaming
//! receiver.
//!
//! ```text
//! wire   = COBS(packet) 0x00
//! packet = type:u8  seq:u8  len:u16le  payload[len]  crc:u16be
//! ```

use crc::{Crc, CRC_16_IBM_3740};

/// The largest payload a packet may carry, in bytes (`len <= 512`).
pub const MAX_PAYLOAD: usize = 512;

/// The most bytes a receiver collects without a `0x00` delimiter before it discards them.
///
/// The largest good packet is `6 + 512 = 518` bytes, whose COBS encoding is at most
/// `518 + ceil(518 / 254) = 521` bytes; the limit leaves two bytes of slack.
pub const COBS_MAX: usize = 523;

/// Bytes of a packet around its payload: `type seq len:u16le` before it, `crc:u16be` after.
/// A packet shorter than this is [`FrameError::Short`].
pub const PACKET_OVERHEAD: usize = 6;

/// CRC-16/IBM-3740 (alias CRC-16/CCITT-FALSE): polynomial 0x1021, initial value 0xFFFF, not
/// reflected, no final XOR.
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// A packet: the unit of the protocol between two `0x00` delimiters, before COBS.
///
/// Wire layout: `type:u8 seq:u8 len:u16le payload[len] crc:u16be`; `len` and `crc` are
/// computed by [`encode_frame`] and checked by [`decode_packet`], so they are not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The message type (`type`), see [`crate::kind`].
    pub kind: u8,
    /// The sequence number (`seq`): a request's, or for a response that of the request it
    /// answers (`NAK` carries 0).
    pub seq: u8,
    /// The payload, at most [`MAX_PAYLOAD`] bytes to be encodable.
    pub payload: Vec<u8>,
}

/// The CRC of a packet: CRC-16/IBM-3740 (CRC-16/CCITT-FALSE) of `bytes`.
///
/// A packet's CRC covers `type seq len payload` and is sent high byte first.
/// Check value: `crc16(b"123456789") == 0x29B1`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC16.checksum(bytes)
}

/// Why a frame is bad (section 2, "A packet is bad when ...").
///
/// A device answers each with `NAK` ([`FrameError::nak_reason`]); a host drops the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes between two delimiters are not a valid COBS encoding (a code byte points
    /// past the end, a `0x00` inside, or nothing at all).
    #[error("bad frame: invalid COBS encoding")]
    Cobs,
    /// The decoded packet is shorter than 6 bytes (`type seq len crc`).
    #[error("bad frame: packet shorter than 6 bytes")]
    Short,
    /// The `len` field disagrees with the number of payload bytes present.
    #[error("bad frame: len field disagrees with the payload length")]
    LengthMismatch,
    /// The `len` field exceeds `MAX_PAYLOAD` (512).
    #[error("bad frame: len field exceeds the 512-byte maximum payload")]
    TooLong,
    /// The CRC-16/IBM-3740 over `type seq len payload` does not match the `crc` field.
    #[error("bad frame: CRC mismatch")]
    Crc,
    /// More than `COBS_MAX` (523) bytes arrived without a `0x00` delimiter; the receiver
    /// discards everything up to the next `0x00`.
    #[error("bad frame: more than 523 bytes without a 0x00 delimiter")]
    Overflow,
}

impl FrameError {
    /// The `NAK` reason a device sends for this error:
    ///
    /// | error | reason |
    /// |---|---|
    /// | `Crc` | 1 bad CRC |
    /// | `Cobs`, `Short` | 2 bad COBS or short packet |
    /// | `LengthMismatch`, `TooLong`, `Overflow` | 3 length mismatch or too long |
    pub fn nak_reason(&self) -> crate::NakReason {
        use crate::NakReason;
        match self {
            FrameError::Crc => NakReason::Crc,
            FrameError::Cobs | FrameError::Short => NakReason::Cobs,
            FrameError::LengthMismatch | FrameError::TooLong | FrameError::Overflow => {
                NakReason::Length
            }
        }
    }
}

/// The raw packet bytes `type seq len:u16le payload crc:u16be`, without COBS; `None` when the
/// payload is longer than [`MAX_PAYLOAD`].
pub fn packet_bytes(p: &Packet) -> Option<Vec<u8>> {
    let len = p.payload.len();
    if len > MAX_PAYLOAD {
        return None;
    }
    let mut raw = Vec::with_capacity(len + PACKET_OVERHEAD);
    raw.push(p.kind);
    raw.push(p.seq);
    raw.extend_from_slice(&(len as u16).to_le_bytes());
    raw.extend_from_slice(&p.payload);
    let crc = crc16(&raw);
    raw.extend_from_slice(&crc.to_be_bytes());
    Some(raw)
}

/// Encodes a packet for the wire: `COBS(type seq len:u16le payload crc:u16be)` then `0x00`.
///
/// The result is at most [`COBS_MAX`] + 1 bytes and contains exactly one `0x00`, the last
/// byte. COBS is the standard form with the shortest output: a packet ending in a run of 254
/// non-zero bytes ends with the `0xFF` block, without a trailing `0x01` block.
///
/// # Panics
///
/// If `p.payload` is longer than [`MAX_PAYLOAD`] (512) bytes: such a packet cannot be sent.
/// [`try_encode_frame`] returns an error instead.
pub fn encode_frame(p: &Packet) -> Vec<u8> {
    match try_encode_frame(p) {
        Ok(frame) => frame,
        Err(_) => panic!(
            "zo-proto: payload of {} bytes exceeds MAX_PAYLOAD ({MAX_PAYLOAD})",
            p.payload.len()
        ),
    }
}

/// [`encode_frame`] without the panic: [`FrameError::TooLong`] when the payload is longer
/// than [`MAX_PAYLOAD`].
pub fn try_encode_frame(p: &Packet) -> Result<Vec<u8>, FrameError> {
    let raw = packet_bytes(p).ok_or(FrameError::TooLong)?;
    Ok(frame_raw(&raw))
}

/// COBS-encodes any bytes and appends the delimiter, whether or not they form a valid packet
/// (tests and examples use it to put a bad packet on the wire).
pub fn frame_raw(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 254 + 2);
    cobs_encode(raw, &mut out);
    out.push(0);
    out
}

/// Appends the COBS encoding of `src` to `out` (standard form, shortest output).
fn cobs_encode(src: &[u8], out: &mut Vec<u8>) {
    let mut code_idx = out.len();
    out.push(0); // placeholder for the first code byte
    let mut code: u8 = 1;
    for (i, &b) in src.iter().enumerate() {
        if b != 0 {
            out.push(b);
            code += 1;
        }
        // A zero ends a block; so does a full run of 254 bytes when more data follows.
        if b == 0 || (code == 0xFF && i + 1 < src.len()) {
            out[code_idx] = code;
            code_idx = out.len();
            out.push(0);
            code = 1;
        }
    }
    out[code_idx] = code;
}

/// Decodes the bytes between two delimiters (without the `0x00`) into a packet.
///
/// The checks run in the order of section 2: COBS ([`FrameError::Cobs`], also for empty input
/// or input containing `0x00`), length at least 6 ([`FrameError::Short`]), `len` equal to the
/// payload length ([`FrameError::LengthMismatch`]), `len <= 512` ([`FrameError::TooLong`]),
/// CRC ([`FrameError::Crc`]). Total: never panics, whatever the input.
pub fn decode_packet(cobs_bytes: &[u8]) -> Result<Packet, FrameError> {
    if cobs_bytes.is_empty() || cobs_bytes.contains(&0) {
        return Err(FrameError::Cobs);
    }
    // A COBS decoding is always shorter than its encoding.
    let mut raw = vec![0u8; cobs_bytes.len()];
    let n = cobs::decode(cobs_bytes, &mut raw).map_err(|()| FrameError::Cobs)?;
    raw.truncate(n);
    let [kind, seq, len_lo, len_hi, rest @ ..] = raw.as_slice() else {
        return Err(FrameError::Short);
    };
    let [payload @ .., crc_hi, crc_lo] = rest else {
        return Err(FrameError::Short);
    };
    let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi]));
    if len != payload.len() {
        return Err(FrameError::LengthMismatch);
    }
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLong);
    }
    let body_len = raw.len() - 2;
    if crc16(&raw[..body_len]) != u16::from_be_bytes([*crc_hi, *crc_lo]) {
        return Err(FrameError::Crc);
    }
    Ok(Packet {
        kind: *kind,
        seq: *seq,
        payload: payload.to_vec(),
    })
}

/// The streaming receiver of section 2: feed it every received byte.
///
/// It collects bytes up to each `0x00` and then decodes them with [`decode_packet`]. An
/// empty collection (two delimiters in a row, or leading `0x00`s) is ignored. When more than
/// [`COBS_MAX`] bytes arrive without a delimiter it yields one [`FrameError::Overflow`] (on
/// the first byte too many) and discards every byte up to and including the next `0x00`.
/// Its buffer never grows beyond [`COBS_MAX`] bytes.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    discarding: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A receiver with nothing collected.
    pub fn new() -> Self {
        FrameDecoder {
            buf: Vec::with_capacity(COBS_MAX),
            discarding: false,
        }
    }

    /// Feeds one received byte. Returns `Some` when the byte completes a frame (a `0x00`
    /// after a non-empty collection: the packet or why it is bad) or overflows the buffer
    /// (`Some(Err(FrameError::Overflow))`, once per over-long run); `None` otherwise.
    pub fn push(&mut self, byte: u8) -> Option<Result<Packet, FrameError>> {
        if byte == 0 {
            if self.discarding {
                self.discarding = false;
                return None;
            }
            if self.buf.is_empty() {
                return None;
            }
            let result = decode_packet(&self.buf);
            self.buf.clear();
            return Some(result);
        }
        if self.discarding {
            return None;
        }
        if self.buf.len() >= COBS_MAX {
            self.buf.clear();
            self.discarding = true;
            return Some(Err(FrameError::Overflow));
        }
        self.buf.push(byte);
        None
    }

    /// Forgets the bytes collected so far (and any over-long run being discarded).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }
}
