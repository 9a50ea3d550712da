// Formal property of `FrameTx` (frame_tx.rs beside this file): the transmitter never reads
// past its packet buffer. Whatever the executor writes and whenever the UART is ready, every
// read of the buffer lands below `COBS_MAX` (defined by the runner as `zo_proto::COBS_MAX`),
// given the contract's `len` of 6..=518 with `start`. Negative control (`CONTROL` defined):
// every read lands below address 7, which a 6-byte packet breaks (its scan reads one byte
// past the end), so the control must fail (a counterexample of the base case) and the proof
// is not vacuous.
//
// tests/formal.rs splices the first part below into the generated module `top` before its
// `endmodule`, appends the second part (whose `top$buffer` replaces the generated one), and
// proves `harness` by k-induction at the depth named in the block's "Proved:" line with
// Debian's yosys and yosys-smtbmc (z3) on the flattened netlist. The depth lets the base case
// reach the control's counterexample (a 6-byte packet's scan reads address 7 at step 8).
//
// The inductive invariants, by state (the generated `TxState$...` values; Code, Data and Gap
// send a block): the packet is at most 518 bytes; the scan never passes one byte beyond the
// packet; a block (`run` bytes from `pos`) never passes its end, and one cut by a zero byte
// ends before it.
// @inside top
wire [10:0] at = {1'b0, pos$q} + {1'b0, index$q};
wire [10:0] block_end_wide = {1'b0, pos$q} + {1'b0, run$q};
always @(*) begin
    if (start) assume(len >= 10'd6 && len <= 10'd518);
    assert(total$q <= 10'd518);
    assert(state$q <= TxState$Delimiter);
    if (state$q == TxState$ScanStart) assert(index$q == 10'd0 && pos$q <= total$q);
    if (state$q == TxState$Scan) assert(index$q >= 10'd1 && index$q <= 10'd254 && at <= {1'b0, total$q} + 11'd1);
    if (state$q == TxState$Code) assert(index$q == 10'd0);
    if (state$q >= TxState$Code && state$q <= TxState$Gap)
        assert(run$q <= 10'd254 && block_end_wide <= {1'b0, total$q} && index$q <= run$q);
    if (state$q >= TxState$Code && state$q <= TxState$Gap && zero_hit$q) assert(block_end_wide < {1'b0, total$q});
    if (state$q == TxState$Data) assert(index$q < run$q);
    if (state$q == TxState$Idle || state$q == TxState$Delimiter) assert(at <= {1'b0, total$q} + 11'd1);
`ifdef CONTROL
    assert(buffer$read_address < 10'd7);
`else
    assert(buffer$read_address < `COBS_MAX);
`endif
end
// @append
// The buffer's memory, replaced by a port-compatible stub whose read data is unconstrained:
// the property depends on the read address alone.
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
// The transmitter with free inputs.
module harness(input clock, input we, input [9:0] waddr, input [7:0] wdata, input start,
               input [9:0] len, input nak_start, input [7:0] nak_reason, input tx_ready);
top dut(.clock(clock), .we(we), .waddr(waddr), .wdata(wdata), .start(start), .len(len),
        .nak_start(nak_start), .nak_reason(nak_reason), .tx_ready(tx_ready));
endmodule
