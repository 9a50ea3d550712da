//! `zo train --tune auto`: the device run is the winning trial on the model, bit for bit; the
//! validation rows are held out of training; fixed flags stay fixed; `--tune off` uses the
//! defaults.

mod common;
use common::{zo, TempDir};
use std::path::Path;
use zo_hdl::config::{Estimator, LossKind, Shape};
use zo_host::autotune;
use zo_host::data::prepare_split;
use zo_host::util::weights_sha256;
use zo_sim::data::dataset::{load_file, FileOptions};
use zo_sim::data::tune::{train_schedule, Setting, TuneSpec};

/// Two interleaved half-rings with a skewed third feature: nonlinear, deterministic.
fn rings_csv() -> String {
    let mut s = String::from("a,b,amount,label\n");
    for i in 0..150 {
        let t = i as f64 * 0.041;
        let (class, r) = if i % 2 == 0 { (0, 1.0) } else { (1, 1.6) };
        let amount = ((i * 37) % 101) as f64 * ((i % 7) as f64).exp();
        s += &format!("{:.4},{:.4},{amount},{class}\n", r * t.cos(), r * t.sin());
    }
    s
}

/// The CSV's rows split as `zo train` splits them (seed 1, 30 % test) for the default board.
fn split_of(csv: &str) -> (zo_sim::data::dataset::Dataset, zo_host::data::Prepared) {
    let ds = load_file(Path::new(csv), &FileOptions::default())
        .unwrap()
        .into_dataset()
        .unwrap();
    let prepared = prepare_split(&ds, 64, 0.3, 1).unwrap();
    (ds, prepared)
}

fn json_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn train(dir: &TempDir, args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let out = dir.join("run");
    let out_s = out.to_str().unwrap().to_string();
    let mut cmd = zo();
    cmd.args(["train", "--json", "--out", &out_s]).args(args);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    (summary, json_of(&out.join("config.json")))
}

#[test]
fn tuned_run_is_the_winning_trial_bit_for_bit() {
    tuned_run_equals_trial(Estimator::NodePerturbation);
}

#[test]
fn tuned_hybrid_run_is_the_winning_trial_bit_for_bit() {
    tuned_run_equals_trial(Estimator::Hybrid);
}

/// Momentum keeps a velocity in the accumulators; each epoch of the device run starts from a
/// zero velocity (RESET), as each epoch of a trial does.
#[test]
fn tuned_momentum_run_is_the_winning_trial_bit_for_bit() {
    tuned_run_equals_trial_with(Estimator::Hybrid, 2);
}

fn tuned_run_equals_trial(estimator: Estimator) {
    tuned_run_equals_trial_with(estimator, 0);
}

fn tuned_run_equals_trial_with(estimator: Estimator, momentum: u8) {
    let dir = TempDir::new(&format!("tune-exact-{estimator}-{momentum}"));
    let csv = dir.write("rings.csv", rings_csv());
    let momentum_s = momentum.to_string();
    let (summary, cfg) = train(
        &dir,
        &[
            "--dataset",
            &csv,
            "--estimator",
            estimator.name(),
            "--momentum",
            &momentum_s,
        ],
    );
    assert_eq!(cfg["momentum"].as_u64(), Some(momentum as u64));
    let t = &cfg["tune"];
    assert!(t.is_object(), "a data file is tuned by default: {cfg}");
    assert_eq!(summary["tune"], "auto");
    let setting = Setting {
        sigma: cfg["sigma"].as_u64().unwrap() as u16,
        eta_shift: cfg["eta_shift"].as_u64().unwrap() as u8,
        out_shift: cfg["out_shift"].as_u64().unwrap() as u8,
    };
    assert_eq!(t["sigma"].as_u64(), Some(setting.sigma as u64));
    assert_eq!(t["eta_shift"].as_u64(), Some(setting.eta_shift as u64));
    assert_eq!(t["out_shift"].as_u64(), Some(setting.out_shift as u64));
    let outs = t["out_shift_grid"].as_array().unwrap().len();
    assert_eq!(outs > 1, estimator.exact_output(), "{t}");
    let epochs = cfg["epochs"].as_u64().unwrap() as u32;
    assert_eq!(t["best_epoch"].as_u64(), Some(epochs as u64));
    let decay = cfg["eta_decay"].as_u64().unwrap() as u32;
    assert!(decay > 0);

    // The same rows, split and holdout through the library, trained on the model.
    let (ds, prepared) = split_of(&csv);
    let shape = Shape::new(64, 32, 10);
    let n_split = prepared.data.train_x.len();
    let (fit, val_x, _) = autotune::holdout(&prepared.data, ds.n_classes, 1);
    assert_eq!(cfg["n_train"].as_u64(), Some(fit.train_x.len() as u64));
    assert_eq!(fit.train_x.len() + val_x.len(), n_split);
    assert_eq!(t["n_val"].as_u64(), Some(val_x.len() as u64));
    let spec = TuneSpec {
        shape,
        estimator,
        loss: LossKind::CrossEntropy,
        batch: 1,
        eta_mant: 1,
        seed: 1,
        max_epochs: epochs,
        decay_every: decay,
        momentum,
        weight_decay: cfg["weight_decay"].as_u64().unwrap() as u8,
    };
    let m = train_schedule(
        &spec,
        setting,
        epochs,
        (&fit.train_x, &fit.train_y),
        |_, _| {},
    );
    assert_eq!(
        summary["weights_sha256"].as_str().unwrap(),
        weights_sha256(m.weights()),
        "the device run must equal the trial on the model"
    );
    // It learned: the rings are not linearly separable by chance level.
    assert!(
        summary["train_accuracy"].as_f64().unwrap() > 0.7,
        "{summary}"
    );
}

