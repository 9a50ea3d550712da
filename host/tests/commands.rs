//! Every `zo` command, driven through the binary as a user would run it.

mod common;

use common::*;
use std::path::Path;
use zo_hdl::config::Shape;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::vboard::VirtualBoard;
use zo_sim::model::Model;

fn sha_of_npy(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("weights.npy");
    let (_, w) = zo_host::npy::decode_i16(&bytes).expect("valid npy");
    zo_host::util::weights_sha256(&w)
}

#[test]
fn train_without_arguments_learns_iris_on_the_virtual_board() {
    let t = TempDir::new("default");
    let started = std::time::Instant::now();
    let out = ok_in(t.path(), &["train", "--json"]);
    let wall = started.elapsed().as_secs_f64();
    let s = last_json(&out);
    assert_eq!(s["dataset"], "iris");
    assert_eq!(s["backend"], "virtual-model");
    assert_eq!(s["estimator"], "np");
    assert_eq!(s["loss"], "ce");
    assert_eq!(s["epochs"], 200);
    let test = s["test_accuracy"].as_f64().unwrap();
    assert!(test >= 0.93, "default iris test accuracy {test}");
    assert!(wall < 60.0, "took {wall} s");
    for key in [
        "seed",
        "train_accuracy",
        "final_loss",
        "device_cycles",
        "cycles_per_sample",
        "wall_seconds",
        "weights_sha256",
    ] {
        assert!(!s[key].is_null(), "summary lacks {key}: {s}");
    }
    assert_eq!(s["cycles_per_sample"].as_f64(), Some(7315.0));
    // One JSON line per epoch before the summary.
    assert_eq!(out.lines().count(), 201);

    // The run directory: complete, no partial directory left.
    let runs = t.join("runs");
    let names = entries(&runs);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("iris-"), "{names:?}");
    let dir = runs.join(&names[0]);
    for f in [
        "config.json",
        "epochs.jsonl",
        "weights.npy",
        "weights.json",
        "weights_readable.json",
        "loss.svg",
        "accuracy.svg",
    ] {
        assert!(dir.join(f).is_file(), "missing {f}");
    }
    assert_eq!(
        sha_of_npy(&dir.join("weights.npy")),
        s["weights_sha256"].as_str().unwrap()
    );
    let epochs = std::fs::read_to_string(dir.join("epochs.jsonl")).unwrap();
    assert_eq!(epochs.lines().count(), 200);
    let last: serde_json::Value = serde_json::from_str(epochs.lines().last().unwrap()).unwrap();
    for key in [
        "epoch",
        "train_accuracy",
        "test_accuracy",
        "loss",
        "saturations",
        "zero_updates",
        "device_cycles",
        "wall_seconds",
    ] {
        assert!(!last[key].is_null(), "epoch record lacks {key}");
    }
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("weights.json")).unwrap()).unwrap();
    assert_eq!(sidecar["format"], "Q3.12");
    assert_eq!(sidecar["shape"], "64-32-10");
    assert_eq!(sidecar["n_weights"], 2410);
    let readable: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("weights_readable.json")).unwrap())
            .unwrap();
    assert_eq!(readable["layer1"]["weights"].as_array().unwrap().len(), 32);
    assert_eq!(readable["layer2"]["bias"].as_array().unwrap().len(), 10);
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["sigma"], 32);
    assert_eq!(cfg["eta_shift"], 7);
    let svg = std::fs::read_to_string(dir.join("accuracy.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("accuracy"));
}

#[test]
fn human_output_and_png_plots() {
    let t = TempDir::new("human");
    let out = ok_in(
        t.path(),
        &[
            "train", "--shape", "4-8-3", "--epochs", "3", "--out", "r", "--png",
        ],
    );
    assert!(out.contains("zo train: iris"), "{out}");
    assert!(out.contains("epoch 1/3"), "{out}");
    assert!(out.contains("epoch 3/3"), "{out}");
    assert!(out.contains("done: test accuracy"), "{out}");
    for f in ["loss.png", "accuracy.png"] {
        let bytes = std::fs::read(t.join("r").join(f)).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG", "{f}");
    }
}

#[test]
fn rtl_board_gives_the_same_weights_as_the_model_board() {
    let t = TempDir::new("rtl");
    let args = ["--shape", "4-4-3", "--epochs", "1"];
    let mut virt = args.to_vec();
    virt.extend(["--board", "virtual", "--out", "v"]);
    let mut rtl = args.to_vec();
    rtl.extend(["--board", "rtl", "--out", "r"]);
    let v = train_json(t.path(), &virt);
    let r = train_json(t.path(), &rtl);
    assert_eq!(v["backend"], "virtual-model");
    assert_eq!(r["backend"], "virtual-rtl");
    assert_eq!(v["weights_sha256"], r["weights_sha256"]);
    assert_eq!(v["device_cycles"], r["device_cycles"]);
    assert_eq!(v["test_accuracy"], r["test_accuracy"]);
    // 3 W + 4 n_out + 45 with W = 4*5 + 3*5 = 35.
    assert_eq!(r["cycles_per_sample"].as_f64(), Some(162.0));
}

#[test]
fn resume_continues_to_the_same_weights() {
    let t = TempDir::new("resume");
    let base = ["--shape", "4-8-3", "--seed", "5"];
    let mut full = base.to_vec();
    full.extend(["--epochs", "4", "--out", "full"]);
    let a = train_json(t.path(), &full);
    let mut half = base.to_vec();
    half.extend(["--epochs", "2", "--out", "half"]);
    let h = train_json(t.path(), &half);
    assert_ne!(h["weights_sha256"], a["weights_sha256"]);
    let b = train_json(t.path(), &["--resume", "half", "--epochs", "4"]);
    assert_eq!(b["epochs"], 4);
    assert_eq!(b["weights_sha256"], a["weights_sha256"]);
    assert_eq!(b["test_accuracy"], a["test_accuracy"]);
    let lines = std::fs::read_to_string(t.join("half/epochs.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    assert_eq!(entries(t.path()), vec!["full", "half"]);
}

#[test]
fn a_small_sample_buffer_is_used_in_chunks_with_the_same_result() {
    let t = TempDir::new("chunks");
    let args = ["--shape", "4-8-3", "--epochs", "2", "--dataset", "iris"];
    let mut big = args.to_vec();
    big.extend(["--out", "big"]);
    let mut small = args.to_vec();
    small.extend(["--capacity", "40", "--out", "small"]);
    let a = train_json(t.path(), &big);
    let b = train_json(t.path(), &small);
    assert_eq!(a["weights_sha256"], b["weights_sha256"]);
    // The small buffer's training accuracy comes from the model on the read-back weights,
    // the big one's from the device's EVALUATE.
    assert_eq!(a["train_accuracy"], b["train_accuracy"]);
    assert_eq!(a["test_accuracy"], b["test_accuracy"]);
    // Jobs per epoch: big: train, evaluate train, evaluate test (all resident); small: 105
    // training rows in chunks of 40 (3 jobs), no training evaluation on the device, 45 test
    // rows in 2 chunks. The link carried more with the small buffer (samples reloaded).
    let epoch = |run: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(t.join(run).join("epochs.jsonl")).unwrap();
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    };
    let (big, small) = (epoch("big"), epoch("small"));
    assert_eq!(big["jobs"], 3, "{big}");
    assert_eq!(small["jobs"], 5, "{small}");
    assert!(
        small["link_bytes"].as_u64().unwrap() > big["link_bytes"].as_u64().unwrap(),
        "{big}\n{small}"
    );
    assert!(big["status_polls"].as_u64().unwrap() >= 3, "{big}");
}

#[test]
fn infer_reproduces_the_runs_test_accuracy() {
    let t = TempDir::new("infer");
    let s = train_json(
        t.path(),
        &["--shape", "4-8-3", "--epochs", "30", "--out", "run"],
    );
    let r = last_json(&ok_in(
        t.path(),
        &["infer", "--weights", "run", "--split", "test", "--json"],
    ));
    assert_eq!(r["samples"], 45);
    assert_eq!(r["accuracy"], s["test_accuracy"]);
    assert_eq!(r["weights_sha256"], s["weights_sha256"]);
    assert_eq!(r["predictions"].as_array().unwrap().len(), 45);
    // Human output: one line per sample plus a header and the accuracy line.
    let out = ok_in(t.path(), &["infer", "--weights", "run/weights.npy"]);
    assert_eq!(out.lines().count(), 150 + 2, "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("accuracy "),
        "{out}"
    );
    assert!(out.contains("setosa"));
    // Unlabelled samples from a CSV, scaled with the run's saved scaling.
    let rows: String = iris_csv(false)
        .lines()
        .skip(1)
        .take(5)
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let csv = t.write("samples.csv", rows);
    let out = ok_in(
        t.path(),
        &[
            "infer",
            "--weights",
            "run",
            "--dataset",
            &csv,
            "--label-column",
            "none",
        ],
    );
    assert!(out.contains("classified 5 unlabelled samples"), "{out}");
}

#[test]
fn weights_push_pull_and_info_on_a_board_behind_a_port() {
    let t = TempDir::new("weights");
    let s = train_json(
        t.path(),
        &["--shape", "4-8-3", "--epochs", "5", "--out", "run"],
    );
    let shape = Shape::new(4, 8, 3);
    let board = VirtualBoard::spawn(Device::new(
        Model::new(shape, 1),
        DeviceInfo {
            name: "test-board".into(),
            ..DeviceInfo::default()
        },
    ))
    .unwrap();
    let port = board.path().to_string();
    let out = ok_in(
        t.path(),
        &["weights", "push", "run/weights.npy", "--port", &port],
    );
    assert!(out.contains("wrote 67 weights"), "{out}");
    let out = ok_in(t.path(), &["weights", "pull", "back.npy", "--port", &port]);
    assert!(out.contains("read 67 weights"), "{out}");
    assert_eq!(
        sha_of_npy(&t.join("back.npy")),
        s["weights_sha256"].as_str().unwrap()
    );
    assert!(t.join("back.json").is_file() && t.join("back_readable.json").is_file());
    // The board keeps the weights: inference with them gives the run's accuracy on its split.
    let r = last_json(&ok_in(
        t.path(),
        &["infer", "--port", &port, "--dataset", "iris", "--json"],
    ));
    assert_eq!(r["samples"], 150);
    // ZO_PORT works as --port.
    let o = zo()
        .args(["info", "--json"])
        .env("ZO_PORT", &port)
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let info = last_json(&stdout(&o));
    assert_eq!(info["name"], "test-board");
    assert_eq!(info["shape"], "4-8-3");
    assert_eq!(info["n_weights"], 67);
    assert_eq!(info["board"], "serial");
    // --board wins over ZO_PORT from the environment.
    let o = zo()
        .args(["info", "--json", "--board", "virtual"])
        .env("ZO_PORT", &port)
        .output()
        .unwrap();
    assert_eq!(last_json(&stdout(&o))["name"], "virtual-model");
    drop(board);
}

#[test]
fn info_ports_completions_and_baseline() {
    let t = TempDir::new("misc");
    let out = ok_in(t.path(), &["info"]);
    assert!(out.contains("virtual-model"), "{out}");
    assert!(out.contains("64-32-10, 2410 weights"), "{out}");
    assert!(out.contains("7315 cycles per training sample"), "{out}");
    let info = last_json(&ok_in(t.path(), &["info", "--json", "--shape", "16-8-4"]));
    assert_eq!(info["n_weights"], 8 * 17 + 4 * 9);
    assert_eq!(info["cycles_per_sample"], 3 * 172 + 16 + 45);
    let rtl = last_json(&ok_in(
        t.path(),
        &["info", "--json", "--board", "rtl", "--shape", "4-4-3"],
    ));
    assert_eq!(rtl["name"], "virtual-rtl");

    ok_in(t.path(), &["ports"]);
    let ports: serde_json::Value =
        serde_json::from_str(ok_in(t.path(), &["ports", "--json"]).trim()).unwrap();
    assert!(ports.is_array());

    for shell in ["bash", "zsh", "fish"] {
        let out = ok_in(t.path(), &["completions", shell]);
        assert!(out.contains("zo") && out.contains("train"), "{shell}");
    }

    let b = last_json(&ok_in(
        t.path(),
        &["baseline", "--dataset", "digits", "--epochs", "5", "--json"],
    ));
    assert_eq!(b["estimator"], "backprop");
    assert_eq!(b["backend"], "float-bp");
    assert_eq!(b["epochs"], 5);
    assert!(b["test_accuracy"].as_f64().unwrap() > 0.85, "{b}");
    assert_eq!(b["weights_sha256"].as_str().unwrap().len(), 64);
    let out = ok_in(t.path(), &["baseline", "--epochs", "3"]);
    assert!(out.contains("done: test accuracy"), "{out}");
    let help = ok_in(t.path(), &["train", "--help"]);
    assert!(
        help.contains("--eta-shift") && help.contains("--port"),
        "{help}"
    );
}

/// Writes IDX files of 8x8 images, 2 classes: bright top half or bright bottom half.
fn idx_files(t: &TempDir, n: usize) -> String {
    let mut images = vec![0, 0, 8, 3];
    for d in [n as u32, 8, 8] {
        images.extend(d.to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((n as u32).to_be_bytes());
    for k in 0..n {
        let class = k % 2;
        for r in 0..8 {
            for c in 0..8 {
                let bright = (r < 4) == (class == 0);
                let noise = ((k * 31 + r * 7 + c * 13) % 40) as u8;
                images.push(if bright { 200 + noise } else { noise });
            }
        }
        labels.push(class as u8);
    }
    t.write("toy-labels-idx1-ubyte", labels);
    t.write("toy-images-idx3-ubyte", images)
}

#[test]
fn file_datasets_csv_libsvm_idx_and_separate_test_data() {
    let t = TempDir::new("files");
    // CSV with a header, string labels in the first column, chosen by name.
    let csv = t.write("iris-named.csv", iris_csv(true));
    let s = train_json(
        t.path(),
        &[
            "--dataset",
            &csv,
            "--label-column",
            "species",
            "--shape",
            "4-8-3",
            "--epochs",
            "20",
            "--sigma",
            "32",
            "--eta-shift",
            "7",
            "--out",
            "csv",
        ],
    );
    assert_eq!(s["dataset"], "iris-named");
    assert!(s["test_accuracy"].as_f64().unwrap() > 0.6, "{s}");
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("csv/config.json")).unwrap()).unwrap();
    assert_eq!(
        cfg["dataset"]["class_names"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
    assert_eq!(cfg["dataset"]["format"], "csv");
    // The same file by index gives the same run.
    let s2 = train_json(
        t.path(),
        &[
            "--dataset",
            &csv,
            "--label-column",
            "0",
            "--shape",
            "4-8-3",
            "--epochs",
            "20",
            "--sigma",
            "32",
            "--eta-shift",
            "7",
            "--out",
            "csv2",
        ],
    );
    assert_eq!(s["weights_sha256"], s2["weights_sha256"]);

    // LIBSVM.
    let ds = zo_sim::data::dataset::builtin("iris").unwrap();
    let svm: String = ds
        .features
        .iter()
        .zip(&ds.labels)
        .map(|(x, y)| {
            let f: Vec<String> = x
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{}:{v}", i + 1))
                .collect();
            format!("{} {}\n", y + 1, f.join(" "))
        })
        .collect();
    let svm = t.write("iris.svm", svm);
    let s = train_json(
        t.path(),
        &[
            "--dataset",
            &svm,
            "--shape",
            "4-8-3",
            "--epochs",
            "3",
            "--out",
            "svm",
        ],
    );
    // A tuned run (the default for files) holds its validation rows out of n_train.
    assert_eq!(
        s["n_train"].as_u64().unwrap()
            + s["n_test"].as_u64().unwrap()
            + s["n_val"].as_u64().unwrap_or(0),
        150
    );

    // IDX with 2x2 pooling: 8x8 -> 16 features.
    let images = idx_files(&t, 80);
    let s = train_json(
        t.path(),
        &[
            "--dataset",
            &images,
            "--pool",
            "--shape",
            "16-8-2",
            "--epochs",
            "15",
            "--sigma",
            "64",
            "--eta-shift",
            "6",
            "--out",
            "idx",
        ],
    );
    assert!(s["test_accuracy"].as_f64().unwrap() >= 0.9, "{s}");
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("idx/config.json")).unwrap()).unwrap();
    assert_eq!(cfg["dataset"]["n_features"], 16);

    // Separate test data with the same classes.
    let text = iris_csv(false);
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let (mut train, mut test) = (header.clone() + "\n", header + "\n");
    for (i, l) in lines.enumerate() {
        if i % 4 == 0 {
            test.push_str(l);
            test.push('\n');
        } else {
            train.push_str(l);
            train.push('\n');
        }
    }
    let train = t.write("train.csv", train);
    let test = t.write("test.csv", test);
    let s = train_json(
        t.path(),
        &[
            "--dataset",
            &train,
            "--test-data",
            &test,
            "--shape",
            "4-8-3",
            "--epochs",
            "3",
            "--out",
            "sep",
        ],
    );
    assert_eq!(s["n_test"], 38);
    assert_eq!(
        s["n_train"].as_u64().unwrap() + s["n_val"].as_u64().unwrap_or(0),
        112
    );
}

#[test]
fn a_closed_stdout_stops_the_run_cleanly_without_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let t = TempDir::new("pipe");
    let mut child = zo()
        .args([
            "train", "--shape", "4-8-3", "--epochs", "100000", "--json", "--out", "p",
        ])
        .current_dir(t.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"epoch\":1"), "{first}");
    // The reader is dropped here: the next line the tool writes fails.
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("stdout was closed") && err.contains("--resume"),
        "{err}"
    );
    assert!(t.join(".p.partial/epochs.jsonl").is_file());
}

