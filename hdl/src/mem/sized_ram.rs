//! Simple dual-port synchronous RAM of any depth (rust-hdl's `RAM` always has `2^N` words, which
//! wastes block RAM when the depth is not a power of two: 2410 weights would take 4096 words).
//!
//! Contract: one clock per port. At a rising edge of `read_clock`, `read_data` takes the word at
//! `read_address` (reading at or beyond `depth` gives 0 in simulation and is never done by
//! the design). At a rising edge of `write_clock` with `write_enable`, `write_data` is stored at
//! `write_address`. A read and a write of the same address at the same edge read the old word.
//! All words are 0 at power-on (`initial` block), which yosys maps to block RAM contents.
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// Panics (at elaboration) unless a RAM with `address_bits` can hold `depth` words.
pub(crate) fn check_depth(depth: usize, address_bits: usize) {
    assert!(
        depth >= 1 && depth <= 1 << address_bits,
        "a RAM with {address_bits} address bits holds 1..={} words, not {depth}",
        1usize << address_bits
    );
}

#[derive(LogicBlock)]
pub struct SizedRam<D: Synth, const N: usize> {
    pub read_address: Signal<In, Bits<N>>,
    pub read_clock: Signal<In, Clock>,
    pub read_data: Signal<Out, D>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_clock: Signal<In, Clock>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, bool>,
    _depth: usize,
    _words: BTreeMap<Bits<N>, D>,
}

impl<D: Synth, const N: usize> SizedRam<D, N> {
    /// A RAM of `depth` words (1..=2^N), all zero.
    pub fn new(depth: usize) -> Self {
        check_depth(depth, N);
        Self {
            read_address: Default::default(),
            read_clock: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_clock: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _depth: depth,
            _words: BTreeMap::new(),
        }
    }
}

/// A RAM of the full `2^N` words.
impl<D: Synth, const N: usize> Default for SizedRam<D, N> {
    fn default() -> Self {
        Self::new(1 << N)
    }
}

impl<D: Synth, const N: usize> Logic for SizedRam<D, N> {
    fn update(&mut self) {
        if self.read_clock.pos_edge() {
            self.read_data.next = self
                ._words
                .get(&self.read_address.val())
                .copied()
                .unwrap_or_default();
        }
        if self.write_clock.pos_edge()
            && self.write_enable.val()
            && self.write_address.val().index() < self._depth
        {
            self._words
                .insert(self.write_address.val(), self.write_data.val());
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
reg [{msb}:0] mem [0:{last}];
integer i;
initial begin
    for (i = 0; i <= {last}; i = i + 1) mem[i] = 0;
end
always @(posedge read_clock) begin
    read_data <= mem[read_address];
end
always @(posedge write_clock) begin
    if (write_enable) begin
        mem[write_address] <= write_data;
    end
end
",
            msb = D::BITS - 1,
            last = self._depth - 1
        ))
    }
}
