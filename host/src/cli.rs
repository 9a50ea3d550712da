//! The command line of `zo` (clap derive). `main.rs` runs the commands; this module only
//! describes them, so that completions and tests see the same definitions.

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use zo_hdl::config::{Estimator, LossKind, Shape};

/// Train and use zo zeroth-order learner boards (real or virtual).
#[derive(Parser, Debug)]
#[command(
    name = "zo",
    version,
    about = "Train and use zo zeroth-order learner boards",
    long_about = "Train and use zo zeroth-order learner boards.\n\nWithout --port every command \
                  that talks to a device starts a virtual board in-process (the bit-exact model \
                  behind the real protocol on a pseudo-terminal)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train on the device: weights, parameters, epochs, evaluation, checkpoints, plots.
    Train(TrainArgs),
    /// Classify samples with trained weights on the device.
    Infer(InferArgs),
    /// Read the device's weights into a file or write a file's weights into the device.
    Weights {
        #[command(subcommand)]
        action: WeightsAction,
    },
    /// Identify the device: shape, formats, buffer, clock, baud, cycles per sample.
    Info(InfoArgs),
    /// List serial ports with their USB ids.
    Ports(PortsArgs),
    /// Train the same network with float backpropagation on the host, for comparison.
    Baseline(BaselineArgs),
    /// Program a board with the bitstream `cargo xtask synth --board NAME` built.
    Flash(FlashArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The device arguments of a command that talks to a device.
    pub fn connect_mut(&mut self) -> Option<&mut ConnectArgs> {
        match self {
            Command::Train(a) => Some(&mut a.connect),
            Command::Infer(a) => Some(&mut a.connect),
            Command::Info(a) => Some(&mut a.connect),
            Command::Weights {
                action: WeightsAction::Pull { connect, .. } | WeightsAction::Push { connect, .. },
            } => Some(connect),
            _ => None,
        }
    }
}

/// `zo flash`.
#[derive(Args, Debug, Clone)]
pub struct FlashArgs {
    /// Board: icebreaker, alchitry-cu or ulx3s.
    #[arg(long)]
    pub board: String,
    /// Bitstream (default: build/BOARD/top.bin, or top.bit for ECP5).
    #[arg(long)]
    pub bitstream: Option<std::path::PathBuf>,
    /// Print the programmer command instead of running it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Which device to talk to.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Device")]
pub struct ConnectArgs {
    /// Serial port of a board, or `auto` to find it by USB id (FT2232H 0403:6010, interface
    /// 1); without it a virtual board is started.
    #[arg(long, env = "ZO_PORT", value_name = "PATH|auto")]
    pub port: Option<String>,
    /// Baud rate of the serial line.
    #[arg(long, env = "ZO_BAUD", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u32).range(300..=12_000_000))]
    pub baud: u32,
    /// Start a virtual board in-process: `virtual` (the bit-exact model, fast) or `rtl` (the
    /// rust-hdl simulation of the learner, exact and slow, ~5 samples/s at 64-32-10).
    #[arg(long, value_enum)]
    pub board: Option<BoardKind>,
    /// Network of a virtual board, INPUTS-HIDDEN-OUTPUTS [default: 64-32-10].
    #[arg(long, value_name = "N-H-O", value_parser = parse_shape)]
    pub shape: Option<Shape>,
    /// Samples the virtual board's buffer holds [default: 2048].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub capacity: Option<u16>,
    /// Make the virtual board behave like a build without mini-batch accumulators (the
    /// iCE40 boards' default builds): it takes batch 1 only.
    #[arg(long)]
    pub no_batch: bool,
    /// Make the virtual board behave like a build without the exact output layer (the iCE40
    /// boards' default builds): it takes estimators np and wp only.
    #[arg(long)]
    pub no_hybrid: bool,
    #[command(flatten)]
    pub vcd: zo_sim::harness::vcd::VcdArgs,
    /// Set by main when the port came from ZO_PORT rather than the command line.
    #[arg(skip)]
    pub port_from_env: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoardKind {
    /// The model-backed virtual board.
    Virtual,
    /// The RTL-backed virtual board.
    Rtl,
}

/// Where the samples come from.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Data")]
pub struct DataArgs {
    /// A built-in dataset (iris, wine, breast-cancer, digits) or a file: CSV, LIBSVM
    /// (.svm/.libsvm) or an IDX image file (MNIST style) [default: iris].
    #[arg(long, value_name = "NAME|FILE")]
    pub dataset: Option<String>,
    /// Label column of a CSV file: a header name, a 0-based index, `last` or `none`
    /// [default: last].
    #[arg(long, value_name = "NAME|INDEX")]
    pub label_column: Option<String>,
    /// Whether a CSV file starts with a header line [default: auto].
    #[arg(long, value_enum)]
    pub header: Option<HeaderArg>,
    /// Label file of an IDX image file [default: the image file name with images -> labels,
    /// idx3 -> idx1].
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Average 2x2 pixel blocks of IDX images (28x28 -> 14x14 = 196 features).
    #[arg(long)]
    pub pool: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HeaderArg {
    /// A header when a feature field of the first line is not a number.
    Auto,
    Yes,
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TuneArg {
    /// Tune on the model before training.
    Auto,
    /// Use the flags and the dataset's defaults as they are.
    Off,
}

/// `zo train`.
#[derive(Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Fraction of each class held out for testing (stratified split) [default: 0.3].
    #[arg(long, value_name = "F", value_parser = parse_fraction, conflicts_with = "test_data",
          help_heading = "Data")]
    pub test_fraction: Option<f64>,
    /// A separate test set (same format and classes as --dataset) instead of a split.
    #[arg(long, value_name = "FILE", help_heading = "Data")]
    pub test_data: Option<PathBuf>,