/// A network of more than 4096 weights (196-32-10: 6634, Fashion-MNIST pooled to 14x14) runs on
/// the virtual boards, and the RTL board agrees with the model board bit for bit.
#[test]
fn a_196_input_network_runs_on_the_model_and_the_rtl_board() {
    let t = TempDir::new("wide196");
    let mut csv = String::new();
    for r in 0..16 {
        let row: Vec<String> = (0..196)
            .map(|c| (((r * 7 + c * 13) % 23) as f64 / 4.0).to_string())
            .collect();
        csv += &format!("{},{}\n", row.join(","), r % 2);
    }
    let data = t.write("wide.csv", csv);
    let args = [
        "--dataset",
        data.as_str(),
        "--shape",
        "196-32-10",
        "--epochs",
        "1",
        "--tune",
        "off",
    ];
    let mut virt = args.to_vec();
    virt.extend(["--board", "virtual", "--out", "v"]);
    let mut rtl = args.to_vec();
    rtl.extend(["--board", "rtl", "--out", "r"]);
    let v = train_json(t.path(), &virt);
    let r = train_json(t.path(), &rtl);
    assert_eq!(v["shape"], "196-32-10");
    assert_eq!(v["weights_sha256"], r["weights_sha256"]);
    assert_eq!(v["device_cycles"], r["device_cycles"]);
    // 3 W + 4 n_out + 45 with W = 32*197 + 10*33 = 6634, and n_out + 2 for the derivative
    // sweep of the hybrid estimator (the default for files).
    assert_eq!(v["estimator"], "hybrid");
    assert_eq!(r["cycles_per_sample"].as_f64(), Some(19_987.0 + 12.0));
}

