//! `zo_hdl::engine::identity::IdentityRom` read through its port, against the IDENTIFY answer
//! of the reference device (`zo_sim::device::reference::Device`) and against the build's
//! parameters decoded from it with `zo_proto::Response::decode`.
//!
//! For several shapes and build variants (names, clocks, capacities, with and without
//! mini-batch accumulators and exact output layer), every byte of the ROM is read in a random
//! order, one clock after its address, and must equal the payload of the device's answer to
//! IDENTIFY; the decoded identity must carry the shape, the limits and the build fields it was
//! made from. Every byte is compared, so a single flipped bit anywhere in the ROM fails.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::Shape;
use zo_hdl::engine::identity::{identity_bytes, IdentityRom};
use zo_proto::{Identity, Packet, Response};
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::model::Model;

/// The payload of the reference device's answer to IDENTIFY.
fn device_identity(shape: Shape, info: &DeviceInfo) -> Vec<u8> {
    let mut dev = Device::new(Model::new(shape, 1), info.clone());
    let request = Packet {
        kind: 1,
        seq: 5,
        payload: Vec::new(),
    };
    let packet = dev.request(&request).expect("one good answer");
    assert_eq!(packet.kind, 0x81, "IDENTIFY's answer");
    packet.payload
}

/// Reads every byte of `rom` (in a shuffled order) through its synchronous port.
fn read_rom(rom: &mut IdentityRom, len: usize, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    let mut out = vec![0u8; len];
    let set_clock = |u: &mut IdentityRom, c: bool| u.clock.next = c.into();
    for a in order {
        rom.address.next = (a as u64).to_bits();
        zo_sim::harness::testkit::rising_edge(rom, "IdentityRom", set_clock);
        out[a] = rom.data.val().index() as u8;
    }
    out
}

#[test]
fn rom_holds_the_identify_answer_of_its_build() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let builds = [
        (Shape::new(5, 4, 3), DeviceInfo::default()),
        (
            Shape::new(64, 32, 10),
            DeviceInfo {
                name: "icebreaker".into(),
                clock_hz: 24_000_000,
                baud: 3_000_000,
                build_id: 0x1234_5678,
                sample_capacity: 500,
                batch_accumulators: false,
                exact_output: false,
            },
        ),
        (
            Shape::new(12, 6, 4),
            DeviceInfo {
                name: "a".into(),
                build_id: 0xFFFF_FFFF,
                sample_capacity: 75,
                batch_accumulators: true,
                exact_output: false,
                ..DeviceInfo::default()
            },
        ),
        (
            Shape::new(2, 3, 2),
            DeviceInfo {
                name: "x".repeat(32),
                clock_hz: 100_000_000,
                sample_capacity: 1,
                batch_accumulators: false,
                exact_output: true,
                ..DeviceInfo::default()
            },
        ),
    ];
    for (shape, info) in builds {
        let want = device_identity(shape, &info);
        assert_eq!(identity_bytes(shape, &info), want, "identity_bytes");
        let mut rom = IdentityRom::new(shape, &info);
        rom.connect_all();
        zo_sim::harness::testkit::settle(&mut rom, "IdentityRom");
        let got = read_rom(&mut rom, want.len(), &mut rng);
        assert_eq!(got, want, "ROM of {shape:?} {info:?}");
        let Response::Identity(id) = Response::decode(0x81, &got).expect("an IDENTIFY answer")
        else {
            panic!("not an identity");
        };
        assert_eq!(
            (id.n_in, id.n_hid, id.n_out, id.n_weights),
            (
                shape.n_in as u8,
                shape.n_hid as u8,
                shape.n_out as u8,
                shape.n_weights() as u16
            )
        );
        assert_eq!(id.sample_capacity, info.sample_capacity);
        assert_eq!(
            (id.name.as_str(), id.clock_hz, id.baud, id.build_id),
            (info.name.as_str(), info.clock_hz, info.baud, info.build_id)
        );
        assert_eq!(
            id.limits & Identity::NO_BATCH != 0,
            !info.batch_accumulators
        );
        assert_eq!(id.limits & Identity::NO_HYBRID != 0, !info.exact_output);
    }
}
