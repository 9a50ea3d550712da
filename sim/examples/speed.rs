//! Benchmark: reference model vs directly stepped rust-hdl simulation, same network and samples.
//! `cargo run --release -p zo-sim --example speed`
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use zo_hdl::config::{Shape, TrainParams};
use zo_sim::data::schedule::init_weights;
use zo_sim::harness::rtl::RtlLearner;
use zo_sim::model::Model;

fn main() {
    let shape = Shape::new(64, 32, 10);
    let params = TrainParams {
        sigma: 64,
        eta_shift: 9,
        ..TrainParams::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let samples: Vec<(Vec<u8>, usize)> = (0..2000)
        .map(|_| ((0..64).map(|_| rng.gen()).collect(), rng.gen_range(0..10)))
        .collect();
    let w0 = init_weights(shape, 1);

    let mut model = Model::new(shape, 1);
    model.params = params;
    model.set_weights(&w0);
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 2.0 {
        let (x, y) = &samples[n % samples.len()];
        model.train(x, *y);
        n += 1;
    }
    let model_rate = n as f64 / t.elapsed().as_secs_f64();

    let mut rtl = RtlLearner::<12>::new(shape);
    rtl.set_params(&params);
    rtl.write_weights(&w0);
    let c0 = rtl.cycles;
    let t = Instant::now();
    let mut m = 0;
    while t.elapsed().as_secs_f64() < 5.0 {
        let (x, y) = &samples[m % samples.len()];
        rtl.train(x, *y);
        m += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    let rtl_rate = m as f64 / secs;
    let cycle_rate = (rtl.cycles - c0) as f64 / secs;
    println!("network {shape}, {} cycles per sample", rtl.last_op_cycles);
    println!("reference model: {model_rate:.0} samples/s");
    println!("rust-hdl simulation: {rtl_rate:.1} samples/s ({cycle_rate:.0} cycles/s)");
    println!("model / rtl: {:.0}x", model_rate / rtl_rate);
}