/// Files and digits default to the hybrid estimator where the board has the exact output
/// layer, and to node perturbation on a build without it (the iCE40 boards' defaults); only a
/// measured dataset, estimator and loss skips tuning.
#[test]
fn defaults_follow_the_dataset_the_board_and_what_was_measured() {
    let t = TempDir::new("default-estimator");
    let data = t.write("iris.csv", iris_csv(false));
    let base = [
        "--dataset",
        data.as_str(),
        "--label-column",
        "species",
        "--epochs",
        "2",
        "--tune",
        "off",
    ];
    let mut with = base.to_vec();
    with.extend(["--out", "h"]);
    let mut without = base.to_vec();
    without.extend(["--no-hybrid", "--out", "n"]);
    assert_eq!(train_json(t.path(), &with)["estimator"], "hybrid");
    assert_eq!(train_json(t.path(), &without)["estimator"], "np");
    // iris keeps node perturbation's measured table, untuned; digits prefers the hybrid.
    let builtin = train_json(t.path(), &["--epochs", "1", "--out", "b"]);
    assert_eq!(builtin["estimator"], "np");
    assert_eq!(builtin["tune"], "off");
    let digits = ["--dataset", "digits", "--epochs", "1"];
    let d = train_json(t.path(), &[&digits[..], &["--out", "d"]].concat());
    assert_eq!(
        (&d["estimator"], &d["tune"]),
        (&"hybrid".into(), &"off".into())
    );
    let d = train_json(
        t.path(),
        &[&digits[..], &["--no-hybrid", "--out", "dn"]].concat(),
    );
    assert_eq!((&d["estimator"], &d["tune"]), (&"np".into(), &"off".into()));
    // An estimator or loss without a measured table is tuned on the model.
    let wp = train_json(
        t.path(),
        &["--estimator", "wp", "--epochs", "1", "--out", "w"],
    );
    assert_eq!(
        (&wp["estimator"], &wp["tune"]),
        (&"wp".into(), &"auto".into())
    );
    let mse = train_json(t.path(), &["--loss", "mse", "--epochs", "1", "--out", "m"]);
    assert_eq!(mse["tune"], "auto");
}
