// Formal property of `Lfsr<32>` (lfsr.rs beside this file): the state is never zero, whatever
// `load`, `seed` and `advance` do. Negative control (`CONTROL` defined): the state never
// reaches 1, which is false (1 is the power-on state), so the control must fail and the proof
// is not vacuous.
//
// tests/formal.rs appends this file to the block's generated Verilog (module `top`) and proves
// the wrapper `props` by k-induction with SymbiYosys (smtbmc, z3) at the depth named in the
// block's "Proved:" line. The inputs of `props` are free: the solver chooses them every cycle.
// @append
module props(input clock, input load, input [31:0] seed, input advance);
wire lsb; wire [31:0] state;
top dut(.clock(clock), .load(load), .seed(seed), .advance(advance), .lsb(lsb), .state(state));
`ifdef CONTROL
always @(*) assert(state != 32'd1);
`else
always @(*) assert(state != 32'd0);
`endif
endmodule