    /// Estimator: np (node perturbation: antithetic noise on the pre-activations), wp
    /// (weight perturbation, SPSA: antithetic noise on every weight) or hybrid (node
    /// perturbation on the hidden units, the exact delta rule on the output layer)
    /// [default: hybrid for data files and digits, np for iris, wine and breast-cancer and on
    /// a build without the hybrid].
    #[arg(long, value_parser = named::<Estimator>(&Estimator::NAMES), help_heading = "Learning")]
    pub estimator: Option<Estimator>,
    /// Loss computed on chip: ce (softmax cross-entropy in bits) or mse (squared error against
    /// one-hot targets) [default: ce].
    #[arg(long, value_parser = named::<LossKind>(&LossKind::NAMES), help_heading = "Learning")]
    pub loss: Option<LossKind>,
    /// Perturbation size, Q.12 (1..=32767) [default: per dataset, see docs/CLI.md].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=32767), help_heading = "Learning")]
    pub sigma: Option<u16>,
    /// Learning-rate mantissa (1..=255): eta = mant * 2^(4 - shift) [default: 1].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..), help_heading = "Learning")]
    pub eta_mant: Option<u8>,
    /// Learning-rate shift (0..=31) [default: per dataset].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=31), help_heading = "Learning")]
    pub eta_shift: Option<u8>,
    /// Output-layer step shift of the hybrid estimator (0..=31): eta_out = 2^(11 - N)
    /// [default: 15, or tuned].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=31), help_heading = "Learning")]
    pub out_shift: Option<u8>,
    /// Momentum (0..=7; 0 off): the update keeps a velocity that decays by 1 - 2^-N per
    /// apply; needs a build with mini-batch accumulators (virtual boards, ulx3s) [default: 0].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=7), help_heading = "Learning")]
    pub momentum: Option<u8>,
    /// Weight decay (0..=15; 0 off): every epoch after the first starts from the weights
    /// shrunk toward zero by 2^-N of themselves (host-driven, any board) [default: 0].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=15), help_heading = "Learning")]
    pub weight_decay: Option<u8>,
    /// Samples per applied update (1..=65535) [default: 1].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..), help_heading = "Learning")]
    pub batch: Option<u16>,
    /// Epochs (total, also when resuming) [default: per dataset].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = "Learning")]
    pub epochs: Option<u32>,
    /// Seed of the split, the initial weights, the sample order and the device's noise [default: 1].
    #[arg(long, allow_hyphen_values = true, help_heading = "Learning")]
    pub seed: Option<u32>,
    /// Choose sigma, eta_shift (and out_shift for hybrid) and epochs by trials on the bit-exact model against a
    /// validation slice of the training rows; flags you give stay fixed [default: off for a
    /// built-in dataset with measured settings for the estimator and loss (docs/CLI.md), auto
    /// otherwise].
    #[arg(long, value_enum, help_heading = "Learning")]
    pub tune: Option<TuneArg>,
    /// Halve the step every N epochs (0: never) [default: tuned runs about 1/6 of the tuning
    /// horizon (1/4 of --epochs when you fix it), digits with hybrid 75, otherwise 0].
    #[arg(long, value_name = "N", help_heading = "Learning")]
    pub eta_decay: Option<u32>,

