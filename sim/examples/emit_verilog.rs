//! Writes the generated Verilog of a learner: `cargo run --release -p zo-sim --example emit_verilog -- OUT.v [n_in n_hid n_out]`
use zo_hdl::config::Shape;
use zo_sim::harness::rtl::RtlLearner;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .expect("usage: emit_verilog OUT.v [n_in n_hid n_out]");
    let n = |i: usize, d: usize| {
        args.get(i)
            .map(|s| s.parse().expect("a number"))
            .unwrap_or(d)
    };
    let shape = Shape::new(n(2, 64), n(3, 32), n(4, 10));
    let rtl = RtlLearner::<12>::new(shape);
    std::fs::write(out, rtl.verilog()).expect("write the Verilog file");
}
