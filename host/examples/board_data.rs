//! Prints the boards' data (hdl/src/board/top.rs) as JSON, for benchmarks written in other
//! languages (bench/speed.py), so that they read the clocks, baud rates, multipliers and
//! default builds from the one place that defines them.
//!
//! `cargo run --release -p zo-host --example board_data`
//!
//! One object per board: `name`, `family`, `fabric_hz`, `baud`, `hard_multipliers`,
//! `shape`, `n_weights`, `capacity`, `batch_accumulators`, `exact_output`, and
//! `train_cycles`: learner cycles of one batch-1 training sample of the default shape per
//! estimator name; and, once, `status_exchange_wire_bytes`: the wire bytes of one STATUS
//! request and its answer (the least a host needs to see that a job ended).

use serde_json::json;
use zo_hdl::board::top::{Family, BOARDS};
use zo_hdl::config::Estimator;
use zo_proto::{encode_frame, Request, Response, Status};

fn main() {
    let boards: Vec<_> = BOARDS
        .iter()
        .map(|b| {
            let d = b.default_build;
            let cycles: serde_json::Map<_, _> = Estimator::ALL
                .iter()
                .map(|&e| (e.name().to_string(), json!(d.shape.train_cycles_of(e))))
                .collect();
            json!({
                "name": b.name,
                "family": match b.family {
                    Family::Ice40 => "ice40",
                    Family::Ecp5 => "ecp5",
                },
                "fabric_hz": b.fabric_hz,
                "baud": b.baud,
                "hard_multipliers": b.hard_multipliers,
                "shape": d.shape.to_string(),
                "n_weights": d.shape.n_weights(),
                "capacity": d.capacity,
                "batch_accumulators": d.batch_accumulators,
                "exact_output": d.exact_output,
                "train_cycles": cycles,
            })
        })
        .collect();
    // The link sends a delimiter before each request frame (host/src/link.rs).
    let status_exchange = 1
        + encode_frame(&Request::Status.to_packet(1)).len()
        + encode_frame(&Response::Status(Status::default()).to_packet(1)).len();
    let out = json!({ "boards": boards, "status_exchange_wire_bytes": status_exchange });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).expect("plain JSON values")
    );
}
