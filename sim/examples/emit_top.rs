//! Writes the generated Verilog of a board top-level:
//! `cargo run --release -p zo-sim --example emit_top -- BOARD OUT.v`
use rust_hdl::prelude::*;
use zo_hdl::board::top::{board, BoardTop};
use zo_hdl::config::Shape;
use zo_hdl::engine::controller::ControllerInfo;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let b = board(args.get(1).map(String::as_str).unwrap_or("icebreaker")).expect("a board name");
    let out = args.get(2).expect("usage: emit_top BOARD OUT.v");
    let shape = Shape::new(16, 16, 4);
    let info = ControllerInfo {
        name: b.name.into(),
        clock_hz: b.fabric_hz,
        baud: b.baud,
        build_id: 1,
        sample_capacity: 64,
        batch_accumulators: true,
        exact_output: true,
    };
    let mut top = BoardTop::<9, 11>::new(b, shape, &info);
    top.connect_all();
    std::fs::write(out, generate_verilog(&top)).expect("write");
}
