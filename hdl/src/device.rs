//! The device: UART receiver and transmitter around the protocol engine. Everything a board
//! needs except its clock, pins and LEDs (see [`crate::board::top`]).
//!
//! Contract: `rxd` / `txd` are the 8N1 serial lines at `clock_hz / clocks_per_bit` baud
//! (`rxd` may be asynchronous: the receiver synchronises it). `activity` is high for about
//! 2^20 clocks after each received byte; `training` while a job runs; `error` once any NAK or
//! ERROR has been sent (until power-off).
use crate::config::Shape;
use crate::engine::controller::{Controller, ControllerInfo};
use crate::link::uart_rx::UartRx;
use crate::link::uart_tx::UartTx;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct ZoDevice<const AW: usize, const SA: usize> {
    pub clock: Signal<In, Clock>,
    pub rxd: Signal<In, bool>,
    pub txd: Signal<Out, bool>,
    pub activity: Signal<Out, bool>,
    pub training: Signal<Out, bool>,
    pub error: Signal<Out, bool>,
    /// The engine is idle and silent (for simulation harnesses; not a pin).
    pub link_idle: Signal<Out, bool>,
    receiver: UartRx,
    transmitter: UartTx,
    engine: Controller<AW, SA>,
    stretch: DFF<Bits<20>>,
}

impl<const AW: usize, const SA: usize> ZoDevice<AW, SA> {
    pub fn new(shape: Shape, info: &ControllerInfo, clocks_per_bit: usize) -> Self {
        Self {
            clock: Default::default(),
            rxd: Default::default(),
            txd: Default::default(),
            activity: Default::default(),
            training: Default::default(),
            error: Default::default(),
            link_idle: Default::default(),
            receiver: UartRx::new(clocks_per_bit),
            transmitter: UartTx::new(clocks_per_bit),
            engine: Controller::new(shape, info),
            stretch: Default::default(),
        }
    }
}

impl<const AW: usize, const SA: usize> Logic for ZoDevice<AW, SA> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, stretch);
        self.receiver.clock.next = self.clock.val();
        self.transmitter.clock.next = self.clock.val();
        self.engine.clock.next = self.clock.val();
        self.receiver.rxd.next = self.rxd.val();
        self.engine.in_data.next = self.receiver.data.val();
        self.engine.in_valid.next = self.receiver.valid.val();
        self.transmitter.data.next = self.engine.tx_data.val();
        self.transmitter.send.next = self.engine.tx_send.val();
        self.engine.tx_ready.next = self.transmitter.ready.val();
        self.txd.next = self.transmitter.txd.val();
        if self.receiver.valid.val() {
            self.stretch.d.next = 0xFFFFF.into();
        } else if self.stretch.q.val() != 0 {
            self.stretch.d.next = self.stretch.q.val() - 1;
        }
        self.activity.next = self.stretch.q.val() != 0;
        self.training.next = self.engine.job_running.val();
        self.error.next = self.engine.error_seen.val();
        self.link_idle.next = self.engine.link_idle.val() & self.transmitter.ready.val();
    }
}
