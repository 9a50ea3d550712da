//! Design harness for the self-tuning rule: tune on a CSV pair's training rows (the fit rows in
//! the file's order, as the device run trains them), then train each winner on the fit rows and
//! report, as one JSON line, the validation and test accuracy at the winner's best validation
//! epoch (what the device run does) under several selection rules applied to the same trials.
//!
//! `cargo run --release -p zo-sim --example tune_csv -- TRAIN.csv TEST.csv [np|wp|hybrid|wp-hybrid] [ce|mse] [SEED] [decay|flat]`
//!
//! Design knobs (environment): `TUNE_SIGMAS`, `TUNE_SHIFTS`, `TUNE_OUTS` (comma lists) replace
//! the grid's axes; `TUNE_HORIZON` (samples) the decay schedule's span; `TUNE_EXTEND=F` trains
//! the finalists F times the span (decay period unchanged; default [`tune::EXTENSION`]); `TUNE_SMOOTH=K1,K2,..` the selection
//! rules' half-windows ([`tune::best_of`]). Each selection rule is a key of the JSON line:
//! `R` is the library's choice (what `zo train` runs), `H{k}` chooses within the span, `P{k}` too on the mean of the two seeds' curves, `X{k}` over the extended run, `C{k}` extends only when
//! the horizon's winner peaks in its last tenth. `TUNE_REFIT=1` adds `refit`: the test accuracy of `R`'s setting and epochs trained on every
//! training row (fit and validation) instead. `TUNE_WD` and `TUNE_MOMENTUM` set the weight
//! decay and momentum. `TUNE_DEBUG=1` prints train and test accuracy after every epoch of the
//! winners' runs. `TUNE_PROBE=K1,K2,..` also trains the winner over the whole run once per K
//! and prints one JSON line each with the best validation epoch's accuracies: K in 1..=15 with
//! the weight decay `schedule::decayed_weights(K)` at each epoch's start, K = 0 without,
//! K >= 100 scoring an exponential average of the weights over epochs with factor (K - 100) / 100
//! instead.

