//! Hyper-parameter exploration on the reference model (development aid).
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_sim::dataset::builtin;
use zo_sim::model::Model;
use zo_sim::train::{accuracy, init_weights, train_epoch, PreparedData};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = &args[1];
    let hid: usize = args[2].parse().unwrap();
    let sigma: u16 = args[3].parse().unwrap();
    let mant: u8 = args[4].parse().unwrap();
    let shift: u8 = args[5].parse().unwrap();
    let epochs: usize = args[6].parse().unwrap();
    let est = if args.get(7).map(|s| s.as_str()) == Some("wp") { Estimator::WeightPerturbation } else { Estimator::NodePerturbation };
    let loss = if args.get(8).map(|s| s.as_str()) == Some("mse") { LossKind::SquaredError } else { LossKind::CrossEntropy };
    let batch: u16 = args.get(9).map(|s| s.parse().unwrap()).unwrap_or(1);
    let ds = builtin(name).unwrap();
    let shape = Shape::new(ds.n_features(), hid, ds.n_classes.max(2));
    let data = PreparedData::new(&ds, shape.n_in, 0.3, 0);
    let mut m = Model::new(shape, 1);
    m.set_weights(&init_weights(shape, 1));
    m.params = TrainParams { estimator: est, loss, sigma, eta_mant: mant, eta_shift: shift, batch };
    let t = std::time::Instant::now();
    for e in 0..epochs {
        train_epoch(&mut m, &data, 7, e);
        if e % 5 == 4 || e + 1 == epochs {
            let tr = accuracy(&mut m, &data.train_x, &data.train_y);
            let te = accuracy(&mut m, &data.test_x, &data.test_y);
            let c = m.counters;
            println!("epoch {:3} train {:.3} test {:.3} loss {:.3} sat {} zero {:.2} {:.1}s", e + 1, tr, te,
                c.last_loss as f64 / 256.0, c.saturations, c.zero_updates as f64 / (c.updates as f64 * shape.n_weights() as f64), t.elapsed().as_secs_f64());
        }
    }
}