    /// Run directory [default: runs/<dataset>-<UTC timestamp>].
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Print JSON lines: one per epoch, then a summary object as the last line.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Continue a run from its last checkpoint (with its own settings; --epochs sets the new total).
    #[arg(long, value_name = "RUN_DIR", help_heading = "Output")]
    pub resume: Option<PathBuf>,
    /// Also write loss.png and accuracy.png.
    #[arg(long, help_heading = "Output")]
    pub png: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Every row of the data.
    All,
    /// The training rows of the run that produced the weights.
    Train,
    /// The test rows of the run that produced the weights.
    Test,
}

/// `zo infer`.
#[derive(Args, Debug, Clone, Default)]
pub struct InferArgs {
    /// Weights to load into the device first: a .npy file or a run directory; without it the
    /// device's current weights are used.
    #[arg(long, value_name = "FILE|RUN_DIR")]
    pub weights: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Which rows to classify [default: all].
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// Print only the accuracy, not one line per sample.
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object (predictions and accuracy).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum WeightsAction {
    /// Read the device's weights into FILE (.npy) plus its .json sidecar.
    Pull {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace FILE and its .json and _readable.json when they exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        connect: ConnectArgs,
    },
    /// Write the weights of FILE (.npy or a run directory) into the device and verify them.
    Push {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// `zo info`.
#[derive(Args, Debug, Clone, Default)]
pub struct InfoArgs {
    /// Print the identity as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `zo ports`.
#[derive(Args, Debug, Clone, Default)]
pub struct PortsArgs {
    /// Print the ports as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `zo baseline`.
#[derive(Args, Debug, Clone, Default)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Fraction of each class held out for testing [default: 0.3].
    #[arg(long, value_name = "F", value_parser = parse_fraction, conflicts_with = "test_data",
          help_heading = "Data")]
    pub test_fraction: Option<f64>,
    /// A separate test set instead of a split.
    #[arg(long, value_name = "FILE", help_heading = "Data")]
    pub test_data: Option<PathBuf>,
    /// Network INPUTS-HIDDEN-OUTPUTS, as the device's (the init is the device's init) [default: 64-32-10].
    #[arg(long, value_name = "N-H-O", value_parser = parse_shape)]
    pub shape: Option<Shape>,
    /// Epochs [default: as `zo train` for the dataset].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub epochs: Option<u32>,
    /// Seed of the split, the initial weights and the sample order [default: 1].
    #[arg(long, allow_hyphen_values = true)]
    pub seed: Option<u32>,
    /// SGD learning rate [default: 0.05].
    #[arg(long, value_parser = parse_lr)]
    pub lr: Option<f64>,
    /// Print JSON lines (one per epoch, then the summary).
    #[arg(long)]
    pub json: bool,
}

/// A parser for a type named on the command line by one of `names` (listed in `--help`, in
/// completions and in the error for any other value).
fn named<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    clap::builder::PossibleValuesParser::new(names).try_map(|s| s.parse::<T>())
}

/// Parses `N-H-O` and checks the elaboration limits of the virtual boards' weight memory.
pub fn parse_shape(s: &str) -> Result<Shape, String> {
    zo_sim::model::shape::parse_shape(s, crate::connect::VIRTUAL_AW)
}

/// Parses a test fraction strictly inside (0, 1).
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        Ok(_) => Err(format!(
            "{s} is not a fraction strictly between 0 and 1, e.g. 0.3"
        )),
        Err(_) => Err(format!(
            "`{s}` is not a number; write a fraction such as 0.3"
        )),
    }
}

fn parse_lr(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 && f <= 10.0 => Ok(f),
        _ => Err(format!(
            "`{s}` is not a learning rate in (0, 10], e.g. 0.05"
        )),
    }
}
