//! Single-port synchronous RAM of any depth, written so that yosys can map it to the iCE40
//! UP5K's single-port SPRAM (`synth_ice40 -spram`: 16 K x 16 per block, 4 blocks) as well as to
//! ordinary block RAM elsewhere. The sample buffer uses it: its reads (the learner, the job
//! engine) and its writes (LOAD_SAMPLES, INFER) never happen in the same cycle.
//!
//! Contract: one clock. At a rising edge with `write_enable`, `write_data` is stored at
//! `address`; without it, `read_data` takes the word at `address` (after a write `read_data`
//! is unspecified until the next read). Addresses at or beyond `depth` are never used.
//! SPRAM cannot be initialised, so the contents at power-on are unspecified on hardware; the
//! simulation models (rust-hdl, and the Verilog outside synthesis) start from zeros, and the
//! device clears the buffer at power-on (`crate::engine::controller`).
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

#[derive(LogicBlock)]
pub struct SinglePortRam<D: Synth, const N: usize> {
    pub clock: Signal<In, Clock>,
    pub address: Signal<In, Bits<N>>,
    pub write_enable: Signal<In, bool>,
    pub write_data: Signal<In, D>,
    pub read_data: Signal<Out, D>,
    _depth: usize,
    _words: BTreeMap<Bits<N>, D>,
}

impl<D: Synth, const N: usize> SinglePortRam<D, N> {
    /// A RAM of `depth` words (1..=2^N).
    pub fn new(depth: usize) -> Self {
        crate::mem::sized_ram::check_depth(depth, N);
        Self {
            clock: Default::default(),
            address: Default::default(),
            write_enable: Default::default(),
            write_data: Default::default(),
            read_data: Default::default(),
            _depth: depth,
            _words: BTreeMap::new(),
        }
    }
}

impl<D: Synth, const N: usize> Logic for SinglePortRam<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.write_enable.val() {
                if self.address.val().index() < self._depth {
                    self._words
                        .insert(self.address.val(), self.write_data.val());
                }
            } else {
                self.read_data.next = self
                    ._words
                    .get(&self.address.val())
                    .copied()
                    .unwrap_or_default();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
reg [{msb}:0] mem [0:{last}];
`ifndef SYNTHESIS
integer i;
initial begin
    for (i = 0; i <= {last}; i = i + 1) mem[i] = 0;
end
`endif
always @(posedge clock) begin
    if (write_enable) begin
        mem[address] <= write_data;
    end else begin
        read_data <= mem[address];
    end
end
",
            msb = D::BITS - 1,
            last = self._depth - 1
        ))
    }
}
