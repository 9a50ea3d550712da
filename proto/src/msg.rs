//! The messages (`docs/PROTOCOL.md` section 4): request and response payloads.
//!
//! All multi-byte fields are little-endian. Decoders are total: any `kind` and payload give
//! either a message or a [`ProtoError`], never a panic.

use crate::frame::Packet;
use std::fmt;

pub mod kind {
    //! Message types (the `type` byte of a packet).
    //!
    //! A request has type `T` in `0x01..=0x0B`; its normal response has type `T | 0x80`
    //! ([`RESPONSE`]). [`NAK`] and [`ERROR`] are the two other responses.

    /// `IDENTIFY`: payload —; response: identity (section 4.1).
    pub const IDENTIFY: u8 = 0x01;
    /// `READ_WEIGHTS`: `start:u16 count:u16`; response `start:u16 count:u16 w:i16[count]`.
    pub const READ_WEIGHTS: u8 = 0x02;
    /// `WRITE_WEIGHTS`: `start:u16 count:u16 w:i16[count]`; response —.
    pub const WRITE_WEIGHTS: u8 = 0x03;
    /// `LOAD_SAMPLES`: `start:u16 count:u16` then `count` records `label:u8 x:u8[n_in]`;
    /// response —.
    pub const LOAD_SAMPLES: u8 = 0x04;
    /// `SET_PARAMS`: `estimator:u8 loss:u8 sigma:u16 eta_mant:u8 eta_shift:u8 batch:u16
    /// flags:u8 seed:u32 out_shift:u8 momentum:u8`; response —.
    pub const SET_PARAMS: u8 = 0x05;
    /// `TRAIN`: `first:u16 count:u16 epochs:u16`; response — (the job starts).
    pub const TRAIN: u8 = 0x06;
    /// `EVALUATE`: `first:u16 count:u16`; response — (the job starts).
    pub const EVALUATE: u8 = 0x07;
    /// `STOP`: payload —; response —.
    pub const STOP: u8 = 0x08;
    /// `STATUS`: payload —; response: status (section 4.2).
    pub const STATUS: u8 = 0x09;
    /// `INFER`: `label:u8 x:u8[n_in]`; response `class:u8 loss:u32 logits:i16[n_out]`.
    pub const INFER: u8 = 0x0A;
    /// `RESET`: payload —; response —.
    pub const RESET: u8 = 0x0B;
    /// `NAK` response to a bad packet: `reason:u8`; carries seq 0.
    pub const NAK: u8 = 0x7E;
    /// `ERROR` response to a good packet that cannot be executed:
    /// `request_type:u8 code:u8 detail:u16`.
    pub const ERROR: u8 = 0x7F;
    /// The bit set in the type of every normal response (`T | 0x80`).
    pub const RESPONSE: u8 = 0x80;

    /// The name of a message type, for messages and logs: `"IDENTIFY"` for 0x01,
    /// `"IDENTIFY response"` for 0x81, `"NAK"`, `"ERROR"`, and `"unknown"` for any other.
    pub fn name(kind: u8) -> &'static str {
        match kind {
            IDENTIFY => "IDENTIFY",
            READ_WEIGHTS => "READ_WEIGHTS",
            WRITE_WEIGHTS => "WRITE_WEIGHTS",
            LOAD_SAMPLES => "LOAD_SAMPLES",
            SET_PARAMS => "SET_PARAMS",
            TRAIN => "TRAIN",
            EVALUATE => "EVALUATE",
            STOP => "STOP",
            STATUS => "STATUS",
            INFER => "INFER",
            RESET => "RESET",
            0x81 => "IDENTIFY response",
            0x82 => "READ_WEIGHTS response",
            0x83 => "WRITE_WEIGHTS response",
            0x84 => "LOAD_SAMPLES response",
            0x85 => "SET_PARAMS response",
            0x86 => "TRAIN response",
            0x87 => "EVALUATE response",
            0x88 => "STOP response",
            0x89 => "STATUS response",
            0x8A => "INFER response",
            0x8B => "RESET response",
            NAK => "NAK",
            ERROR => "ERROR",
            _ => "unknown",
        }
    }
}

/// The largest `count` of a `READ_WEIGHTS` request.
///
/// The response `start:u16 count:u16 w:i16[count]` must fit `MAX_PAYLOAD` (section 5:
/// responses never exceed it), which allows at most `(512 - 4) / 2 = 254`. Counts above 254
/// are rejected with `BAD_VALUE` at offset 2.
pub const MAX_READ_COUNT: u16 = 254;

/// The largest `count` of a `WRITE_WEIGHTS` request (`1..=252`).
pub const MAX_WRITE_COUNT: u16 = 252;

/// One training or test sample: a class label and `n_in` features, signed Q0.7 bytes.
///
/// Wire layout (a record of `LOAD_SAMPLES`, or the payload of `INFER`):
/// `label:u8 x:u8[n_in]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The class label; a device requires `label < n_out` (not checked by this crate).
    pub label: u8,
    /// The `n_in` features, signed Q0.7 (two's complement `i8` carried as bytes).
    pub features: Vec<u8>,
}

