//! `zo infer`: classify rows with trained weights on the device.

use super::weights::push_weights;
use super::{interrupt_cause, interrupt_flag, progress_bar};
use crate::{errln, outln};
use anyhow::{bail, Result};
use std::sync::atomic::Ordering;
use zo_host::cli::{InferArgs, SplitArg};
use zo_host::connect::{Connection, DeviceKind, DEFAULT_SHAPE};
use zo_host::infer::{self, InferReport, Provenance};
use zo_host::util::weights_sha256;
use zo_host::{data, session, weights};

pub fn cmd_infer(a: InferArgs) -> Result<()> {
    let loaded = a.weights.as_deref().map(weights::load).transpose()?;
    let prov = Provenance::of(loaded.as_ref());
    let data_args = infer::data_args(&a.data, &prov)?;
    let split = a.split.unwrap_or(SplitArg::All);
    let inputs = infer::inputs(&data_args, split, &prov)?;
    let default_shape = prov
        .sidecar
        .as_ref()
        .map(|s| s.net_shape())
        .unwrap_or(DEFAULT_SHAPE);
    let mut conn = Connection::open(&a.connect, default_shape)?;
    let shape = conn.shape();
    if loaded.is_none() && conn.kind() != DeviceKind::Serial {
        bail!("a new virtual board holds no trained weights; pass --weights FILE|RUN_DIR (or --port to use a board's weights)");
    }
    data::check_fits(
        &inputs.dataset_name,
        inputs.n_features(),
        inputs.class_names.len(),
        shape,
        conn.kind() != DeviceKind::Serial,
    )?;
    if inputs.scaling.is_none() {
        errln!("note: no input scaling is saved with these weights; fitting it on the rows being classified");
    }
    let quantizer = inputs.quantizer();
    let weights_sha = match &loaded {
        Some(l) => {
            push_weights(&mut conn, &l.path, &l.values, l.sidecar.as_ref())?;
            weights_sha256(&l.values)
        }
        None => weights_sha256(&conn.link().read_weights(shape.n_weights())?),
    };
    let bar = progress_bar(inputs.rows.len() as u64, "samples");
    let flag = interrupt_flag();
    let stop = || flag.load(Ordering::SeqCst);
    let result = infer::classify(
        conn.link(),
        shape.n_in,
        &inputs,
        &quantizer,
        &stop,
        &mut |k| bar.set_position(k as u64),
    );
    bar.finish_and_clear();
    let predictions = match result? {
        Ok(p) => p,
        Err(k) => {
            return Err(anyhow::Error::new(session::Interrupted).context(format!(
                "interrupted ({}) after {k} of {} samples",
                interrupt_cause(),
                inputs.rows.len()
            )))
        }
    };
    let report = infer::report(&inputs, split, conn.backend(), weights_sha, predictions);
    print_report(&a, &report, &inputs.class_names)
}

fn print_report(a: &InferArgs, report: &InferReport, class_names: &[String]) -> Result<()> {
    if a.json {
        outln!("{}", serde_json::to_string(report)?);
        return Ok(());
    }
    if !a.quiet {
        outln!("# row\tpredicted\tlabel");
        for p in &report.predictions {
            let label = p
                .label
                .map(|l| class_names.get(l).cloned().unwrap_or_else(|| l.to_string()))
                .unwrap_or_else(|| "-".into());
            outln!("{}\t{}\t{}", p.row, p.class_name, label);
        }
    }
    let (dataset, split, backend) = (&report.dataset, &report.split, &report.backend);
    match (report.correct, report.accuracy) {
        (Some(c), Some(acc)) => outln!(
            "accuracy {acc:.4} ({c}/{} samples of {dataset}, {split} rows) on {backend}",
            report.samples,
        ),
        _ => outln!(
            "classified {} unlabelled samples of {dataset} on {backend}",
            report.samples,
        ),
    }
    Ok(())
}
