//! `zo weights pull FILE` and `zo weights push FILE`.

use crate::{errln, outln};
use anyhow::{bail, Context, Result};
use std::path::Path;
use zo_host::cli::{ConnectArgs, WeightsAction};
use zo_host::connect::{Connection, DeviceKind, DEFAULT_SHAPE};
use zo_host::rundir;
use zo_host::util::weights_sha256;
use zo_host::weights::{self, Sidecar};

/// Writes `values` into the device and reads them back; refuses weights of another shape.
pub fn push_weights(
    conn: &mut Connection,
    path: &Path,
    values: &[i16],
    sidecar: Option<&Sidecar>,
) -> Result<()> {
    let shape = conn.shape();
    if let Some(s) = sidecar {
        if s.net_shape() != shape {
            bail!(
                "{} holds weights for a {} network but the device is {shape}; use weights of \
                 the device's shape{}",
                path.display(),
                s.shape,
                if conn.kind() == DeviceKind::Serial {
                    String::new()
                } else {
                    format!(" (or --shape {} for a virtual board)", s.shape)
                }
            );
        }
    }
    if values.len() != shape.n_weights() {
        bail!(
            "{} holds {} weights but the device ({shape}) has {}; use weights of the device's shape",
            path.display(),
            values.len(),
            shape.n_weights()
        );
    }
    conn.link().write_weights(values)?;
    let back = conn.link().read_weights(values.len())?;
    if back != values {
        bail!("the weights read back from the device differ from those written; check the link and retry");
    }
    Ok(())
}

pub fn cmd_weights(action: WeightsAction) -> Result<()> {
    match action {
        WeightsAction::Pull {
            file,
            force,
            connect,
        } => pull(&file, force, &connect),
        WeightsAction::Push { file, connect } => push(&file, &connect),
    }
}

/// Refuses a pull into a run directory or over existing files (unless `force`).
fn check_pull_target(file: &Path, force: bool) -> Result<()> {
    if file.extension().and_then(|e| e.to_str()) != Some("npy") {
        bail!(
            "weights file {} must end in .npy (the sidecar .json is written next to it)",
            file.display()
        );
    }
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!(
            "directory {} does not exist; create it or pull into an existing directory",
            parent.display()
        );
    }
    if rundir::is_run_dir(parent) {
        bail!(
            "{} is inside the run directory {}, whose checkpoint `zo train --resume` relies on; \
             pull into a file outside it",
            file.display(),
            parent.display()
        );
    }
    if file.is_dir() {
        bail!("{} is a directory; pass a FILE.npy", file.display());
    }
    let (json, readable) = weights::companion_paths(file);
    if !force {
        if let Some(p) = [file, &json, &readable].into_iter().find(|p| p.exists()) {
            bail!(
                "{} already exists; pass --force to replace it (and its .json and \
                 _readable.json), or choose another file",
                p.display()
            );
        }
    }
    Ok(())
}

fn pull(file: &Path, force: bool, connect: &ConnectArgs) -> Result<()> {
    check_pull_target(file, force)?;
    let mut conn = Connection::open(connect, DEFAULT_SHAPE)?;
    let shape = conn.shape();
    let w = conn.link().read_weights(shape.n_weights())?;
    weights::save(file, shape, &w, &Sidecar::new(shape, &w), force)
        .with_context(|| format!("saving {}", file.display()))?;
    outln!(
        "read {} weights ({shape}, Q3.12) from {} on {} into {} (sha256 {})",
        w.len(),
        conn.backend(),
        conn.path(),
        file.display(),
        weights_sha256(&w)
    );
    Ok(())
}

fn push(file: &Path, connect: &ConnectArgs) -> Result<()> {
    let l = weights::load(file)?;
    let default_shape = l
        .sidecar
        .as_ref()
        .map(|s| s.net_shape())
        .unwrap_or(DEFAULT_SHAPE);
    let mut conn = Connection::open(connect, default_shape)?;
    push_weights(&mut conn, &l.path, &l.values, l.sidecar.as_ref())?;
    outln!(
        "wrote {} weights ({}) from {} into {} on {} and read them back (sha256 {})",
        l.values.len(),
        conn.shape(),
        l.path.display(),
        conn.backend(),
        conn.path(),
        weights_sha256(&l.values)
    );
    if conn.kind() != DeviceKind::Serial {
        errln!("note: the virtual board ends with this command, and its weights with it; pass --port to write a board");
    }
    Ok(())
}