/// The learner parameters of `SET_PARAMS`.
///
/// Wire layout (15 bytes; offsets in brackets):
/// `[0] estimator:u8 [1] loss:u8 [2] sigma:u16 [4] eta_mant:u8 [5] eta_shift:u8 [6] batch:u16
/// [8] flags:u8 [9] seed:u32 [13] out_shift:u8 [14] momentum:u8`, where `flags` bit 0 is
/// [`Params::reseed`] and the other bits are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// 0 node perturbation ([`Params::ESTIMATOR_NP`]), 1 weight perturbation
    /// ([`Params::ESTIMATOR_WP`]), 2 hybrid: node perturbation on the hidden units and the
    /// exact delta rule on the output layer ([`Params::ESTIMATOR_HYBRID`]), 3 wp-hybrid: weight
    /// perturbation on the hidden layer and the exact output layer
    /// ([`Params::ESTIMATOR_WP_HYBRID`]).
    pub estimator: u8,
    /// 0 squared error ([`Params::LOSS_SQUARED`]), 1 cross-entropy
    /// ([`Params::LOSS_CROSS_ENTROPY`]).
    pub loss: u8,
    /// The perturbation size, Q.12, at most 0x7FFF.
    pub sigma: u16,
    /// The learning-rate mantissa: `eta = eta_mant * 2^(4 - eta_shift)`.
    pub eta_mant: u8,
    /// The learning-rate shift, 0..=31.
    pub eta_shift: u8,
    /// Samples per applied update, 1..=65535.
    pub batch: u16,
    /// `flags` bit 0: restart both noise generators from [`Params::seed`].
    pub reseed: bool,
    /// The seed used when [`Params::reseed`] is set: 0 is replaced by 1 before both
    /// generators are derived from it, so seed 0 behaves exactly as seed 1.
    pub seed: u32,
    /// The output layer's step shift under the hybrid estimator, 0..=31:
    /// `eta_out = 2^(11 - out_shift)`. Kept, and unused, by the other estimators.
    pub out_shift: u8,
    /// Momentum, 0..=7: 0 off; `m` keeps the mini-batch accumulator as a velocity that
    /// decays by `1 - 2^-m` at every apply (with batch 1, at every sample). Needs the
    /// accumulators (IDENTIFY `limits` bit 0 clear).
    pub momentum: u8,
}

impl Params {
    /// `estimator` value of node perturbation.
    pub const ESTIMATOR_NP: u8 = 0;
    /// `estimator` value of weight perturbation.
    pub const ESTIMATOR_WP: u8 = 1;
    /// `estimator` value of the hybrid estimator.
    pub const ESTIMATOR_HYBRID: u8 = 2;
    /// `estimator` value of weight perturbation with the exact output layer.
    pub const ESTIMATOR_WP_HYBRID: u8 = 3;
    /// `loss` value of squared error.
    pub const LOSS_SQUARED: u8 = 0;
    /// `loss` value of cross-entropy.
    pub const LOSS_CROSS_ENTROPY: u8 = 1;
    /// Encoded length of the `SET_PARAMS` payload.
    pub const LEN: usize = 15;
    /// `out_shift` after `RESET`: `eta_out = 2^(11 - 15) = 1/16`.
    pub const DEFAULT_OUT_SHIFT: u8 = 15;
}

impl Default for Params {
    /// The parameters a device has after `RESET`: NP, cross-entropy, sigma 256, eta_mant 1,
    /// eta_shift 8, batch 1, out_shift 15, momentum 0; `reseed` false and `seed` 1 (RESET
    /// reseeds with 1).
    fn default() -> Self {
        Params {
            estimator: Params::ESTIMATOR_NP,
            loss: Params::LOSS_CROSS_ENTROPY,
            sigma: 256,
            eta_mant: 1,
            eta_shift: 8,
            batch: 1,
            reseed: false,
            seed: 1,
            out_shift: Params::DEFAULT_OUT_SHIFT,
            momentum: 0,
        }
    }
}

/// A request (host to device), section 4.
///
/// Payload layouts (all little-endian):
///
/// | variant | type | payload |
/// |---|---|---|
/// | `Identify` | 0x01 | — |
/// | `ReadWeights` | 0x02 | `start:u16 count:u16` (count 1..=254, see [`MAX_READ_COUNT`]) |
/// | `WriteWeights` | 0x03 | `start:u16 count:u16 w:i16[count]` (count 1..=252) |
/// | `LoadSamples` | 0x04 | `start:u16 count:u16` then `count` × `label:u8 x:u8[n_in]` |
/// | `SetParams` | 0x05 | [`Params`] (15 bytes) |
/// | `Train` | 0x06 | `first:u16 count:u16 epochs:u16` (count and epochs 1..=65535) |
/// | `Evaluate` | 0x07 | `first:u16 count:u16` (count 1..=65535) |
/// | `Stop` | 0x08 | — |
/// | `Status` | 0x09 | — |
/// | `Infer` | 0x0A | `label:u8 x:u8[n_in]` |
/// | `Reset` | 0x0B | — |
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `IDENTIFY` (0x01), empty payload.
    Identify,
    /// `READ_WEIGHTS` (0x02): `start:u16 count:u16`.
    ReadWeights {
        /// Address of the first weight.
        start: u16,
        /// Number of weights, 1..=254.
        count: u16,
    },
    /// `WRITE_WEIGHTS` (0x03): `start:u16 count:u16 w:i16[count]`, `count = values.len()`.
    WriteWeights {
        /// Address of the first weight.
        start: u16,
        /// The raw Q3.12 weights, 1..=252 of them.
        values: Vec<i16>,
    },
    /// `LOAD_SAMPLES` (0x04): `start:u16 count:u16` then `count = samples.len()` records
    /// `label:u8 x:u8[n_in]`.
    LoadSamples {
        /// Index of the first sample in the device's sample buffer.
        start: u16,
        /// The samples; each must have `n_in` features.
        samples: Vec<Sample>,
    },
    /// `SET_PARAMS` (0x05): the 15-byte [`Params`] layout.
    SetParams(Params),
    /// `TRAIN` (0x06): `first:u16 count:u16 epochs:u16`.
    Train {
        /// Index of the first sample.
        first: u16,
        /// Number of samples per pass, 1..=65535.
        count: u16,
        /// Number of passes, 1..=65535.
        epochs: u16,
    },
    /// `EVALUATE` (0x07): `first:u16 count:u16`.
    Evaluate {
        /// Index of the first sample.
        first: u16,
        /// Number of samples, 1..=65535.
        count: u16,
    },
    /// `STOP` (0x08), empty payload.
    Stop,
    /// `STATUS` (0x09), empty payload.
    Status,
    /// `INFER` (0x0A): `label:u8 x:u8[n_in]`.
    Infer(Sample),
    /// `RESET` (0x0B), empty payload.
    Reset,
}

