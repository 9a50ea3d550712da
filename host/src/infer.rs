//! `zo infer` as data: which rows to classify with which scaling, and the device's answers.

use crate::cli::{DataArgs, SplitArg};
use crate::data;
use crate::link::Link;
use crate::rundir::RunConfig;
use crate::weights::{InputScaling, Loaded, Sidecar};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use std::path::Path;
use zo_proto::{Request, Response, Sample};
use zo_sim::data::dataset::{stratified_split, Dataset};
use zo_sim::data::scaling::Quantizer;

#[derive(Serialize, Clone, Debug)]
pub struct Prediction {
    pub row: usize,
    pub class: usize,
    pub class_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<usize>,
    /// Clean loss of the sample (Q.8 / 256) against its label, or class 0 when unlabelled.
    pub loss: f64,
}

#[derive(Serialize)]
pub struct InferReport {
    pub dataset: String,
    pub split: String,
    pub samples: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    pub backend: String,
    pub weights_sha256: String,
    pub predictions: Vec<Prediction>,
}

/// What the weights came with: the run's config (weights of a run directory) or the sidecar.
pub struct Provenance {
    pub run: Option<RunConfig>,
    pub sidecar: Option<Sidecar>,
}

impl Provenance {
    pub fn of(loaded: Option<&Loaded>) -> Self {
        Self {
            run: loaded.and_then(|l| read_run_config(&l.path)),
            sidecar: loaded.and_then(|l| l.sidecar.clone()),
        }
    }

    fn classes(&self) -> Option<Vec<String>> {
        self.run
            .as_ref()
            .map(|c| c.dataset.class_names.clone())
            .or_else(|| self.sidecar.as_ref().and_then(|s| s.classes.clone()))
    }

    fn scaling(&self) -> Option<InputScaling> {
        self.run
            .as_ref()
            .map(|c| c.input.clone())
            .or_else(|| self.sidecar.as_ref().and_then(|s| s.input.clone()))
    }

    /// The run's split: (seed, test fraction).
    fn split(&self) -> Option<(u32, f64)> {
        self.run
            .as_ref()
            .and_then(|c| c.test_fraction.map(|f| (c.seed, f)))
            .or_else(|| {
                self.sidecar
                    .as_ref()
                    .and_then(|s| s.split.as_ref().map(|s| (s.seed, s.test_fraction)))
            })
    }
}

fn read_run_config(weights_path: &Path) -> Option<RunConfig> {
    let dir = weights_path.parent()?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The dataset to classify: `--dataset`, else the one recorded with the weights.
pub fn data_args(given: &DataArgs, p: &Provenance) -> Result<DataArgs> {
    if given.dataset.is_some() {
        return Ok(given.clone());
    }
    if let Some(c) = &p.run {
        return Ok(c.dataset.to_args());
    }
    if let Some(d) = p.sidecar.as_ref().and_then(|s| s.dataset.clone()) {
        return Ok(DataArgs {
            dataset: Some(d),
            ..given.clone()
        });
    }
    bail!(
        "--dataset is required: no dataset is recorded with the weights; pass --dataset NAME|FILE"
    )
}

/// The rows to classify, their labels and classes, and the input scaling to use.
pub struct Inputs {
    pub dataset_name: String,
    pub features: Vec<Vec<f64>>,
    pub labels: Option<Vec<usize>>,
    pub class_names: Vec<String>,
    pub rows: Vec<usize>,
    /// The scaling saved with the weights; `None` when none was saved.
    pub scaling: Option<InputScaling>,
}

impl Inputs {
    pub fn n_features(&self) -> usize {
        self.features.first().map_or(0, Vec::len)
    }

    /// The saved scaling, or one fitted on the rows being classified.
    pub fn quantizer(&self) -> Quantizer {
        match &self.scaling {
            Some(s) => s.clone(),
            None => {
                let ds = Dataset {
                    name: self.dataset_name.clone(),
                    features: self.features.clone(),
                    labels: vec![0; self.features.len()],
                    n_classes: 1,
                    class_names: vec![],
                };
                Quantizer::fit(&ds, &self.rows)
            }
        }
    }
}

/// Loads the data, checks it against what the weights were trained on and picks the rows.
pub fn inputs(args: &DataArgs, split: SplitArg, p: &Provenance) -> Result<Inputs> {
    let loaded = data::load_table(args, "")?;
    let dataset_name = loaded.info.name.clone();
    let table = loaded.table;
    let n_features = table.n_features();
    let scaling = p.scaling();
    if let Some(s) = &scaling {
        if !s.is_current() {
            bail!(
                "the weights' input scaling is in format `{}`, which this version does not \
                 apply (it writes `{}`); retrain the weights with this version of zo",
                s.format,
                zo_sim::data::scaling::FORMAT
            );
        }
        if s.n_features() != n_features {
            bail!(
                "the weights were trained on {} features but `{dataset_name}` has {n_features}; \
                 pass the dataset the weights were trained on (same columns)",
                s.n_features()
            );
        }
    }
    let (features, labels, class_names) = if table.labels.is_some() {
        let ds = match p.classes() {
            Some(c) => table.into_dataset_with_classes(&c),
            None => table.into_dataset(),
        }
        .map_err(|e| anyhow!("{e}"))?;
        (ds.features, Some(ds.labels), ds.class_names)
    } else {
        (table.features, None, p.classes().unwrap_or_default())
    };
    let rows = match split {
        SplitArg::All => (0..features.len()).collect(),
        SplitArg::Train | SplitArg::Test => {
            check_split_data(split, p, &loaded.info)?;
            split_rows(split, p, labels.as_deref(), class_names.len())?
        }
    };
    Ok(Inputs {
        dataset_name,
        features,
        labels,
        class_names,
        rows,
        scaling,
    })
}

fn split_name(split: SplitArg) -> &'static str {
    match split {
        SplitArg::All => "all",
        SplitArg::Train => "train",
        SplitArg::Test => "test",
    }
}

