//! The complete rust-hdl device (`zo_hdl::device::ZoDevice`: UARTs and protocol engine around
//! the learner) driven through its serial pins: what the virtual board serves with the `top`
//! backend, in place of the reference device (exact, slowest). Host bytes become an ideal 8N1
//! waveform on `rxd` (`crate::harness::uart::frame`); `txd` is decoded by the software
//! receiver model (`crate::harness::uart::LineDecoder`).

use crate::device::vboard::SerialDevice;
use crate::harness::uart::{frame, LineDecoder, RxEvent};
use crate::harness::vcd::{VcdError, VcdRecorder, VcdSpec};
use rust_hdl::prelude::*;
use zo_hdl::config::Shape;
use zo_hdl::device::ZoDevice;
use zo_hdl::engine::controller::ControllerInfo;

/// The device's scope in a waveform file.
const VCD_TOP: &str = "device";

/// Consecutive idle cycles after which a request is taken as fully answered.
const QUIET: u32 = 64;

pub struct UartDevice<const AW: usize, const SA: usize> {
    uut: Box<ZoDevice<AW, SA>>,
    clocks_per_bit: usize,
    decoder: LineDecoder,
    out: Vec<u8>,
    /// Clock cycles simulated.
    pub cycles: u64,
    /// Frame errors seen on `txd` (must stay 0).
    pub tx_frame_errors: u64,
    vcd: Option<VcdRecorder>,
}

impl<const AW: usize, const SA: usize> UartDevice<AW, SA> {
    pub fn new(shape: Shape, info: &ControllerInfo, clocks_per_bit: usize) -> Self {
        let mut uut = Box::new(ZoDevice::<AW, SA>::new(shape, info, clocks_per_bit));
        uut.connect_all();
        uut.rxd.next = true;
        let mut b = Self {
            uut,
            clocks_per_bit,
            decoder: LineDecoder::new(clocks_per_bit),
            out: Vec::new(),
            cycles: 0,
            tx_frame_errors: 0,
            vcd: None,
        };
        b.settle();
        b.wait_quiet(1_000_000);
        b
    }

    /// Records the device's signals selected by `spec` into a VCD file (top scope `device`),
    /// one sample per clock cycle counted from power-on, until the harness is dropped.
    pub fn record_vcd(&mut self, spec: &VcdSpec) -> Result<(), VcdError> {
        self.vcd = Some(VcdRecorder::create(spec, &*self.uut, VCD_TOP)?);
        Ok(())
    }

    fn settle(&mut self) {
        crate::harness::testkit::settle(&mut *self.uut, "the device");
    }

    fn tick(&mut self, rxd: bool) {
        self.uut.rxd.next = rxd;
        crate::harness::testkit::high_then_low(&mut *self.uut, "the device", |u, c| {
            u.clock.next = c.into()
        });
        self.cycles += 1;
        if let Some(v) = self.vcd.as_mut() {
            v.sample(self.cycles, &*self.uut, VCD_TOP);
        }
        match self.decoder.push(self.uut.txd.val()) {
            Some(RxEvent::Byte(b)) => self.out.push(b),
            Some(RxEvent::FrameError) => self.tx_frame_errors += 1,
            None => {}
        }
    }

    fn quiet(&self) -> bool {
        self.uut.link_idle.val() && !self.decoder.busy()
    }

    /// Ticks with an idle line until the device has been idle for `QUIET` cycles.
    fn wait_quiet(&mut self, max_cycles: u64) {
        let start = self.cycles;
        let mut quiet = 0;
        while quiet < QUIET && self.cycles - start < max_cycles {
            self.tick(true);
            quiet = if self.quiet() { quiet + 1 } else { 0 };
        }
    }
}

impl<const AW: usize, const SA: usize> SerialDevice for UartDevice<AW, SA> {
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        for &byte in bytes {
            for level in frame(byte) {
                for _ in 0..self.clocks_per_bit {
                    self.tick(level);
                }
            }
        }
        self.wait_quiet(5_000_000);
        std::mem::take(&mut self.out)
    }

    fn busy(&self) -> bool {
        self.uut.training.val()
    }

    fn step(&mut self) {
        for _ in 0..2000 {
            self.tick(true);
        }
    }
}