/// Identity, the payload of the `IDENTIFY` response (0x81), section 4.1.
///
/// Wire layout (31 + `name_len` bytes; offsets in brackets):
/// `[0] version:u8 [1] n_in:u8 [2] n_hid:u8 [3] n_out:u8 [4] n_weights:u16
/// [6] sample_capacity:u16 [8] max_payload:u16 [10] w_frac:u8 [11] x_frac:u8 [12] z_frac:u8
/// [13] limits:u8 [14] clock_hz:u32 [18] baud:u32 [22] build_id:u32
/// [26] cycles_per_sample:u32 [30] name_len:u8 [31] name:u8[name_len]` (ASCII).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Protocol version, 3 ([`crate::PROTOCOL_VERSION`]). Decoding keeps any value: a host
    /// checks it first and refuses others.
    pub version: u8,
    /// Inputs of the network.
    pub n_in: u8,
    /// Hidden units.
    pub n_hid: u8,
    /// Outputs (classes).
    pub n_out: u8,
    /// Number of weights (including biases).
    pub n_weights: u16,
    /// Size of the sample buffer.
    pub sample_capacity: u16,
    /// Largest payload the device accepts (512).
    pub max_payload: u16,
    /// Fraction bits of weights (12).
    pub w_frac: u8,
    /// Fraction bits of features (7: signed Q0.7).
    pub x_frac: u8,
    /// Fraction bits of activations (8).
    pub z_frac: u8,
    /// What this build leaves out, as [`Identity::NO_BATCH`] bits (0: everything is there).
    pub limits: u8,
    /// Learner clock, Hz.
    pub clock_hz: u32,
    /// Line rate, baud.
    pub baud: u32,
    /// Identifies the bitstream or the virtual board's version.
    pub build_id: u32,
    /// Learner cycles for one training sample with batch 1 (`3 W + 4 n_out + 45`).
    pub cycles_per_sample: u32,
    /// The board, e.g. `virtual-model`, `virtual-rtl`, `icebreaker`. ASCII, at most 255
    /// bytes: encoding replaces non-ASCII characters by `?` and keeps the first 255.
    pub name: String,
}

impl Identity {
    /// `limits` bit: the build has no mini-batch accumulators, so SET_PARAMS takes batch 1
    /// only (larger values get OUT_OF_RANGE with detail 1).
    pub const NO_BATCH: u8 = 1;
    /// `limits` bit: the build has no exact output layer, so SET_PARAMS takes estimators 0
    /// and 1 only.
    pub const NO_HYBRID: u8 = 2;

    /// The largest mini-batch the device accepts.
    pub fn max_batch(&self) -> u16 {
        if self.limits & Self::NO_BATCH != 0 {
            1
        } else {
            u16::MAX
        }
    }

    /// The largest estimator value the device accepts: 1 without the exact output layer.
    pub fn max_estimator(&self) -> u8 {
        if self.limits & Self::NO_HYBRID != 0 {
            Params::ESTIMATOR_WP
        } else {
            Params::ESTIMATOR_WP_HYBRID
        }
    }

    /// The largest momentum the device accepts: 0 without accumulators.
    pub fn max_momentum(&self) -> u8 {
        if self.limits & Self::NO_BATCH != 0 {
            0
        } else {
            7
        }
    }

    /// Length of the fixed part, before `name`.
    pub const FIXED_LEN: usize = 31;
}

/// Status, the payload of the `STATUS` response (0x89), section 4.2.
///
/// Wire layout (64 bytes; offsets in brackets):
/// `[0] state:u8 [1] reserved:u8 [2] epoch:u16 [4] job_done:u32 [8] job_total:u32
/// [12] samples:u32 [16] updates:u32 [20] saturations:u32 [24] zero_updates:u32
/// [28] loss_sum:u32 [32] last_loss:u32 [36] eval_count:u32 [40] eval_correct:u32
/// [44] eval_loss_sum:u32 [48] probe_seed:u32 [52] batch_pos:u16 [54] reserved:u16
/// [56] device_cycles:u64`. Reserved fields are sent as 0 and ignored on receipt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// 0 idle ([`Status::IDLE`]), 1 training ([`Status::TRAINING`]), 2 evaluating
    /// ([`Status::EVALUATING`]).
    pub state: u8,
    /// Passes the job has completed.
    pub epoch: u16,
    /// Samples of the current (or last) job done, over all epochs.
    pub job_done: u32,
    /// Samples of the current (or last) job in total, over all epochs.
    pub job_total: u32,
    /// Samples trained.
    pub samples: u32,
    /// Updates applied.
    pub updates: u32,
    /// Weight saturations.
    pub saturations: u32,
    /// Updates that changed nothing.
    pub zero_updates: u32,
    /// Sum of training losses, Q.8.
    pub loss_sum: u32,
    /// Last training loss, Q.8.
    pub last_loss: u32,
    /// Samples of the last EVALUATE.
    pub eval_count: u32,
    /// Correct predictions of the last EVALUATE.
    pub eval_correct: u32,
    /// Loss sum of the last EVALUATE.
    pub eval_loss_sum: u32,
    /// State of the probe noise generator.
    pub probe_seed: u32,
    /// Samples accumulated in the current mini-batch.
    pub batch_pos: u16,
    /// Learner clock cycles spent on operations since power-on or RESET.
    pub device_cycles: u64,
}