/// `--split` needs the very data the run split: the same built-in set or file contents.
fn check_split_data(split: SplitArg, p: &Provenance, info: &data::DatasetInfo) -> Result<()> {
    let which = split_name(split);
    let Some(run) = &p.run else {
        return Ok(());
    };
    if run.test_data.is_some() {
        bail!("the run used a separate --test-data file; pass it with --dataset instead of --split {which}");
    }
    let same = match (&run.dataset.sha256, &info.sha256) {
        (Some(a), Some(b)) => a == b,
        (None, None) => run.dataset.name == info.name,
        _ => false,
    };
    if !same {
        bail!(
            "--split {which}: the data is not the run's dataset `{}` (its sha256 differs: the \
             file changed or is another one), so the run's {which} rows cannot be picked; \
             restore the file or drop --split",
            run.dataset.path.as_deref().unwrap_or(&run.dataset.name)
        );
    }
    Ok(())
}

fn split_rows(
    split: SplitArg,
    p: &Provenance,
    labels: Option<&[usize]>,
    n_classes: usize,
) -> Result<Vec<usize>> {
    let which = split_name(split);
    let Some((seed, fraction)) = p.split() else {
        bail!("--split {which} needs the split of the run that produced the weights; pass --weights with the weights.npy of a `zo train` run");
    };
    let Some(labels) = labels else {
        bail!("--split {which} needs labelled data; drop --label-column none");
    };
    let (train, test) = stratified_split(labels, n_classes, fraction, seed as u64);
    Ok(if split == SplitArg::Train {
        train
    } else {
        test
    })
}

/// Classifies `inputs.rows` with INFER. `stop` is polled before each sample; `progress`
/// gets the number done.
pub fn classify(
    link: &mut Link,
    n_in: usize,
    inputs: &Inputs,
    quantizer: &Quantizer,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(usize),
) -> Result<Result<Vec<Prediction>, usize>> {
    let mut predictions = Vec::with_capacity(inputs.rows.len());
    for (k, &r) in inputs.rows.iter().enumerate() {
        if stop() {
            return Ok(Err(k));
        }
        let mut x = quantizer.quantize(&inputs.features[r]);
        x.resize(n_in, 0);
        let label = inputs.labels.as_ref().map(|l| l[r]);
        let response = link.request(&Request::Infer(Sample {
            label: label.unwrap_or(0) as u8,
            features: x,
        }))?;
        let Response::Inference { class, loss, .. } = response else {
            bail!(
                "the device answered INFER with {}; is this a zo device?",
                zo_proto::kind::name(response.kind())
            );
        };
        let class = class as usize;
        predictions.push(Prediction {
            row: r,
            class,
            class_name: inputs
                .class_names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string()),
            label,
            loss: loss as f64 / 256.0,
        });
        progress(k + 1);
    }
    Ok(Ok(predictions))
}

/// The report of a finished classification.
pub fn report(
    inputs: &Inputs,
    split: SplitArg,
    backend: &str,
    weights_sha256: String,
    predictions: Vec<Prediction>,
) -> InferReport {
    let correct = inputs.labels.as_ref().map(|_| {
        predictions
            .iter()
            .filter(|p| p.label == Some(p.class))
            .count()
    });
    InferReport {
        dataset: inputs.dataset_name.clone(),
        split: split_name(split).into(),
        samples: predictions.len(),
        correct,
        accuracy: correct.map(|c| c as f64 / predictions.len().max(1) as f64),
        backend: backend.into(),
        weights_sha256,
        predictions,
    }
}
