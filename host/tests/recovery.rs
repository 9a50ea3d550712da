//! A device that resets itself or stops answering in the middle of a run: `zo train`
//! reconnects, restores the last checkpoint, runs the epoch again and ends with exactly the
//! weights of an undisturbed run.

mod common;

use common::*;
use std::time::Duration;
use zo_hdl::config::{Shape, TrainParams};
use zo_sim::device::reference::{Backend, Device, DeviceInfo};
use zo_sim::device::vboard::VirtualBoard;
use zo_sim::model::{Counters, Inference, Model};

#[derive(Clone, Copy)]
enum Fault {
    /// At this training sample the learner loses its counters, weights and seed.
    Reset(u64),
    /// At this training sample the board stops for the given time.
    Stall(u64, Duration),
}

struct Flaky {
    inner: Model,
    trains: u64,
    fault: Fault,
}

impl Backend for Flaky {
    fn shape(&self) -> Shape {
        self.inner.shape()
    }
    fn set_params(&mut self, p: &TrainParams) {
        self.inner.params = *p;
    }
    fn seed(&mut self, seed: u32) {
        self.inner.seed(seed)
    }
    fn weights(&mut self) -> Vec<i16> {
        self.inner.weights().to_vec()
    }
    fn set_weights(&mut self, w: &[i16]) {
        self.inner.set_weights(w)
    }
    fn train(&mut self, x: &[u8], target: usize) -> u64 {
        self.trains += 1;
        match self.fault {
            Fault::Reset(at) if at == self.trains => {
                let n = self.inner.weights().len();
                self.inner.set_weights(&vec![7; n]);
                self.inner.counters = Counters::default();
                self.inner.params = TrainParams::default();
                self.inner.seed(1);
            }
            Fault::Stall(at, d) if at == self.trains => std::thread::sleep(d),
            _ => {}
        }
        Backend::train(&mut self.inner, x, target)
    }
    fn infer(&mut self, x: &[u8], target: usize) -> (Inference, u64) {
        Backend::infer(&mut self.inner, x, target)
    }
    fn apply(&mut self) -> u64 {
        Backend::apply(&mut self.inner)
    }
    fn clear_accumulators(&mut self) {
        self.inner.clear_accumulators()
    }
    fn counters(&self) -> Counters {
        self.inner.counters
    }
    fn clear_counters(&mut self) {
        self.inner.counters = Counters::default();
    }
    fn probe_seed(&self) -> u32 {
        self.inner.probe_seed()
    }
    fn batch_pos(&self) -> u16 {
        self.inner.batch_pos()
    }
}

fn disturbed_run(t: &TempDir, fault: Fault, out: &str) -> (serde_json::Value, String) {
    let shape = Shape::new(4, 8, 3);
    let board = VirtualBoard::spawn(Device::new(
        Flaky {
            inner: Model::new(shape, 1),
            trains: 0,
            fault,
        },
        DeviceInfo::default(),
    ))
    .unwrap();
    let o = run_in(
        t.path(),
        &[
            "train",
            "--port",
            board.path(),
            "--epochs",
            "4",
            "--out",
            out,
            "--json",
        ],
    );
    assert!(
        o.status.success(),
        "disturbed run failed: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    drop(board);
    if std::env::var_os("SHOW").is_some() {
        eprintln!("--- stderr of the {out} run:\n{}", stderr(&o));
    }
    (last_json(&stdout(&o)), stderr(&o))
}

#[test]
fn a_reset_or_a_silent_device_is_recovered_without_changing_the_result() {
    let t = TempDir::new("recovery");
    let clean = train_json(
        t.path(),
        &["--shape", "4-8-3", "--epochs", "4", "--out", "clean"],
    );
    // Reset in the middle of epoch 2 (105 training samples per epoch).
    let (reset, err) = disturbed_run(&t, Fault::Reset(160), "reset");
    assert!(err.contains("reset or lost its state"), "{err}");
    assert!(err.contains("reconnecting"), "{err}");
    assert_eq!(reset["recoveries"], 1, "{reset}");
    assert_eq!(reset["weights_sha256"], clean["weights_sha256"]);
    assert_eq!(reset["test_accuracy"], clean["test_accuracy"]);
    // Silent for 3 s in epoch 3: the link gives up, reconnects and the epoch runs again.
    let (stall, err) = disturbed_run(&t, Fault::Stall(250, Duration::from_secs(3)), "stall");
    assert!(err.contains("did not answer"), "{err}");
    assert!(stall["recoveries"].as_u64().unwrap() >= 1, "{stall}");
    assert_eq!(stall["weights_sha256"], clean["weights_sha256"]);
    // The epoch log says which epoch needed the recovery.
    let log = std::fs::read_to_string(t.join("stall/epochs.jsonl")).unwrap();
    let recovered: Vec<u64> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["recoveries"].as_u64().unwrap() > 0)
        .map(|r| r["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(recovered, vec![3]);
}