impl Status {
    /// `state`: no job.
    pub const IDLE: u8 = 0;
    /// `state`: a TRAIN job runs.
    pub const TRAINING: u8 = 1;
    /// `state`: an EVALUATE job runs.
    pub const EVALUATING: u8 = 2;
    /// Encoded length.
    pub const LEN: usize = 64;
}

/// The `code` of an `ERROR` response (section 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorCode {
    /// 1 `UNKNOWN_TYPE`: no such request type (`detail` 0).
    UnknownType = 1,
    /// 2 `BAD_LENGTH`: the payload length does not fit the request (`detail` 0).
    BadLength = 2,
    /// 3 `OUT_OF_RANGE`: weight address, sample index or count outside the device (`detail`:
    /// the limit).
    OutOfRange = 3,
    /// 4 `BUSY`: a job is running (`detail` 0).
    Busy = 4,
    /// 5 `BAD_VALUE`: a field has an invalid value (`detail`: its byte offset in the payload).
    BadValue = 5,
}

impl ErrorCode {
    /// The code for a wire value, `None` outside 1..=5.
    pub fn from_u8(code: u8) -> Option<ErrorCode> {
        match code {
            1 => Some(ErrorCode::UnknownType),
            2 => Some(ErrorCode::BadLength),
            3 => Some(ErrorCode::OutOfRange),
            4 => Some(ErrorCode::Busy),
            5 => Some(ErrorCode::BadValue),
            _ => None,
        }
    }

    /// The `detail` a device always sends with this code, when it is fixed: 0 for
    /// `UNKNOWN_TYPE`, `BAD_LENGTH` and `BUSY`. `None` when it varies: `OUT_OF_RANGE` reports
    /// the limit, `BAD_VALUE` the field's byte offset (`docs/PROTOCOL.md` section 4.3).
    pub fn fixed_detail(&self) -> Option<u16> {
        match self {
            ErrorCode::UnknownType | ErrorCode::BadLength | ErrorCode::Busy => Some(0),
            ErrorCode::OutOfRange | ErrorCode::BadValue => None,
        }
    }

    /// The name used in `docs/PROTOCOL.md`, e.g. `"BAD_LENGTH"`.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorCode::UnknownType => "UNKNOWN_TYPE",
            ErrorCode::BadLength => "BAD_LENGTH",
            ErrorCode::OutOfRange => "OUT_OF_RANGE",
            ErrorCode::Busy => "BUSY",
            ErrorCode::BadValue => "BAD_VALUE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorCode::UnknownType => {
                "UNKNOWN_TYPE: the device has no such request type \
                 (check that host and device speak the same protocol version)"
            }
            ErrorCode::BadLength => {
                "BAD_LENGTH: the payload length does not fit the request \
                 (check the count fields and that records have the device's n_in features)"
            }
            ErrorCode::OutOfRange => {
                "OUT_OF_RANGE: a weight address, sample index, label or count lies outside \
                 the device (detail is the limit; see IDENTIFY for the device's sizes)"
            }
            ErrorCode::Busy => {
                "BUSY: a job is running (send STOP, or poll STATUS until the job is idle)"
            }
            ErrorCode::BadValue => {
                "BAD_VALUE: a field has an invalid value \
                 (detail is the field's byte offset in the payload; see docs/PROTOCOL.md)"
            }
        })
    }
}

impl TryFrom<u8> for ErrorCode {
    type Error = u8;
    fn try_from(code: u8) -> Result<Self, u8> {
        ErrorCode::from_u8(code).ok_or(code)
    }
}

/// The `reason` of a `NAK` response (section 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum NakReason {
    /// 1: bad CRC.
    Crc = 1,
    /// 2: bad COBS or short packet.
    Cobs = 2,
    /// 3: length mismatch or too long.
    Length = 3,
}

impl NakReason {
    /// The reason for a wire value, `None` outside 1..=3.
    pub fn from_u8(reason: u8) -> Option<NakReason> {
        match reason {
            1 => Some(NakReason::Crc),
            2 => Some(NakReason::Cobs),
            3 => Some(NakReason::Length),
            _ => None,
        }
    }
}

impl fmt::Display for NakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NakReason::Crc => "bad CRC",
            NakReason::Cobs => "bad COBS or short packet",
            NakReason::Length => "length mismatch or too long",
        })
    }
}

impl TryFrom<u8> for NakReason {
    type Error = u8;
    fn try_from(reason: u8) -> Result<Self, u8> {
        NakReason::from_u8(reason).ok_or(reason)
    }
}

