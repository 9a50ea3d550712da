// Formal property of `UartRx` (uart_rx.rs beside this file): the receiver returns to idle.
// Whatever the line did before, once it has been high for `IDLE_AFTER` cycles the receiver is
// not busy. `IDLE_AFTER` is 11 bit times (a whole frame plus the recovery window) and the
// 4-stage synchroniser and sample history. Negative control (`CONTROL` defined): 2 bit times
// are not enough, so the control must fail and the proof is not vacuous.
//
// tests/formal.rs elaborates the receiver at `CLOCKS_PER_BIT` (defined by the runner), splices
// the part below into the generated module `top` before its `endmodule`, and proves it by
// k-induction with SymbiYosys (smtbmc, z3) at the depth named in the block's "Proved:" line.
// `rxd` is free. `high` counts the cycles the line has been high (saturating); the first three
// assertions are the inductive invariants on the block's counters that k-induction needs.
// @inside top
`ifdef CONTROL
localparam IDLE_AFTER = 2 * `CLOCKS_PER_BIT;
`else
localparam IDLE_AFTER = 11 * `CLOCKS_PER_BIT + 4;
`endif
reg [7:0] high = 0;
always @(posedge clock) high <= rxd ? (high == 8'hFF ? high : high + 8'd1) : 8'd0;
always @(*) begin
    assert(count$q <= last_count);
    assert(bit_index$q <= 4'd9);
    assert(state$q <= 2'd2);
    if (high >= IDLE_AFTER) assert(!busy);
end