#[test]
fn fixed_flags_stay_fixed_and_tune_off_uses_defaults() {
    let dir = TempDir::new("tune-fixed");
    let csv = dir.write("rings.csv", rings_csv());
    let (_, cfg) = train(&dir, &["--dataset", &csv, "--sigma", "32", "--epochs", "7"]);
    assert_eq!(cfg["sigma"], 32);
    assert_eq!(cfg["epochs"], 7);
    assert_eq!(cfg["tune"]["sigma_grid"], serde_json::json!([32]));
    assert_eq!(cfg["tune"]["horizon"], 7);

    let dir = TempDir::new("tune-off");
    let csv = dir.write("rings.csv", rings_csv());
    let (summary, cfg) = train(&dir, &["--dataset", &csv, "--tune", "off", "--epochs", "2"]);
    assert!(cfg.get("tune").is_none());
    assert_eq!(summary["tune"], "off");
    assert_eq!(cfg["eta_decay"], 0);
    let d = zo_host::defaults::settings(
        None,
        zo_hdl::config::Estimator::Hybrid,
        zo_hdl::config::LossKind::CrossEntropy,
    );
    assert_eq!(cfg["sigma"], d.sigma);
    assert_eq!(cfg["eta_shift"], d.eta_shift);
}

/// The weight decay is host-driven (the host shrinks the checkpoint's weights and writes them
/// at each epoch's start): a run with it equals the model's schedule with it, bit for bit, and
/// differs from the run without it.
#[test]
fn weight_decay_run_is_the_schedule_bit_for_bit() {
    let dir = TempDir::new("weight-decay");
    let csv = dir.write("rings.csv", rings_csv());
    let run = |dir: &TempDir, wd: &str| {
        train(
            dir,
            &[
                "--dataset",
                &csv,
                "--tune",
                "off",
                "--estimator",
                "wp",
                "--sigma",
                "128",
                "--eta-shift",
                "6",
                "--epochs",
                "5",
                "--weight-decay",
                wd,
            ],
        )
    };
    let (summary, cfg) = run(&dir, "4");
    assert_eq!(cfg["weight_decay"], 4);
    let (_, prepared) = split_of(&csv);
    let shape = Shape::new(64, 32, 10);
    let spec = TuneSpec {
        shape,
        estimator: Estimator::WeightPerturbation,
        loss: LossKind::CrossEntropy,
        batch: 1,
        eta_mant: 1,
        seed: 1,
        max_epochs: 5,
        decay_every: 0,
        momentum: 0,
        weight_decay: 4,
    };
    let setting = Setting {
        sigma: 128,
        eta_shift: 6,
        out_shift: cfg["out_shift"].as_u64().unwrap() as u8,
    };
    let data = (&prepared.data.train_x[..], &prepared.data.train_y[..]);
    let m = train_schedule(&spec, setting, 5, data, |_, _| {});
    let with = summary["weights_sha256"].as_str().unwrap().to_string();
    assert_eq!(with, weights_sha256(m.weights()));
    let without = train_schedule(
        &TuneSpec {
            weight_decay: 0,
            ..spec
        },
        setting,
        5,
        data,
        |_, _| {},
    );
    assert_ne!(
        with,
        weights_sha256(without.weights()),
        "the decay must change the run"
    );
    // And the device run without it is the schedule without it.
    let dir = TempDir::new("weight-decay-off");
    let (summary, cfg) = run(&dir, "0");
    assert_eq!(cfg["weight_decay"], 0);
    assert_eq!(
        summary["weights_sha256"].as_str().unwrap(),
        weights_sha256(without.weights())
    );
}