use std::path::Path;
use zo_hdl::config::{Estimator, LossKind, Shape};
use zo_sim::data::dataset::{load_file, FileOptions};
use zo_sim::data::scaling::Quantizer;
use zo_sim::data::schedule::{accuracy, decayed_weights, quantize_rows, PreparedData};
use zo_sim::data::tune;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let opts = FileOptions::default();
    let train = load_file(Path::new(&a[0]), &opts)
        .unwrap()
        .into_dataset()
        .unwrap();
    let test = load_file(Path::new(&a[1]), &opts)
        .unwrap()
        .into_dataset_with_classes(&train.class_names)
        .unwrap();
    let est: Estimator = a
        .get(2)
        .map_or(Estimator::NodePerturbation, |s| s.parse().unwrap());
    let loss = if a.get(3).map(String::as_str) == Some("mse") {
        LossKind::SquaredError
    } else {
        LossKind::CrossEntropy
    };
    let seed: u32 = a.get(4).map_or(1, |s| s.parse().unwrap());
    let decay = a.get(5).map(String::as_str) != Some("flat");
    let shape: Shape = Shape::new(64.max(train.n_features()), 32, 10);
    let all: Vec<usize> = (0..train.len()).collect();
    let q = Quantizer::fit(&train, &all);
    let (tx, ty) = quantize_rows(&q, &train, &all, shape.n_in);
    let test_rows: Vec<usize> = (0..test.len()).collect();
    let (sx, sy) = quantize_rows(&q, &test, &test_rows, shape.n_in);
    let (mut fit, val) = tune::validation_split(&ty, train.n_classes, seed);
    // The device trains the fit rows in the file's order (host autotune::holdout).
    fit.sort_unstable();
    let sel = |idx: &[usize]| -> (Vec<Vec<u8>>, Vec<usize>) {
        idx.iter().map(|&i| (tx[i].clone(), ty[i])).unzip()
    };
    let (fx, fy) = sel(&fit);
    let (vx, vy) = sel(&val);
    // Design experiments: TUNE_SIGMAS / TUNE_SHIFTS (comma lists) and TUNE_HORIZON (samples)
    // override the library's grid and horizon.
    let list = |k: &str| -> Option<Vec<u32>> {
        std::env::var(k)
            .ok()
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
    };
    let sigmas: Vec<u16> = list("TUNE_SIGMAS").map_or(tune::SIGMAS.to_vec(), |v| {
        v.iter().map(|&x| x as u16).collect()
    });
    let shifts: Vec<u8> = list("TUNE_SHIFTS").map_or(tune::ETA_SHIFTS.to_vec(), |v| {
        v.iter().map(|&x| x as u8).collect()
    });
    let horizon = match list("TUNE_HORIZON") {
        Some(h) => {
            ((h[0] as usize / fx.len().max(1)) as u32).clamp(tune::MIN_EPOCHS, tune::MAX_EPOCHS)
        }
        None => tune::decay_span(fx.len()),
    };
    // TUNE_EXTEND=F: the finalists train F times the horizon (the decay period stays the
    // horizon's), so that selection rules limited to the horizon and rules that extend it are
    // scored on the same trials.
    // Without it, the library's horizon ([`tune::horizon`]).
    let (num, den) = tune::EXTENSION;
    let extend: f64 =
        std::env::var("TUNE_EXTEND").map_or(num as f64 / den as f64, |v| v.parse().unwrap());
    let trained = ((horizon as f64 * extend).round() as u32).max(horizon);
    let spec = tune::TuneSpec {
        shape,
        estimator: est,
        loss,
        batch: 1,
        eta_mant: 1,
        seed,
        max_epochs: trained,
        decay_every: if decay { tune::decay_every(horizon) } else { 0 },
        weight_decay: std::env::var("TUNE_WD").map_or(0, |v| v.parse().unwrap()),
        momentum: list("TUNE_MOMENTUM").map_or(0, |v| v[0] as u8),
    };
    let t0 = std::time::Instant::now();
    let outs: Vec<u8> = list("TUNE_OUTS").map_or(tune::Grid::full(est).out_shifts, |v| {
        v.iter().map(|&x| x as u8).collect()
    });
    let grid = tune::Grid {
        sigmas,
        eta_shifts: shifts,
        out_shifts: outs,
    };
    let r = tune::tune(&spec, &grid, (&fx, &fy), (&vx, &vy), 2);
    let tune_s = t0.elapsed().as_secs_f64();
    let data = PreparedData {
        train_x: tx,
        train_y: ty,
        test_x: sx,
        test_y: sy,
    };
    // Selection variants on the same finals (TUNE_SMOOTH: half-windows; "H": within the
    // horizon, "X": the whole extended run, "C": extended only when the horizon's winner
    // peaks in its last tenth).
    let smooths: Vec<u32> = list("TUNE_SMOOTH").unwrap_or(vec![0]);
    // "R": the library's own choice (what `zo train` does).
    let mut variants: Vec<(String, tune::Trial)> = vec![("R".into(), r.best)];
    for &k in &smooths {
        let within = tune::choose_final(&r.finals, horizon, k, false);
        variants.push((format!("H{k}"), within));
        variants.push((
            format!("P{k}"),
            tune::choose_final(&r.finals, horizon, k, true),
        ));
        if trained > horizon {
            let whole = tune::choose_final(&r.finals, trained, k, false);
            variants.push((format!("X{k}"), whole));
            let late = within.best_epoch * 10 > horizon * 9;
            variants.push((format!("C{k}"), if late { whole } else { within }));
        }
    }
    // Each distinct winner trains once over the whole run; its test accuracy at every epoch.
    let mut curves: Vec<(tune::Setting, Vec<f64>)> = Vec::new();
    for (_, t) in &variants {
        if curves.iter().all(|c| c.0 != t.setting) {
            let mut test = Vec::new();
            tune::train_schedule(&spec, t.setting, trained, (&fx, &fy), |e, m| {
                let te = accuracy(m, &data.test_x, &data.test_y);
                if std::env::var("TUNE_DEBUG").is_ok() {
                    let tr = accuracy(m, &data.train_x, &data.train_y);
                    eprintln!("epoch {} train {tr:.3} test {te:.3}", e + 1);
                }
                test.push(te);
            });
            curves.push((t.setting, test));
        }
    }
    let mut out = String::new();
    for (name, t) in &variants {
        let test = &curves.iter().find(|c| c.0 == t.setting).unwrap().1;
        out += &format!(
            ",\"{name}\":{{\"sigma\":{},\"eta_shift\":{},\"out_shift\":{},\"epochs\":{},\"val\":{:.4},\"test\":{:.4}}}",
            t.setting.sigma,
            t.setting.eta_shift,
            t.setting.out_shift,
            t.best_epoch,
            t.val_accuracy,
            test[t.best_epoch.max(1) as usize - 1]
        );
    }
    if std::env::var("TUNE_REFIT").is_ok() {
        // The library's winner and epochs trained on every training row (fit and validation).
        let mut refit = tune::train_schedule(
            &spec,
            r.best.setting,
            r.best.best_epoch,
            (&data.train_x, &data.train_y),
            |_, _| {},
        );
        let refit_acc = accuracy(&mut refit, &data.test_x, &data.test_y);
        out += &format!(",\"refit\":{refit_acc:.4}");
    }
    for k in list("TUNE_PROBE").unwrap_or_default() {
        probe(
            &spec,
            r.best.setting,
            k,
            (&fx, &fy),
            (&vx, &vy),
            (&data.test_x, &data.test_y),
        );
    }
    println!(
        "{{\"train\":\"{}\",\"seed\":{seed},\"horizon\":{horizon},\"trained\":{trained},\"n_fit\":{},\"n_val\":{},\"tune_s\":{:.1}{out}}}",
        a[0],
        fx.len(),
        vx.len(),
        tune_s
    );
}

