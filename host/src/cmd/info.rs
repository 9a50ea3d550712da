//! `zo info` and `zo ports`.

use crate::outln;
use anyhow::Result;
use zo_host::cli::{InfoArgs, PortsArgs};
use zo_host::connect::{self, Connection, DeviceKind, DEFAULT_SHAPE};

pub fn cmd_info(a: InfoArgs) -> Result<()> {
    let mut conn = Connection::open(&a.connect, DEFAULT_SHAPE)?;
    let status = conn.link().status()?;
    let id = conn.identity.clone();
    let samples_per_s = id.clock_hz as f64 / id.cycles_per_sample.max(1) as f64;
    if a.json {
        outln!("{}", info_json(&conn, &id, &status, samples_per_s));
        return Ok(());
    }
    let rows = info_rows(&conn, &id, &status, samples_per_s);
    for (k, v) in rows {
        outln!("{k:<14}{v}");
    }
    Ok(())
}

fn info_json(
    conn: &Connection,
    id: &zo_proto::Identity,
    status: &zo_proto::Status,
    samples_per_s: f64,
) -> serde_json::Value {
    let shape = conn.shape();
    serde_json::json!({
        "name": id.name,
        "board": conn.kind().name(),
        "port": conn.path(),
        "version": id.version,
        "shape": shape.to_string(),
        "n_in": id.n_in,
        "n_hid": id.n_hid,
        "n_out": id.n_out,
        "n_weights": id.n_weights,
        "sample_capacity": id.sample_capacity,
        "max_batch": id.max_batch(),
        "max_payload": id.max_payload,
        "w_frac": id.w_frac,
        "x_frac": id.x_frac,
        "z_frac": id.z_frac,
        "clock_hz": id.clock_hz,
        "baud": id.baud,
        "build_id": id.build_id,
        "cycles_per_sample": id.cycles_per_sample,
        "samples_per_second": samples_per_s,
        "status": {
            "state": status.state,
            "samples": status.samples,
            "updates": status.updates,
            "saturations": status.saturations,
            "device_cycles": status.device_cycles,
        },
    })
}

fn info_rows(
    conn: &Connection,
    id: &zo_proto::Identity,
    status: &zo_proto::Status,
    samples_per_s: f64,
) -> Vec<(&'static str, String)> {
    let shape = conn.shape();
    let state = match status.state {
        0 => "idle",
        1 => "training",
        2 => "evaluating",
        _ => "unknown",
    };
    vec![
        ("device", format!("{} (build {:#x})", id.name, id.build_id)),
        (
            "port",
            format!(
                "{}{}",
                conn.path(),
                match conn.kind() {
                    DeviceKind::Serial => String::new(),
                    k => format!(" (in-process {} board)", k.name()),
                }
            ),
        ),
        ("protocol", format!("version {}", id.version)),
        ("network", format!("{shape}, {} weights", id.n_weights)),
        (
            "formats",
            format!(
                "weights Q3.{}, inputs signed Q0.{} (standardised), logits Q7.{}",
                id.w_frac, id.x_frac, id.z_frac
            ),
        ),
        ("sample buffer", format!("{} samples", id.sample_capacity)),
        (
            "mini-batches",
            if id.max_batch() > 1 {
                "yes (accumulators)".to_string()
            } else {
                "no: batch 1 only".to_string()
            },
        ),
        ("max payload", format!("{} bytes", id.max_payload)),
        ("clock", format!("{} MHz", id.clock_hz as f64 / 1e6)),
        ("baud", id.baud.to_string()),
        (
            "speed",
            format!(
                "{} cycles per training sample = {samples_per_s:.0} samples/s at the clock",
                id.cycles_per_sample
            ),
        ),
        (
            "state",
            format!(
                "{state}; {} samples trained, {} updates, {} saturations, {} cycles",
                status.samples, status.updates, status.saturations, status.device_cycles
            ),
        ),
    ]
}

pub fn cmd_ports(a: PortsArgs) -> Result<()> {
    let ports = connect::list_ports()?;
    if a.json {
        outln!("{}", serde_json::to_string(&ports)?);
        return Ok(());
    }
    if ports.is_empty() {
        outln!("no serial ports found (a board's FT2232H shows up as 0403:6010; virtual boards are not listed)");
        return Ok(());
    }
    outln!(
        "{:<20} {:<10} {:<9} {:<9} {:<16} product",
        "port",
        "type",
        "vid:pid",
        "interface",
        "serial"
    );
    for p in &ports {
        let vidpid = match (&p.vid, &p.pid) {
            (Some(v), Some(d)) => format!("{v}:{d}"),
            _ => "-".into(),
        };
        outln!(
            "{:<20} {:<10} {:<9} {:<9} {:<16} {}{}",
            p.path,
            p.kind,
            vidpid,
            p.interface.map_or("-".into(), |i| i.to_string()),
            p.serial.clone().unwrap_or_else(|| "-".into()),
            p.product
                .clone()
                .or(p.manufacturer.clone())
                .unwrap_or_else(|| "-".into()),
            if p.zo_board {
                "  <- zo board (FT2232H UART)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
