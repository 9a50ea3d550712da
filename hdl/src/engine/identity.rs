//! Identity: the IDENTIFY answer of a build (docs/PROTOCOL.md 4.1), as plain data for the
//! reference device and host code ([`identity`], [`ControllerInfo`]) and as the block RAM the
//! protocol engine reads it from ([`IdentityRom`]).
//!
//! Contract of [`IdentityRom`] (clock `clock`): `data` holds payload byte `address` of the
//! IDENTIFY response of the build it was made for (`zo_proto::Response::Identity(identity(..))
//! .encode_payload()`), one cycle after `address` is presented (a synchronous ROM: one iCE40
//! block RAM). Addresses at or past the payload's length ([`identity_bytes`]) read unspecified
//! bytes; the engine never sends them. Elaboration panics when the payload does not
//! fit the ROM's 256 bytes.
use crate::config::Shape;
use crate::formats::{IN_FRAC, W_FRAC, Z_FRAC};
use rust_hdl::prelude::*;
use zo_proto::{Identity, MAX_PAYLOAD, PROTOCOL_VERSION};

/// What a device reports in IDENTIFY besides the shape (used by the RTL engine and by the
/// reference device alike). The default describes the model-backed virtual board
/// (`virtual-model`, build 1; docs/PROTOCOL.md 4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerInfo {
    pub name: String,
    pub clock_hz: u32,
    pub baud: u32,
    pub build_id: u32,
    pub sample_capacity: u16,
    /// Whether the learner has its mini-batch accumulators (one 32-bit word per weight);
    /// builds without them take batch 1 only (IDENTIFY `limits`, docs/PROTOCOL.md 4.1).
    pub batch_accumulators: bool,
    /// Whether the learner has the hybrid estimator's exact output layer (the loss unit's
    /// derivative sweep); builds without it take estimators 0 and 1 only (IDENTIFY `limits`).
    pub exact_output: bool,
}

impl Default for ControllerInfo {
    fn default() -> Self {
        Self {
            name: "virtual-model".into(),
            clock_hz: 12_000_000,
            baud: 1_000_000,
            build_id: 1,
            sample_capacity: 2048,
            batch_accumulators: true,
            exact_output: true,
        }
    }
}

/// The IDENTIFY answer of a device with `shape` and `info` (docs/PROTOCOL.md 4.1).
pub fn identity(shape: Shape, info: &ControllerInfo) -> Identity {
    Identity {
        version: PROTOCOL_VERSION,
        n_in: shape.n_in as u8,
        n_hid: shape.n_hid as u8,
        n_out: shape.n_out as u8,
        n_weights: shape.n_weights() as u16,
        sample_capacity: info.sample_capacity,
        max_payload: MAX_PAYLOAD as u16,
        w_frac: W_FRAC as u8,
        x_frac: IN_FRAC as u8,
        z_frac: Z_FRAC as u8,
        limits: if info.batch_accumulators {
            0
        } else {
            Identity::NO_BATCH
        } | if info.exact_output {
            0
        } else {
            Identity::NO_HYBRID
        },
        clock_hz: info.clock_hz,
        baud: info.baud,
        build_id: info.build_id,
        cycles_per_sample: shape.train_cycles() as u32,
        name: info.name.clone(),
    }
}

/// The IDENTIFY payload bytes of a device with `shape` and `info`.
pub fn identity_bytes(shape: Shape, info: &ControllerInfo) -> Vec<u8> {
    zo_proto::Response::Identity(identity(shape, info)).encode_payload()
}

#[derive(LogicBlock)]
pub struct IdentityRom {
    pub clock: Signal<In, Clock>,
    pub address: Signal<In, Bits<8>>,
    pub data: Signal<Out, Bits<8>>,
    rom: SyncROM<Bits<8>, 8>,
}

impl IdentityRom {
    /// The ROM of the IDENTIFY payload of `shape` and `info`; panics (at elaboration) when the
    /// payload is longer than 256 bytes.
    pub fn new(shape: Shape, info: &ControllerInfo) -> Self {
        let id = identity_bytes(shape, info);
        assert!(id.len() <= 256, "the identity payload must fit 256 bytes");
        Self {
            clock: Default::default(),
            address: Default::default(),
            data: Default::default(),
            rom: id.into_iter().map(|b| bits::<8>(b as LiteralType)).into(),
        }
    }
}

impl Logic for IdentityRom {
    #[hdl_gen]
    fn update(&mut self) {
        self.rom.clock.next = self.clock.val();
        self.rom.address.next = self.address.val();
        self.data.next = self.rom.data.val();
    }
}
