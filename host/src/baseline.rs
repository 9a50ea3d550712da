//! A float backpropagation baseline on the host: the device's network (same shape, the same
//! seed-derived initial weights from `zo_sim::data::schedule::init_weights`, the same clipped-ReLU
//! hidden layer, the same quantised inputs, split and sample order), trained with softmax
//! cross-entropy and plain per-sample SGD.

use zo_hdl::config::Shape;
use zo_hdl::formats::W_FRAC;
use zo_sim::data::schedule::{epoch_order, init_weights, PreparedData};

/// The float network.
#[derive(Clone, Debug)]
pub struct Net {
    pub shape: Shape,
    /// Layer 1 rows: `n_in` weights then the bias, per hidden unit.
    pub w1: Vec<Vec<f64>>,
    /// Layer 2 rows: `n_hid` weights then the bias, per output.
    pub w2: Vec<Vec<f64>>,
}

/// Results of one epoch.
#[derive(Clone, Debug)]
pub struct EpochStats {
    pub epoch: u32,
    /// Mean training cross-entropy during the epoch, in bits.
    pub loss: f64,
    /// Mean clean cross-entropy on the test set, in bits.
    pub test_loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
}

const HIDDEN_MAX: f64 = 255.0 / 256.0;

impl Net {
    /// The device's initial weights as floats.
    pub fn init(shape: Shape, seed: u32) -> Self {
        let w = init_weights(shape, seed as u64);
        let scale = (1u32 << W_FRAC) as f64;
        let rows = |w: &[i16], fan_in: usize| -> Vec<Vec<f64>> {
            w.chunks(fan_in + 1)
                .map(|r| r.iter().map(|&v| v as f64 / scale).collect())
                .collect()
        };
        let split = shape.layer2_base();
        Self {
            shape,
            w1: rows(&w[..split], shape.n_in),
            w2: rows(&w[split..], shape.n_hid),
        }
    }

    fn inputs(x: &[u8]) -> Vec<f64> {
        // The device's multiplier operand in real units (signed Q0.7 input, doubled into Q.8).
        x.iter()
            .map(|&v| zo_hdl::formats::input_operand(v) as f64 / zo_hdl::formats::ONE_X as f64)
            .collect()
    }

    /// Pre-activations, hidden activations and logits.
    fn forward(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let dot = |row: &[f64], v: &[f64]| -> f64 {
            row[..v.len()]
                .iter()
                .zip(v)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                + row[v.len()]
        };
        let a: Vec<f64> = self.w1.iter().map(|r| dot(r, x)).collect();
        let h: Vec<f64> = a.iter().map(|&v| v.clamp(0.0, HIDDEN_MAX)).collect();
        let z: Vec<f64> = self.w2.iter().map(|r| dot(r, &h)).collect();
        (a, h, z)
    }

    fn softmax(z: &[f64]) -> Vec<f64> {
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    /// Class and cross-entropy (bits) of one sample.
    pub fn infer(&self, x: &[u8], y: usize) -> (usize, f64) {
        let (_, _, z) = self.forward(&Self::inputs(x));
        let p = Self::softmax(&z);
        let class = (0..z.len())
            .max_by(|&a, &b| z[a].total_cmp(&z[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        (class, -p[y].max(1e-300).log2())
    }

    /// One SGD step on one sample; returns its loss in bits before the step.
    pub fn step(&mut self, x: &[u8], y: usize, lr: f64) -> f64 {
        let xs = Self::inputs(x);
        let (a, h, z) = self.forward(&xs);
        let p = Self::softmax(&z);
        let loss = -p[y].max(1e-300).log2();
        // dL/dz = p - onehot (natural-log cross-entropy).
        let dz: Vec<f64> = p
            .iter()
            .enumerate()
            .map(|(k, &pk)| pk - if k == y { 1.0 } else { 0.0 })
            .collect();
        let n_hid = self.shape.n_hid;
        let mut dh = vec![0.0; n_hid];
        for (k, row) in self.w2.iter().enumerate() {
            for j in 0..n_hid {
                dh[j] += dz[k] * row[j];
            }
        }
        for (k, row) in self.w2.iter_mut().enumerate() {
            for j in 0..n_hid {
                row[j] -= lr * dz[k] * h[j];
            }
            row[n_hid] -= lr * dz[k];
        }
        for (j, row) in self.w1.iter_mut().enumerate() {
            if a[j] <= 0.0 || a[j] >= HIDDEN_MAX {
                continue; // the clipped ReLU passes no gradient outside (0, 1)
            }
            let g = dh[j];
            for (i, &xi) in xs.iter().enumerate() {
                row[i] -= lr * g * xi;
            }
            let n_in = xs.len();
            row[n_in] -= lr * g;
        }
        loss
    }

    /// Accuracy and mean loss (bits) over a set.
    pub fn evaluate(&self, xs: &[Vec<u8>], ys: &[usize]) -> (f64, f64) {
        if xs.is_empty() {
            return (0.0, 0.0);
        }
        let (mut correct, mut loss) = (0usize, 0.0);
        for (x, &y) in xs.iter().zip(ys) {
            let (c, l) = self.infer(x, y);
            correct += usize::from(c == y);
            loss += l;
        }
        (correct as f64 / xs.len() as f64, loss / xs.len() as f64)
    }

    /// The weights in device order, rounded to Q3.12 and saturated.
    pub fn quantized(&self) -> Vec<i16> {
        let scale = (1u32 << W_FRAC) as f64;
        self.w1
            .iter()
            .chain(&self.w2)
            .flatten()
            .map(|&v| (v * scale).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16)
            .collect()
    }
}

/// Trains `epochs` epochs in the device runs' sample order; calls `on_epoch` after each.
pub fn train(
    data: &PreparedData,
    shape: Shape,
    epochs: u32,
    seed: u32,
    lr: f64,
    mut on_epoch: impl FnMut(&EpochStats),
) -> (Net, Vec<EpochStats>) {
    let mut net = Net::init(shape, seed);
    let mut stats = Vec::new();
    for e in 0..epochs {
        let order = epoch_order(data.train_x.len(), seed as u64, e as usize);
        let mut loss = 0.0;
        for &i in &order {
            loss += net.step(&data.train_x[i], data.train_y[i], lr);
        }
        let (train_accuracy, _) = net.evaluate(&data.train_x, &data.train_y);
        let (test_accuracy, test_loss) = net.evaluate(&data.test_x, &data.test_y);
        let s = EpochStats {
            epoch: e + 1,
            loss: loss / order.len().max(1) as f64,
            test_loss,
            train_accuracy,
            test_accuracy,
        };
        on_epoch(&s);
        stats.push(s);
    }
    (net, stats)
}
