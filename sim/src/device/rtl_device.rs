//! The rust-hdl protocol engine (`zo_hdl::engine::controller::Controller`) stepped directly, byte by
//! byte: bytes in, bytes out. The complete device through its UART pins is
//! [`crate::device::uart_device`]; this one skips the bit timing for speed.

use rust_hdl::prelude::*;
use zo_hdl::config::Shape;
use zo_hdl::engine::controller::{Controller, ControllerInfo};

pub struct RtlDevice<const AW: usize, const SA: usize> {
    uut: Box<Controller<AW, SA>>,
    /// Clock cycles simulated.
    pub cycles: u64,
    out: Vec<u8>,
}

impl<const AW: usize, const SA: usize> RtlDevice<AW, SA> {
    /// Elaborates the engine and runs its power-on reset.
    pub fn new(shape: Shape, info: &ControllerInfo) -> Self {
        let mut uut = Box::new(Controller::<AW, SA>::new(shape, info));
        uut.connect_all();
        uut.tx_ready.next = true;
        let mut d = Self {
            uut,
            cycles: 0,
            out: Vec::new(),
        };
        d.settle();
        // Power-on: the sample buffer is zeroed, then RESET runs; the engine then listens.
        let limit = (8 << AW) + (1 << SA) + 1000;
        d.tick();
        while !d.uut.link_idle.val() {
            d.tick();
            assert!(
                d.cycles < limit,
                "the engine never finished its power-on reset"
            );
        }
        d
    }

    fn settle(&mut self) {
        crate::harness::testkit::settle(&mut *self.uut, "the controller");
    }

    /// One clock; a byte the engine sends in this cycle is collected.
    pub fn tick(&mut self) {
        if self.uut.tx_send.val() {
            self.out.push(self.uut.tx_data.val().index() as u8);
        }
        crate::harness::testkit::high_then_low(&mut *self.uut, "the controller", |u, c| {
            u.clock.next = c.into()
        });
        self.uut.in_valid.next = false;
        self.cycles += 1;
    }

    /// Feeds bytes, one every `gap` cycles (a UART delivers one per 10 bit times).
    pub fn feed(&mut self, bytes: &[u8], gap: usize) {
        for &b in bytes {
            self.uut.in_data.next = (b as u64).to_bits();
            self.uut.in_valid.next = true;
            self.settle();
            for _ in 0..gap.max(1) {
                self.tick();
            }
        }
    }

    /// Bytes sent so far, drained.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Feeds a request and ticks until `frames` complete frames (delimiters) have come back
    /// or `max_cycles` pass.
    pub fn transact(&mut self, bytes: &[u8], frames: usize, max_cycles: u64) -> Vec<u8> {
        self.feed(bytes, 4);
        let start = self.cycles;
        while self.out.iter().filter(|&&b| b == 0).count() < frames
            && self.cycles - start < max_cycles
        {
            self.tick();
        }
        self.take_output()
    }

    pub fn job_running(&self) -> bool {
        self.uut.job_running.val()
    }

    /// Ticks until the background job has finished.
    pub fn run_job(&mut self, max_cycles: u64) {
        let start = self.cycles;
        while self.job_running() && self.cycles - start < max_cycles {
            self.tick();
        }
    }
}