/// A response (device to host), section 4.
///
/// | variant | type | payload |
/// |---|---|---|
/// | `Identity` | 0x81 | [`Identity`] |
/// | `Weights` | 0x82 | `start:u16 count:u16 w:i16[count]` |
/// | `Done` | `request \| 0x80` | — (for 0x03..=0x08 and 0x0B) |
/// | `Status` | 0x89 | [`Status`] |
/// | `Inference` | 0x8A | `class:u8 loss:u32 logits:i16[n_out]` |
/// | `Error` | 0x7F | `request_type:u8 code:u8 detail:u16` |
/// | `Nak` | 0x7E | `reason:u8` |
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The `IDENTIFY` response (0x81).
    Identity(Identity),
    /// The `READ_WEIGHTS` response (0x82): `start:u16 count:u16 w:i16[count]`,
    /// `count = values.len()` (at most 254 to fit `MAX_PAYLOAD`).
    Weights {
        /// Address of the first weight.
        start: u16,
        /// The raw Q3.12 weights.
        values: Vec<i16>,
    },
    /// The empty response (type `request | 0x80`) of a request without response data:
    /// `WRITE_WEIGHTS`, `LOAD_SAMPLES`, `SET_PARAMS`, `TRAIN`, `EVALUATE`, `STOP`, `RESET`.
    /// (`Done` of a request with response data would decode as a bad length.)
    Done {
        /// The request type answered.
        request: u8,
    },
    /// The `STATUS` response (0x89).
    Status(Status),
    /// The `INFER` response (0x8A): `class:u8 loss:u32 logits:i16[n_out]`.
    Inference {
        /// The predicted class.
        class: u8,
        /// The loss of the sample's label, Q.8.
        loss: u32,
        /// The `n_out` output logits.
        logits: Vec<i16>,
    },
    /// `ERROR` (0x7F): `request_type:u8 code:u8 detail:u16`.
    Error {
        /// The type of the failed request.
        request: u8,
        /// What went wrong.
        code: ErrorCode,
        /// `OUT_OF_RANGE`: the limit; `BAD_VALUE`: the field's payload offset; else 0.
        detail: u16,
    },
    /// `NAK` (0x7E): `reason:u8`. Sent with seq 0.
    Nak(NakReason),
}

/// Why a payload does not decode as a message of its type.
///
/// [`ProtoError::error_code`] gives the `ERROR` code and detail a device answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The message type does not exist (as a request for [`Request::decode`], as a response
    /// for [`Response::decode`]).
    #[error("unknown message type 0x{0:02x}")]
    UnknownType(u8),
    /// The payload length does not fit the message.
    #[error("{}: payload is {got} bytes, expected {expected}", kind::name(*.kind))]
    BadLength {
        /// The message type.
        kind: u8,
        /// The length the message needs, e.g. `"4"` or `"4 + 2 * count = 10"`.
        expected: String,
        /// The length received.
        got: usize,
    },
    /// A field has an invalid value.
    #[error("{}: invalid {what} at payload offset {offset}", kind::name(*.kind))]
    BadValue {
        /// The message type.
        kind: u8,
        /// The byte offset of the field in the payload.
        offset: u16,
        /// The field and the rule it breaks.
        what: &'static str,
    },
}

