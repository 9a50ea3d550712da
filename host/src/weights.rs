//! Weight files: `NAME.npy` (raw int16 Q3.12 in device order, the .npy v1.0 format), the
//! sidecar `NAME.json` (format, shape, layout and, for trained weights, the input scaling and
//! classes) and `NAME_readable.json` (the same weights as floats, per layer).

use crate::npy;
use crate::util::{weights_sha256, write_atomic, write_new};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zo_hdl::config::Shape;
use zo_hdl::formats::W_FRAC;

/// How the weights are laid out, for the sidecar.
pub const LAYOUT: &str = "device order: layer 1 rows (one per hidden unit: n_in weights then \
     the bias), then layer 2 rows (one per output: n_hid weights then the bias); weight (row r, \
     input c) of a layer with fan-in f is at layer_base + r * (f + 1) + c";

/// Input scaling fitted on the training rows (`zo_sim::data::scaling`: per-feature tail transform,
/// standardisation, signed Q0.7 codes).
pub type InputScaling = zo_sim::data::scaling::Quantizer;

/// The split a run used, so that `zo infer --split test` sees the same test rows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SplitInfo {
    pub seed: u32,
    pub test_fraction: f64,
}

/// The sidecar `NAME.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Sidecar {
    /// `Q3.12`: int16 with 12 fractional bits; the real value is `raw / 4096`.
    pub format: String,
    pub dtype: String,
    pub frac_bits: u32,
    /// `N-H-O`.
    pub shape: String,
    pub n_in: usize,
    pub n_hid: usize,
    pub n_out: usize,
    pub n_weights: usize,
    pub layout: String,
    /// SHA-256 of the raw little-endian int16 values.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputScaling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
}

impl Sidecar {
    pub fn new(shape: Shape, w: &[i16]) -> Self {
        Self {
            format: "Q3.12".into(),
            dtype: "<i2".into(),
            frac_bits: W_FRAC,
            shape: shape.to_string(),
            n_in: shape.n_in,
            n_hid: shape.n_hid,
            n_out: shape.n_out,
            n_weights: shape.n_weights(),
            layout: LAYOUT.into(),
            sha256: weights_sha256(w),
            dataset: None,
            classes: None,
            input: None,
            split: None,
            epoch: None,
        }
    }

    pub fn net_shape(&self) -> Shape {
        Shape::new(self.n_in, self.n_hid, self.n_out)
    }
}

/// The readable form: floats per layer.
#[derive(Debug, Serialize)]
struct Layer {
    /// `rows x fan_in`.
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Readable {
    format: &'static str,
    shape: String,
    layer1: Layer,
    layer2: Layer,
}

fn layer(w: &[i16], rows: usize, fan_in: usize) -> Layer {
    let scale = (1u32 << W_FRAC) as f64;
    let mut weights = Vec::with_capacity(rows);
    let mut bias = Vec::with_capacity(rows);
    for row in w.chunks(fan_in + 1).take(rows) {
        weights.push(row[..fan_in].iter().map(|&v| v as f64 / scale).collect());
        bias.push(row[fan_in] as f64 / scale);
    }
    Layer { weights, bias }
}

/// The readable JSON of `w`.
pub fn readable_json(shape: Shape, w: &[i16]) -> String {
    let split = shape.layer2_base().min(w.len());
    let r = Readable {
        format:
            "float: raw Q3.12 / 4096; layer1 weights[hidden][input], layer2 weights[output][hidden]",
        shape: shape.to_string(),
        layer1: layer(&w[..split], shape.n_hid, shape.n_in),
        layer2: layer(&w[split..], shape.n_out, shape.n_hid),
    };
    serde_json::to_string_pretty(&r).unwrap_or_default()
}

/// Paths of the three files of a weight set named by its `.npy` path.
pub fn companion_paths(npy: &Path) -> (PathBuf, PathBuf) {
    let stem = npy
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "weights".into());
    (
        npy.with_file_name(format!("{stem}.json")),
        npy.with_file_name(format!("{stem}_readable.json")),
    )
}

/// Writes `NAME.npy`, `NAME.json` and `NAME_readable.json`, each atomically. Without
/// `replace`, an existing file is never overwritten (the write fails instead).
pub fn save(
    npy_path: &Path,
    shape: Shape,
    w: &[i16],
    sidecar: &Sidecar,
    replace: bool,
) -> Result<()> {
    if w.len() != shape.n_weights() {
        bail!(
            "internal: {} weights for a {shape} network that has {}",
            w.len(),
            shape.n_weights()
        );
    }
    let (json, readable) = companion_paths(npy_path);
    let write = |p: &Path, bytes: &[u8]| {
        let written = if replace {
            write_atomic(p, bytes)
        } else {
            write_new(p, bytes)
        };
        written.with_context(|| format!("cannot write {}", p.display()))
    };
    write(npy_path, &npy::encode_i16(w, &[w.len()]))?;
    write(
        &json,
        serde_json::to_string_pretty(sidecar)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    write(&readable, readable_json(shape, w).as_bytes())?;
    Ok(())
}

/// A weight set read from disk.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub values: Vec<i16>,
    /// The sidecar, when one sits next to the file.
    pub sidecar: Option<Sidecar>,
}

/// Reads weights from a `.npy` file, or from `weights.npy` in a run directory, with its
/// sidecar when present. Checks the sidecar's shape and hash against the values.
pub fn load(path: &Path) -> Result<Loaded> {
    let path = if path.is_dir() {
        let p = path.join("weights.npy");
        if !p.exists() {
            bail!(
                "{} holds no weights.npy; pass a weights file or a run directory of `zo train`",
                path.display()
            );
        }
        p
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read weights file {}: {e}; check the path",
            path.display()
        )
    })?;
    let (shape, values) = npy::decode_i16(&bytes)
        .map_err(|e| anyhow::anyhow!("weights file {}: {e}", path.display()))?;
    if shape.len() != 1 {
        bail!(
            "weights file {} holds a {}-dimensional array; the weights are one flat int16 vector \
             in device order (numpy: w.reshape(-1))",
            path.display(),
            shape.len()
        );
    }
    if values.is_empty() {
        bail!(
            "weights file {} is an empty array; pass weights saved by zo",
            path.display()
        );
    }
    let (json, _) = companion_paths(&path);
    let sidecar = if json.exists() {
        let text = std::fs::read_to_string(&json)
            .with_context(|| format!("cannot read {}", json.display()))?;
        let s: Sidecar = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "sidecar {} is not valid: {e}; delete it or restore it from the run",
                json.display()
            )
        })?;
        if s.net_shape().n_weights() != values.len() {
            bail!(
                "{} holds {} weights but its sidecar {} says shape {} ({} weights); the files \
                 do not belong together",
                path.display(),
                values.len(),
                json.display(),
                s.shape,
                s.net_shape().n_weights()
            );
        }
        if s.sha256 != weights_sha256(&values) {
            bail!(
                "{} does not hold the weights its sidecar {} describes (their sha256 differ); \
                 the files do not belong together: restore them from the run or pull them again",
                path.display(),
                json.display()
            );
        }
        Some(s)
    } else {
        None
    };
    Ok(Loaded {
        path,
        values,
        sidecar,
    })
}
