// Formal property of `FrameRx` (frame_rx.rs beside this file): the receiver never writes past
// its packet buffer. Whatever bytes arrive, in any timing and whatever `accept` does, every
// write lands below `COBS_MAX` (defined by the runner as `zo_proto::COBS_MAX`). Negative
// control (`CONTROL` defined): every write lands below address 3, which a short frame breaks,
// so the control must fail (a counterexample of the base case) and the proof is not vacuous.
//
// tests/formal.rs splices the first part below into the generated module `top` before its
// `endmodule`, appends the second part (whose `top$buffer` replaces the generated one), and
// proves `harness` by k-induction at the depth named in the block's "Proved:" line with
// Debian's yosys and yosys-smtbmc (z3) on the flattened netlist: SymbiYosys' hierarchical
// model of the receiver stalls z3 before its first step.
//
// The inductive invariants: the decoder never ends a frame and emits a byte in one cycle;
// decoded bytes never outrun raw bytes within a frame; raw bytes never pass `COBS_MAX`.
// @inside top
always @(*) begin
    assert(raw_count$q <= `COBS_MAX);
    assert(!(decoder$frame_end && decoder$out_valid));
    if (!decoder$frame_end)
        assert({1'b0, count$q} + {10'd0, decoder$out_valid} <= {1'b0, raw_count$q});
`ifdef CONTROL
    if (buffer$write_enable) assert(buffer$write_address < 10'd3);
`else
    if (buffer$write_enable) assert(buffer$write_address < `COBS_MAX);
`endif
end
// @append
// The buffer's memory, replaced by a port-compatible stub whose read data is unconstrained:
// the property depends on the write port alone, and the stub keeps 523 bytes of state out of
// the solver.
module top$buffer(read_address,read_clock,read_data,write_address,write_clock,write_data,write_enable);
input wire [9:0] read_address;
input wire read_clock;
output wire [7:0] read_data;
input wire [9:0] write_address;
input wire write_clock;
input wire [7:0] write_data;
input wire write_enable;
(* anyseq *) wire [7:0] any_data;
assign read_data = any_data;
endmodule // top$buffer
// The receiver with free inputs.
module harness(input clock, input [7:0] in_data, input in_valid, input accept, input [9:0] raddr);
top dut(.clock(clock), .in_data(in_data), .in_valid(in_valid), .accept(accept), .raddr(raddr));
endmodule