impl ProtoError {
    /// The `ERROR` code and detail a device answers with: `(UnknownType, 0)`,
    /// `(BadLength, 0)` or `(BadValue, offset)`.
    pub fn error_code(&self) -> (ErrorCode, u16) {
        match self {
            ProtoError::UnknownType(_) => (ErrorCode::UnknownType, 0),
            ProtoError::BadLength { .. } => (ErrorCode::BadLength, 0),
            ProtoError::BadValue { offset, .. } => (ErrorCode::BadValue, *offset),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Little-endian helpers. Callers check lengths first; out-of-range reads give 0, never panic.

fn rd8(p: &[u8], off: usize) -> u8 {
    p.get(off).copied().unwrap_or(0)
}

fn rd16(p: &[u8], off: usize) -> u16 {
    match p.get(off..off.saturating_add(2)) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

fn rd32(p: &[u8], off: usize) -> u32 {
    match p.get(off..off.saturating_add(4)) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

fn rd64(p: &[u8], off: usize) -> u64 {
    let lo = u64::from(rd32(p, off));
    let hi = u64::from(rd32(p, off.saturating_add(4)));
    lo | hi << 32
}

fn i16s(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i16s(out: &mut Vec<u8>, values: &[i16]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn bad_length(kind: u8, expected: impl Into<String>, got: usize) -> ProtoError {
    ProtoError::BadLength {
        kind,
        expected: expected.into(),
        got,
    }
}

fn exact(kind: u8, p: &[u8], n: usize) -> Result<(), ProtoError> {
    if p.len() == n {
        Ok(())
    } else {
        Err(bad_length(kind, n.to_string(), p.len()))
    }
}

fn at_least(kind: u8, p: &[u8], n: usize) -> Result<(), ProtoError> {
    if p.len() >= n {
        Ok(())
    } else {
        Err(bad_length(kind, format!("at least {n}"), p.len()))
    }
}

fn bad_value(kind: u8, offset: u16, what: &'static str) -> ProtoError {
    ProtoError::BadValue { kind, offset, what }
}

impl Request {
    /// The request type (0x01..=0x0B).
    pub fn kind(&self) -> u8 {
        match self {
            Request::Identify => kind::IDENTIFY,
            Request::ReadWeights { .. } => kind::READ_WEIGHTS,
            Request::WriteWeights { .. } => kind::WRITE_WEIGHTS,
            Request::LoadSamples { .. } => kind::LOAD_SAMPLES,
            Request::SetParams(_) => kind::SET_PARAMS,
            Request::Train { .. } => kind::TRAIN,
            Request::Evaluate { .. } => kind::EVALUATE,
            Request::Stop => kind::STOP,
            Request::Status => kind::STATUS,
            Request::Infer(_) => kind::INFER,
            Request::Reset => kind::RESET,
        }
    }

    /// The payload, in the layout of the [`Request`] table.
    ///
    /// Never fails: counts are written as `len() as u16` and values are not checked, so a
    /// request outside the protocol's limits (too many values, features not `n_in`) encodes
    /// to a payload the device rejects, or one longer than `MAX_PAYLOAD` that
    /// [`crate::encode_frame`] refuses.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Request::Identify | Request::Stop | Request::Status | Request::Reset => {}
            Request::ReadWeights { start, count } => {
                put16(&mut out, *start);
                put16(&mut out, *count);
            }
            Request::WriteWeights { start, values } => {
                out.reserve(4 + 2 * values.len());
                put16(&mut out, *start);
                put16(&mut out, values.len() as u16);
                put_i16s(&mut out, values);
            }
            Request::LoadSamples { start, samples } => {
                put16(&mut out, *start);
                put16(&mut out, samples.len() as u16);
                for s in samples {
                    out.push(s.label);
                    out.extend_from_slice(&s.features);
                }
            }
            Request::SetParams(p) => {
                out.reserve(Params::LEN);
                out.push(p.estimator);
                out.push(p.loss);
                put16(&mut out, p.sigma);
                out.push(p.eta_mant);
                out.push(p.eta_shift);
                put16(&mut out, p.batch);
                out.push(u8::from(p.reseed));
                put32(&mut out, p.seed);
                out.push(p.out_shift);
                out.push(p.momentum);
            }
            Request::Train {
                first,
                count,
                epochs,
            } => {
                put16(&mut out, *first);
                put16(&mut out, *count);
                put16(&mut out, *epochs);
            }
            Request::Evaluate { first, count } => {
                put16(&mut out, *first);
                put16(&mut out, *count);
            }
            Request::Infer(s) => {
                out.push(s.label);
                out.extend_from_slice(&s.features);
            }
        }
        out
    }

    /// The packet carrying this request with sequence number `seq`.
    pub fn to_packet(&self, seq: u8) -> Packet {
        Packet {
            kind: self.kind(),
            seq,
            payload: self.encode_payload(),
        }
    }

    /// Decodes a request payload; `n_in` is the device's number of inputs, which sets the
    /// length of sample records (`LOAD_SAMPLES`, `INFER`).
    ///
    /// Checks, in this order:
    /// - the type is a request type, else [`ProtoError::UnknownType`];
    /// - the fixed part is present, else [`ProtoError::BadLength`];
    /// - field values, else [`ProtoError::BadValue`] with the field's payload offset:
    ///   `READ_WEIGHTS` count 1..=254 (offset 2), `WRITE_WEIGHTS` count 1..=252 (offset 2),
    ///   `SET_PARAMS` estimator <= 3 (0), loss <= 1 (1), sigma <= 0x7FFF (2),
    ///   eta_shift <= 31 (5), batch >= 1 (6), flags bits 1..=7 clear (8), out_shift <= 31 (13),
    ///   momentum <= 7 (14), `TRAIN` count >= 1 (2) and epochs >= 1 (4), `EVALUATE`
    ///   count >= 1 (2);
    /// - the whole length (`4 + 2 * count`, `4 + count * (1 + n_in)`, `1 + n_in`), else
    ///   [`ProtoError::BadLength`].
    ///
    /// These are all the checks that depend on the packet alone; a device makes them before
    /// `BUSY`. Device limits (addresses, sample capacity, `label < n_out`, what the build
    /// leaves out) are not checked here: the device checks them after `BUSY`
    /// (docs/PROTOCOL.md section 4, "Order of checks"). Total: never panics.
    pub fn decode(kind: u8, payload: &[u8], n_in: usize) -> Result<Request, ProtoError> {
        let p = payload;
        match kind {
            kind::IDENTIFY => exact(kind, p, 0).map(|()| Request::Identify),
            kind::STOP => exact(kind, p, 0).map(|()| Request::Stop),
            kind::STATUS => exact(kind, p, 0).map(|()| Request::Status),
            kind::RESET => exact(kind, p, 0).map(|()| Request::Reset),
            kind::READ_WEIGHTS => {
                exact(kind, p, 4)?;
                let count = rd16(p, 2);
                if !(1..=MAX_READ_COUNT).contains(&count) {
                    return Err(bad_value(kind, 2, "count (must be 1..=254)"));
                }
                Ok(Request::ReadWeights {
                    start: rd16(p, 0),
                    count,
                })
            }
            kind::WRITE_WEIGHTS => {
                at_least(kind, p, 4)?;
                let count = rd16(p, 2);
                if !(1..=MAX_WRITE_COUNT).contains(&count) {
                    return Err(bad_value(kind, 2, "count (must be 1..=252)"));
                }
                let want = 4 + 2 * usize::from(count);
                if p.len() != want {
                    return Err(bad_length(kind, format!("4 + 2 * count = {want}"), p.len()));
                }
                Ok(Request::WriteWeights {
                    start: rd16(p, 0),
                    values: i16s(p.get(4..).unwrap_or_default()),
                })
            }
            kind::LOAD_SAMPLES => {
                at_least(kind, p, 4)?;
                let count = usize::from(rd16(p, 2));
                let record = n_in.checked_add(1);
                let want = record
                    .and_then(|r| r.checked_mul(count))
                    .and_then(|n| n.checked_add(4));
                let (Some(record), Some(want)) = (record, want) else {
                    return Err(bad_length(
                        kind,
                        "4 + count * (1 + n_in) (overflows)",
                        p.len(),
                    ));
                };
                if p.len() != want {
                    return Err(bad_length(
                        kind,
                        format!("4 + count * (1 + n_in) = {want}"),
                        p.len(),
                    ));
                }
                let samples = p
                    .get(4..)
                    .unwrap_or_default()
                    .chunks_exact(record)
                    .map(|r| Sample {
                        label: rd8(r, 0),
                        features: r.get(1..).unwrap_or_default().to_vec(),
                    })
                    .collect();
                Ok(Request::LoadSamples {
                    start: rd16(p, 0),
                    samples,
                })
            }
            kind::SET_PARAMS => {
                exact(kind, p, Params::LEN)?;
                let params = Params {
                    estimator: rd8(p, 0),
                    loss: rd8(p, 1),
                    sigma: rd16(p, 2),
                    eta_mant: rd8(p, 4),
                    eta_shift: rd8(p, 5),
                    batch: rd16(p, 6),
                    reseed: rd8(p, 8) & 1 != 0,
                    seed: rd32(p, 9),
                    out_shift: rd8(p, 13),
                    momentum: rd8(p, 14),
                };
                if params.estimator > Params::ESTIMATOR_WP_HYBRID {
                    return Err(bad_value(kind, 0, "estimator (must be 0, 1, 2 or 3)"));
                }
                if params.loss > 1 {
                    return Err(bad_value(kind, 1, "loss (must be 0 or 1)"));
                }
                if params.sigma > 0x7FFF {
                    return Err(bad_value(kind, 2, "sigma (must be at most 0x7FFF)"));
                }
                if params.eta_shift > 31 {
                    return Err(bad_value(kind, 5, "eta_shift (must be 0..=31)"));
                }
                if params.batch == 0 {
                    return Err(bad_value(kind, 6, "batch (must be 1..=65535)"));
                }
                if rd8(p, 8) & !1 != 0 {
                    return Err(bad_value(kind, 8, "flags (only bit 0 may be set)"));
                }
                if params.out_shift > 31 {
                    return Err(bad_value(kind, 13, "out_shift (must be 0..=31)"));
                }
                if params.momentum > 7 {
                    return Err(bad_value(kind, 14, "momentum (must be 0..=7)"));
                }
                Ok(Request::SetParams(params))
            }
            kind::TRAIN => {
                exact(kind, p, 6)?;
                let (count, epochs) = (rd16(p, 2), rd16(p, 4));
                if count == 0 {
                    return Err(bad_value(kind, 2, "count (must be 1..=65535)"));
                }
                if epochs == 0 {
                    return Err(bad_value(kind, 4, "epochs (must be 1..=65535)"));
                }
                Ok(Request::Train {
                    first: rd16(p, 0),
                    count,
                    epochs,
                })
            }
            kind::EVALUATE => {
                exact(kind, p, 4)?;
                let count = rd16(p, 2);
                if count == 0 {
                    return Err(bad_value(kind, 2, "count (must be 1..=65535)"));
                }
                Ok(Request::Evaluate {
                    first: rd16(p, 0),
                    count,
                })
            }
            kind::INFER => {
                let Some(want) = n_in.checked_add(1) else {
                    return Err(bad_length(kind, "1 + n_in (overflows)", p.len()));
                };
                if p.len() != want {
                    return Err(bad_length(kind, format!("1 + n_in = {want}"), p.len()));
                }
                Ok(Request::Infer(Sample {
                    label: rd8(p, 0),
                    features: p.get(1..).unwrap_or_default().to_vec(),
                }))
            }
            _ => Err(ProtoError::UnknownType(kind)),
        }
    }
}

impl Identity {
    fn encode_into(&self, out: &mut Vec<u8>) {
        let name: Vec<u8> = self
            .name
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .take(255)
            .collect();
        out.reserve(Identity::FIXED_LEN + name.len());
        out.extend_from_slice(&[self.version, self.n_in, self.n_hid, self.n_out]);
        put16(out, self.n_weights);
        put16(out, self.sample_capacity);
        put16(out, self.max_payload);
        out.extend_from_slice(&[self.w_frac, self.x_frac, self.z_frac, self.limits]);
        put32(out, self.clock_hz);
        put32(out, self.baud);
        put32(out, self.build_id);
        put32(out, self.cycles_per_sample);
        out.push(name.len() as u8);
        out.extend_from_slice(&name);
    }

    fn decode(k: u8, p: &[u8]) -> Result<Identity, ProtoError> {
        at_least(k, p, Identity::FIXED_LEN)?;
        let name_len = usize::from(rd8(p, 30));
        let want = Identity::FIXED_LEN + name_len;
        if p.len() != want {
            return Err(bad_length(k, format!("31 + name_len = {want}"), p.len()));
        }
        let name = p.get(Identity::FIXED_LEN..).unwrap_or_default();
        if let Some(i) = name.iter().position(|b| !b.is_ascii()) {
            return Err(bad_value(
                k,
                (Identity::FIXED_LEN + i) as u16,
                "name byte (must be ASCII)",
            ));
        }
        Ok(Identity {
            version: rd8(p, 0),
            n_in: rd8(p, 1),
            n_hid: rd8(p, 2),
            n_out: rd8(p, 3),
            n_weights: rd16(p, 4),
            sample_capacity: rd16(p, 6),
            max_payload: rd16(p, 8),
            w_frac: rd8(p, 10),
            x_frac: rd8(p, 11),
            z_frac: rd8(p, 12),
            limits: rd8(p, 13),
            clock_hz: rd32(p, 14),
            baud: rd32(p, 18),
            build_id: rd32(p, 22),
            cycles_per_sample: rd32(p, 26),
            name: name.iter().map(|&b| char::from(b)).collect(),
        })
    }
}

impl Status {
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(Status::LEN);
        out.extend_from_slice(&[self.state, 0]);
        put16(out, self.epoch);
        for v in [
            self.job_done,
            self.job_total,
            self.samples,
            self.updates,
            self.saturations,
            self.zero_updates,
            self.loss_sum,
            self.last_loss,
            self.eval_count,
            self.eval_correct,
            self.eval_loss_sum,
            self.probe_seed,
        ] {
            put32(out, v);
        }
        put16(out, self.batch_pos);
        put16(out, 0);
        out.extend_from_slice(&self.device_cycles.to_le_bytes());
    }

    fn decode(k: u8, p: &[u8]) -> Result<Status, ProtoError> {
        exact(k, p, Status::LEN)?;
        Ok(Status {
            state: rd8(p, 0),
            epoch: rd16(p, 2),
            job_done: rd32(p, 4),
            job_total: rd32(p, 8),
            samples: rd32(p, 12),
            updates: rd32(p, 16),
            saturations: rd32(p, 20),
            zero_updates: rd32(p, 24),
            loss_sum: rd32(p, 28),
            last_loss: rd32(p, 32),
            eval_count: rd32(p, 36),
            eval_correct: rd32(p, 40),
            eval_loss_sum: rd32(p, 44),
            probe_seed: rd32(p, 48),
            batch_pos: rd16(p, 52),
            device_cycles: rd64(p, 56),
        })
    }
}

impl Response {
    /// The response type: `0x81`, `0x82`, `request | 0x80`, `0x89`, `0x8A`, `0x7F` or
    /// `0x7E`.
    pub fn kind(&self) -> u8 {
        match self {
            Response::Identity(_) => kind::IDENTIFY | kind::RESPONSE,
            Response::Weights { .. } => kind::READ_WEIGHTS | kind::RESPONSE,
            Response::Done { request } => request | kind::RESPONSE,
            Response::Status(_) => kind::STATUS | kind::RESPONSE,
            Response::Inference { .. } => kind::INFER | kind::RESPONSE,
            Response::Error { .. } => kind::ERROR,
            Response::Nak(_) => kind::NAK,
        }
    }

    /// The payload, in the layout of the [`Response`] table.
    ///
    /// Never fails: counts are written as `len() as u16`; a `Weights` of more than 254
    /// values is longer than `MAX_PAYLOAD` and [`crate::encode_frame`] refuses it.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Response::Identity(id) => id.encode_into(&mut out),
            Response::Weights { start, values } => {
                out.reserve(4 + 2 * values.len());
                put16(&mut out, *start);
                put16(&mut out, values.len() as u16);
                put_i16s(&mut out, values);
            }
            Response::Done { .. } => {}
            Response::Status(s) => s.encode_into(&mut out),
            Response::Inference {
                class,
                loss,
                logits,
            } => {
                out.reserve(5 + 2 * logits.len());
                out.push(*class);
                put32(&mut out, *loss);
                put_i16s(&mut out, logits);
            }
            Response::Error {
                request,
                code,
                detail,
            } => {
                out.extend_from_slice(&[*request, *code as u8]);
                put16(&mut out, *detail);
            }
            Response::Nak(reason) => out.push(*reason as u8),
        }
        out
    }

    /// The packet carrying this response with sequence number `seq` (that of the request
    /// answered; 0 for `NAK`).
    pub fn to_packet(&self, seq: u8) -> Packet {
        Packet {
            kind: self.kind(),
            seq,
            payload: self.encode_payload(),
        }
    }

    /// Decodes a response payload.
    ///
    /// - `0x81`, `0x82`, `0x89`, `0x8A`: identity, weights, status, inference; the length
    ///   must fit exactly (`31 + name_len`, `4 + 2 * count`, 64, `5 + 2 * n_out`), and the
    ///   name must be ASCII. Reserved fields are ignored.
    /// - `0x83..=0x88` and `0x8B`: [`Response::Done`], the payload must be empty.
    /// - `0x7F`: `ERROR`, 4 bytes, code 1..=5 (else `BadValue` at offset 1).
    /// - `0x7E`: `NAK`, 1 byte, reason 1..=3 (else `BadValue` at offset 0).
    /// - any other type: [`ProtoError::UnknownType`].
    ///
    /// Total: never panics.
    pub fn decode(kind: u8, payload: &[u8]) -> Result<Response, ProtoError> {
        let p = payload;
        match kind {
            0x81 => Identity::decode(kind, p).map(Response::Identity),
            0x82 => {
                at_least(kind, p, 4)?;
                let want = 4 + 2 * usize::from(rd16(p, 2));
                if p.len() != want {
                    return Err(bad_length(kind, format!("4 + 2 * count = {want}"), p.len()));
                }
                Ok(Response::Weights {
                    start: rd16(p, 0),
                    values: i16s(p.get(4..).unwrap_or_default()),
                })
            }
            0x83..=0x88 | 0x8B => {
                exact(kind, p, 0)?;
                Ok(Response::Done {
                    request: kind & !kind::RESPONSE,
                })
            }
            0x89 => Status::decode(kind, p).map(Response::Status),
            0x8A => {
                let n_out = p.len().saturating_sub(5) / 2;
                if p.len() != 5 + 2 * n_out {
                    return Err(bad_length(kind, "5 + 2 * n_out", p.len()));
                }
                Ok(Response::Inference {
                    class: rd8(p, 0),
                    loss: rd32(p, 1),
                    logits: i16s(p.get(5..).unwrap_or_default()),
                })
            }
            kind::ERROR => {
                exact(kind, p, 4)?;
                let Some(code) = ErrorCode::from_u8(rd8(p, 1)) else {
                    return Err(bad_value(kind, 1, "error code (must be 1..=5)"));
                };
                Ok(Response::Error {
                    request: rd8(p, 0),
                    code,
                    detail: rd16(p, 2),
                })
            }
            kind::NAK => {
                exact(kind, p, 1)?;
                let Some(reason) = NakReason::from_u8(rd8(p, 0)) else {
                    return Err(bad_value(kind, 0, "NAK reason (must be 1..=3)"));
                };
                Ok(Response::Nak(reason))
            }
            _ => Err(ProtoError::UnknownType(kind)),
        }
    }
}