type Rows<'a> = (&'a [Vec<u8>], &'a [usize]);

/// Trains `setting` over the whole horizon with probe `k` (see the module doc) and prints the
/// best validation epoch's validation, test and fit accuracy.
fn probe(spec: &tune::TuneSpec, setting: tune::Setting, k: u32, fit: Rows, val: Rows, test: Rows) {
    let mut best = (-1.0f64, 0u32, 0.0f64, 0.0f64);
    let mut ema: Vec<f64> = Vec::new();
    tune::train_schedule(spec, setting, spec.max_epochs, fit, |e, m| {
        // The averaged weights are scored on a copy; otherwise the model itself, as a trial does.
        let mut averaged = None;
        if k >= 100 {
            let a = (k - 100) as f64 / 100.0;
            if ema.is_empty() {
                ema = m.weights().iter().map(|&w| w as f64).collect();
            }
            for (v, &w) in ema.iter_mut().zip(m.weights()) {
                *v = a * *v + (1.0 - a) * w as f64;
            }
            let mut copy = m.clone();
            copy.set_weights(&ema.iter().map(|v| v.round() as i16).collect::<Vec<_>>());
            averaged = Some(copy);
        }
        let scored = averaged.as_mut().unwrap_or(m);
        let va = accuracy(scored, val.0, val.1);
        if va > best.0 {
            let te = accuracy(scored, test.0, test.1);
            best = (va, e + 1, te, accuracy(scored, fit.0, fit.1));
        }
        if (1..100).contains(&k) {
            // The next epoch starts from the decayed weights, as a run's does.
            if let Some(w) = decayed_weights(m.weights(), k as u8, e + 1) {
                m.set_weights(&w);
            }
        }
    });
    println!(
        "{{\"probe\":{k},\"val\":{:.4},\"epoch\":{},\"test\":{:.4},\"fit\":{:.4}}}",
        best.0, best.1, best.2, best.3
    );
}
