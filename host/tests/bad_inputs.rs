//! Every bad input gets one line on stderr naming the problem and the fix, a non-zero exit
//! code, no panic, and leaves no run directory behind.

mod common;

use common::*;
use serialport::SerialPort;
use std::path::Path;

/// One bad input: the arguments (`{dir}` is replaced by the case's directory), the exit code
/// and fragments the error line must contain.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    fragments: &'static [&'static str],
}

const fn case(
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    fragments: &'static [&'static str],
) -> Case {
    Case {
        name,
        args,
        code,
        fragments,
    }
}

/// Files every case can use, written into its directory.
fn fixtures(dir: &TempDir) {
    dir.write("empty.csv", "");
    dir.write("blank.csv", "\n  \n\n");
    dir.write(
        "binary.csv",
        [0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0xff, 0xfe],
    );
    dir.write("latin1.csv", b"1,2,caf\xe9\n3,4,b\n");
    dir.write("words.csv", "1,2,a\n3,four,b\n5,6,a\n");
    dir.write("nan.csv", "1,2,a\nnan,3,b\n5,6,a\n");
    dir.write("inf.csv", "1,2,a\n3,inf,b\n5,6,a\n");
    dir.write("ragged.csv", "1,2,a\n3,b\n5,6,a\n");
    dir.write("missing.csv", "1,2,a\n3,,b\n5,6,a\n");
    dir.write("nolabel.csv", "1,2,a\n3,4,\n5,6,b\n");
    dir.write("header-only.csv", "x,y,label\n");
    dir.write("single.csv", "1,2,a\n3,4,a\n5,6,a\n");
    dir.write("named.csv", "x,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n");
    dir.write("onecol.csv", "a\nb\na\n");
    dir.write("three.csv", "1,2,3,a\n4,5,6,b\n");
    dir.write("numeric.csv", "1,2\n3,4\n");
    dir.write("other-classes.csv", "x,y,label\n1,2,a\n3,4,zzz\n");
    dir.write("bad.svm", "1 2:0.5 1:0.25\n2 1:0.5\n");
    dir.write("zero-index.svm", "1 0:0.5\n2 1:0.5\n");
    dir.write(
        "cut-images-idx3-ubyte",
        [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2],
    );
    dir.write(
        "lonely-images-idx3-ubyte",
        [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5],
    );
    dir.write("regular-file", "not a tty\n");
    dir.write("garbage.npy", "this is not numpy");
    dir.write("float.npy", {
        let mut b = zo_host::npy::encode_i16(&[1, 2], &[2]);
        let at = b.windows(3).position(|w| w == b"<i2").unwrap();
        b[at + 1..at + 3].copy_from_slice(b"f4");
        b
    });
    dir.write("short.npy", zo_host::npy::encode_i16(&[1; 10], &[10]));
    dir.write("matrix.npy", zo_host::npy::encode_i16(&[1; 10], &[2, 5]));
    // Issue 12: special files, huge and compressed files, IDX variants, weights that do not
    // belong together.
    let fifo = std::ffi::CString::new(dir.join("fifo").display().to_string()).unwrap();
    // SAFETY: a valid C string; the FIFO has no writer, so opening it would block.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::File::create(dir.join("huge.csv"))
        .unwrap()
        .set_len(600 << 20)
        .unwrap(); // sparse: no disk used
    dir.write("gz.csv", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
    dir.write("huge-index.svm", "1 1:0.5 4000000000:1\n2 1:0.5\n");
    dir.write("index-255.svm", "1 1:0.5 255:1\n2 1:0.5\n");
    dir.write("ok.svm", "1 1:0.5 2:1\n2 1:0.25\n1 2:0.5\n2 1:1\n");
    dir.write("neg-index.svm", "1 -3:0.5\n2 1:0.5\n");
    dir.write("dup-header.csv", "a,b,a,label\n1,2,3,x\n4,5,6,y\n");
    dir.write("dup-label-name.csv", "x,label,label\n1,a,b\n2,b,a\n");
    dir.write("ok.csv", "x,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n");
    let wide: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    dir.write(
        "wide.csv",
        format!("{},a\n{},b\n", wide.join(","), wide.join(",")),
    );
    let idx = |magic: [u8; 4], dims: &[u32], data: &[u8]| {
        let mut v = magic.to_vec();
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    };
    dir.write(
        "float-images-idx3-ubyte",
        idx([0, 0, 0x0d, 3], &[1, 1, 1], &[0, 0, 0, 0]),
    );
    dir.write(
        "two-images-idx3-ubyte",
        idx([0, 0, 8, 3], &[2, 2, 2], &[1; 8]),
    );
    dir.write("two-labels-idx1-ubyte", idx([0, 0, 8, 1], &[2], &[0, 1]));
    dir.write("three-labels", idx([0, 0, 8, 1], &[3], &[0, 1, 1]));
    dir.write("bad-magic-labels", idx([1, 2, 8, 1], &[2], &[0, 1]));
    dir.write("cut-labels", idx([0, 0, 8, 1], &[5], &[0, 1]));
    dir.write(
        "odd-images-idx3-ubyte",
        idx([0, 0, 8, 3], &[2, 3, 3], &[1; 18]),
    );
    dir.write("odd-labels-idx1-ubyte", idx([0, 0, 8, 1], &[2], &[0, 1]));
    dir.write("gz-images-idx3-ubyte", [0x1f, 0x8b, 8, 0, 0, 0]);
    {
        use zo_hdl::config::Shape;
        use zo_host::weights::{save, InputScaling, Sidecar};
        let shape = Shape::new(64, 32, 10);
        let w = vec![1i16; shape.n_weights()];
        let mut sc = Sidecar::new(shape, &w);
        let rows = vec![vec![0.0; 4], vec![1.0; 4]];
        sc.input = Some(InputScaling::fit_rows(&rows, 4, &[0, 1]));
        save(&dir.join("four.npy"), shape, &w, &sc, false).unwrap();
        save(
            &dir.join("taken.npy"),
            shape,
            &w,
            &Sidecar::new(shape, &w),
            false,
        )
        .unwrap();
        let mut other = Sidecar::new(shape, &w);
        other.sha256 = "0".repeat(64);
        save(&dir.join("mismatch.npy"), shape, &w, &other, false).unwrap();
    }
    dir.write("side.json", "{}");
    std::fs::create_dir_all(dir.join("fakerun")).unwrap();
    dir.write("fakerun/config.json", "{}");
    std::fs::create_dir_all(dir.join(".stale.partial")).unwrap();
    dir.write(".stale.partial/config.json", "{}");
    std::fs::create_dir_all(dir.join("dir.npy")).unwrap();
    std::fs::create_dir_all(dir.join("somedir")).unwrap();
    std::fs::create_dir_all(dir.join("notarun")).unwrap();
    std::fs::create_dir_all(dir.join("exists")).unwrap();
}

const CASES: &[Case] = &[
    // Data files.
    case(
        "missing dataset file",
        &["train", "--dataset", "nope.csv"],
        1,
        &["nope.csv", "does not exist"],
    ),
    case(
        "unknown dataset",
        &["train", "--dataset", "mnist"],
        1,
        &["unknown dataset `mnist`", "iris, wine"],
    ),
    case(
        "empty file",
        &["train", "--dataset", "empty.csv"],
        1,
        &["empty.csv", "is empty"],
    ),
    case(
        "blank file",
        &["train", "--dataset", "blank.csv"],
        1,
        &["is empty"],
    ),
    case(
        "binary file",
        &["train", "--dataset", "binary.csv"],
        1,
        &["not a text file", "byte 4"],
    ),
    case(
        "invalid utf-8",
        &["train", "--dataset", "latin1.csv"],
        1,
        &["not a text file"],
    ),
    case(
        "directory as dataset",
        &["train", "--dataset", "somedir"],
        1,
        &["is a directory"],
    ),
    case(
        "malformed value",
        &["train", "--dataset", "words.csv"],
        1,
        &["line 2", "`four` is not a finite number"],
    ),
    case(
        "nan value",
        &["train", "--dataset", "nan.csv"],
        1,
        &["`nan` is not a finite number"],
    ),
    case(
        "inf value",
        &["train", "--dataset", "inf.csv"],
        1,
        &["`inf` is not a finite number"],
    ),
    case(
        "ragged rows",
        &["train", "--dataset", "ragged.csv"],
        1,
        &["line 2", "found 2 fields", "first row has 3"],
    ),
    case(
        "missing value",
        &["train", "--dataset", "missing.csv"],
        1,
        &["missing value", "column 2"],
    ),
    case(
        "missing label",
        &["train", "--dataset", "nolabel.csv"],
        1,
        &["label is missing"],
    ),
    case(
        "header without rows",
        &["train", "--dataset", "header-only.csv"],
        1,
        &["no data rows"],
    ),
    case(
        "single class",
        &["train", "--dataset", "single.csv"],
        1,
        &["single class (`a`)", "at least two"],
    ),
    case(
        "unknown label column",
        &[
            "train",
            "--dataset",
            "named.csv",
            "--label-column",
            "species",
        ],
        1,
        &["no column named `species`", "x, y, label"],
    ),
    case(
        "label column index too large",
        &["train", "--dataset", "named.csv", "--label-column", "7"],
        1,
        &["label column 7 does not exist", "3 columns"],
    ),
    case(
        "label name without header",
        &[
            "train",
            "--dataset",
            "named.csv",
            "--label-column",
            "label",
            "--header",
            "no",
        ],
        1,
        &["without a header"],
    ),
    case(
        "no feature columns",
        &["train", "--dataset", "onecol.csv"],
        1,
        &["no feature columns"],
    ),
    case(
        "unlabelled training data",
        &[
            "train",
            "--dataset",
            "numeric.csv",
            "--label-column",
            "none",
        ],
        1,
        &["has no labels"],
    ),
    case(
        "libsvm indices out of order",
        &["train", "--dataset", "bad.svm"],
        1,
        &["not LIBSVM", "must increase"],
    ),
    case(
        "libsvm index 0",
        &["train", "--dataset", "zero-index.svm"],
        1,
        &["index `0` is not an integer >= 1"],
    ),
    case(
        "idx cut short",
        &["train", "--dataset", "cut-images-idx3-ubyte"],
        1,
        &["bad IDX image file", "announces 36 bytes"],
    ),
    case(
        "idx without labels",
        &["train", "--dataset", "lonely-images-idx3-ubyte"],
        1,
        &["needs its labels", "--labels"],
    ),
    case(
        "file option on a built-in set",
        &["train", "--pool"],
        1,
        &["--pool applies to dataset files"],
    ),
    case(
        "test data with other columns",
        &[
            "train",
            "--dataset",
            "named.csv",
            "--test-data",
            "three.csv",
        ],
        1,
        &["has 3 features", "has 2"],
    ),
    case(
        "test data with other classes",
        &[
            "train",
            "--dataset",
            "named.csv",
            "--test-data",
            "other-classes.csv",
        ],
        1,
        &["label `zzz` is not one of the training classes (a, b)"],
    ),
    // The device does not fit the data.
    case(
        "more features than inputs",
        &["train", "--dataset", "digits", "--shape", "16-8-10"],
        1,
        &["64 features", "at most 16", "--shape 64-8-10"],
    ),
    case(
        "more classes than outputs",
        &["train", "--shape", "4-8-2"],
        1,
        &["3 classes", "2 outputs", "--shape 4-8-3"],
    ),
    // Flag values.
    case(
        "bad estimator",
        &["train", "--estimator", "sgd"],
        2,
        &["invalid value 'sgd'", "np, wp"],
    ),
    case(
        "bad loss",
        &["train", "--loss", "hinge"],
        2,
        &["invalid value 'hinge'", "ce, mse"],
    ),
    case(
        "sigma zero",
        &["train", "--sigma", "0"],
        2,
        &["--sigma", "1..=32767"],
    ),
    case(
        "sigma too large",
        &["train", "--sigma", "40000"],
        2,
        &["--sigma", "1..=32767"],
    ),
    case(
        "eta shift too large",
        &["train", "--eta-shift", "40"],
        2,
        &["--eta-shift", "0..=31"],
    ),
    case(
        "eta mantissa zero",
        &["train", "--eta-mant", "0"],
        2,
        &["--eta-mant"],
    ),
    case("batch zero", &["train", "--batch", "0"], 2, &["--batch"]),
    case("epochs zero", &["train", "--epochs", "0"], 2, &["--epochs"]),
    case(
        "epochs not a number",
        &["train", "--epochs", "many"],
        2,
        &["invalid value 'many'"],
    ),
    case("negative seed", &["train", "--seed", "-3"], 2, &["--seed"]),
    case(
        "test fraction too large",
        &["train", "--test-fraction", "1.5"],
        2,
        &["strictly between 0 and 1"],
    ),
    case(
        "test fraction nan",
        &["train", "--test-fraction", "nan"],
        2,
        &["strictly between 0 and 1"],
    ),
    case(
        "test fraction and test data",
        &[
            "train",
            "--test-fraction",
            "0.2",
            "--test-data",
            "named.csv",
        ],
        2,
        &["cannot be used with"],
    ),
    case(
        "test fraction leaving nothing",
        &["train", "--test-fraction", "0.001"],
        1,
        &["leaves 150 training and 0 test", "--test-fraction"],
    ),
    case(
        "shape with two sizes",
        &["train", "--shape", "64-32"],
        2,
        &["three sizes"],
    ),
    case(
        "shape not numbers",
        &["train", "--shape", "big"],
        2,
        &["not a shape"],
    ),
    case(
        "shape too large",
        &["train", "--shape", "300-32-10"],
        2,
        &["too large"],
    ),
    case("baud zero", &["info", "--baud", "0"], 2, &["--baud"]),
    case(
        "batch on a build without accumulators",
        &["train", "--no-batch", "--batch", "4"],
        1,
        &["--batch 4", "no mini-batch accumulators", "--batch 1"],
    ),
    case(
        "momentum on a build without accumulators",
        &["train", "--no-batch", "--momentum", "2"],
        1,
        &["--momentum 2", "no mini-batch accumulators", "--momentum 0"],
    ),
    case(
        "hybrid on a build without the exact output layer",
        &["train", "--no-hybrid", "--estimator", "hybrid"],
        1,
        &[
            "--estimator hybrid",
            "no exact output layer",
            "--estimator np",
        ],
    ),
    case(
        "no-hybrid on a real port",
        &["info", "--port", "/dev/null", "--no-hybrid"],
        1,
        &["--no-hybrid", "virtual board"],
    ),
    case(
        "momentum out of range",
        &["train", "--momentum", "8"],
        2,
        &["--momentum"],
    ),
    case(
        "weight decay out of range",
        &["train", "--weight-decay", "16"],
        2,
        &["--weight-decay"],
    ),
    case(
        "out-shift out of range",
        &["train", "--out-shift", "32"],
        2,
        &["--out-shift"],
    ),
    case(
        "estimator unknown",
        &["train", "--estimator", "sgd"],
        2,
        &["np", "wp", "hybrid"],
    ),
    case(
        "no-batch on a real port",
        &["info", "--port", "/dev/null", "--no-batch"],
        1,
        &["--no-batch", "virtual board"],
    ),
    case(
        "capacity zero",
        &["train", "--capacity", "0"],
        2,
        &["--capacity"],
    ),
    case(
        "baseline learning rate",
        &["baseline", "--lr", "0"],
        2,
        &["learning rate"],
    ),
    case(
        "unknown flag",
        &["train", "--sigmaa", "3"],
        2,
        &["unexpected argument '--sigmaa'", "zo train --help"],
    ),
    case(
        "unknown command",
        &["fly"],
        2,
        &["unrecognized subcommand 'fly'"],
    ),
    case(
        "unknown shell",
        &["completions", "cmd"],
        2,
        &["invalid value 'cmd'"],
    ),
    // Ports and devices.
    case(
        "port does not exist",
        &["info", "--port", "/dev/zo-no-such-port"],
        1,
        &["/dev/zo-no-such-port does not exist", "zo ports"],
    ),
    case(
        "port is a regular file",
        &["info", "--port", "{dir}/regular-file"],
        1,
        &["is not a serial port"],
    ),
    case(
        "port is a directory",
        &["info", "--port", "{dir}/somedir"],
        1,
        &["serial port"],
    ),
    // Waveforms: only the RTL board records; a window must be ordered; the file must be
    // writable; a prefix must select something.
    case(
        "vcd on the model board",
        &["train", "--vcd", "{dir}/w.vcd"],
        1,
        &["--vcd", "--board rtl"],
    ),
    case(
        "vcd window reversed",
        &[
            "train",
            "--board",
            "rtl",
            "--vcd",
            "{dir}/w.vcd",
            "--vcd-from",
            "10",
            "--vcd-to",
            "5",
        ],
        1,
        &["--vcd-from 10 is after --vcd-to 5"],
    ),
    case(
        "vcd window without a file",
        &["train", "--board", "rtl", "--vcd-to", "5"],
        1,
        &["need --vcd FILE"],
    ),
    case(
        "vcd file not writable",
        &[
            "train",
            "--board",
            "rtl",
            "--shape",
            "5-4-3",
            "--vcd",
            "{dir}/no-such-dir/w.vcd",
        ],
        1,
        &["cannot write the waveform file", "no-such-dir/w.vcd"],
    ),
    case(
        "vcd signals select nothing",
        &[
            "train",
            "--board",
            "rtl",
            "--shape",
            "5-4-3",
            "--vcd",
            "{dir}/w.vcd",
            "--vcd-signals",
            "nothing",
        ],
        1,
        &["--vcd-signals nothing", "no signal"],
    ),
    case(
        "port and board",
        &["info", "--port", "/dev/null", "--board", "rtl"],
        1,
        &["pass only one of them"],
    ),
    case(
        "shape with a real port",
        &["info", "--port", "/dev/null", "--shape", "4-4-3"],
        1,
        &["--shape sizes a virtual board"],
    ),
    // Runs.
    case(
        "output exists",
        &["train", "--out", "exists"],
        1,
        &["exists already exists", "--resume"],
    ),
    case(
        "resume a missing directory",
        &["train", "--resume", "gone"],
        1,
        &["no such run directory"],
    ),
    case(
        "resume a directory that is no run",
        &["train", "--resume", "notarun"],
        1,
        &["not a run directory (no config.json)"],
    ),
    case(
        "resume with a new setting",
        &["train", "--resume", "notarun", "--sigma", "9"],
        1,
        &["--sigma cannot change a run", "--epochs sets the new total"],
    ),
    // Weights.
    case(
        "push a missing file",
        &["weights", "push", "none.npy"],
        1,
        &["cannot read weights file", "none.npy"],
    ),
    case(
        "push a file that is no npy",
        &["weights", "push", "garbage.npy"],
        1,
        &["not a .npy file"],
    ),
    case(
        "push float weights",
        &["weights", "push", "float.npy"],
        1,
        &["dtype <f4", "astype('<i2')"],
    ),
    case(
        "push weights of another shape",
        &["weights", "push", "short.npy"],
        1,
        &["holds 10 weights", "(64-32-10) has 2410"],
    ),
    case(
        "push a matrix",
        &["weights", "push", "matrix.npy"],
        1,
        &["2-dimensional"],
    ),
    case(
        "pull to a name without .npy",
        &["weights", "pull", "weights.txt"],
        1,
        &["must end in .npy"],
    ),
    case(
        "push a directory without weights",
        &["weights", "push", "somedir"],
        1,
        &["holds no weights.npy"],
    ),
    // Inference.
    case(
        "infer on a fresh virtual board",
        &["infer", "--dataset", "iris"],
        1,
        &["holds no trained weights", "--weights"],
    ),
    case(
        "infer without a dataset",
        &["infer", "--weights", "short.npy"],
        1,
        &["--dataset is required"],
    ),
    case(
        "infer split without a run",
        &[
            "infer",
            "--weights",
            "short.npy",
            "--dataset",
            "iris",
            "--split",
            "test",
        ],
        1,
        &["--split test needs the split"],
    ),
    // Issue 12: special and oversized files.
    case(
        "FIFO without a writer",
        &["train", "--dataset", "fifo"],
        1,
        &[
            "`fifo` is a FIFO",
            "not a regular file",
            "save the data to a file",
        ],
    ),
    case(
        "FIFO as test data",
        &["train", "--dataset", "ok.csv", "--test-data", "fifo"],
        1,
        &["FIFO", "not a regular file"],
    ),
    case(
        "FIFO for infer",
        &["infer", "--weights", "taken.npy", "--dataset", "fifo"],
        1,
        &["FIFO"],
    ),
    case(
        "FIFO for baseline",
        &["baseline", "--dataset", "fifo"],
        1,
        &["FIFO"],
    ),
    case(
        "/dev/zero",
        &["train", "--dataset", "/dev/zero"],
        1,
        &["`/dev/zero` is a character device", "not a regular file"],
    ),
    case(
        "/dev/zero for baseline",
        &["baseline", "--dataset", "/dev/zero"],
        1,
        &["character device"],
    ),
    case(
        "/dev/null",
        &["train", "--dataset", "/dev/null"],
        1,
        &["character device"],
    ),
    case(
        "/dev/zero as IDX labels",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--labels",
            "/dev/zero",
        ],
        1,
        &["`/dev/zero` is a character device"],
    ),
    case(
        "FIFO as IDX labels",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--labels",
            "fifo",
        ],
        1,
        &["`fifo` is a FIFO"],
    ),
    case(
        "file over the size limit",
        &["train", "--dataset", "huge.csv"],
        1,
        &["huge.csv", "larger than 512 MiB"],
    ),
    case(
        "file over the size limit for infer",
        &["infer", "--weights", "taken.npy", "--dataset", "huge.csv"],
        1,
        &["larger than 512 MiB"],
    ),
    case(
        "gzip file",
        &["train", "--dataset", "gz.csv"],
        1,
        &["gzip-compressed", "gunzip"],
    ),
    case(
        "gzip IDX file",
        &["train", "--dataset", "gz-images-idx3-ubyte"],
        1,
        &["gzip-compressed"],
    ),
    case(
        "invalid utf-8 names the byte",
        &["train", "--dataset", "latin1.csv"],
        1,
        &["not a text file in UTF-8", "byte 0xe9", "iconv"],
    ),
    // LIBSVM indices.
    case(
        "huge sparse index",
        &["train", "--dataset", "huge-index.svm"],
        1,
        &[
            "index 4000000000 is larger than 254",
            "the most inputs a zo device takes",
        ],
    ),
    case(
        "huge sparse index for baseline",
        &["baseline", "--dataset", "huge-index.svm"],
        1,
        &["index 4000000000 is larger than 254"],
    ),
    case(
        "huge sparse index for infer",
        &[
            "infer",
            "--weights",
            "taken.npy",
            "--dataset",
            "huge-index.svm",
        ],
        1,
        &["index 4000000000"],
    ),
    case(
        "sparse index just over the fan-in",
        &["train", "--dataset", "index-255.svm"],
        1,
        &["index 255 is larger than 254"],
    ),
    case(
        "negative sparse index",
        &["train", "--dataset", "neg-index.svm"],
        1,
        &["index `-3` is not an integer >= 1"],
    ),
    // Flags that do not apply to the file's format.
    case(
        "--labels on CSV",
        &["train", "--dataset", "ok.csv", "--labels", "ok.csv"],
        1,
        &[
            "--labels applies to IDX image files",
            "a CSV file",
            "drop --labels",
        ],
    ),
    case(
        "--pool on CSV",
        &["train", "--dataset", "ok.csv", "--pool"],
        1,
        &["--pool applies to IDX image files", "drop --pool"],
    ),
    case(
        "--pool on LIBSVM",
        &["train", "--dataset", "ok.svm", "--pool"],
        1,
        &["--pool applies to IDX", "a LIBSVM file"],
    ),
    case(
        "--header on LIBSVM",
        &["train", "--dataset", "ok.svm", "--header", "yes"],
        1,
        &["--header applies to CSV files", "a LIBSVM file"],
    ),
    case(
        "--label-column on LIBSVM",
        &["train", "--dataset", "ok.svm", "--label-column", "0"],
        1,
        &["--label-column applies to CSV files"],
    ),
    case(
        "--header on IDX",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--header",
            "no",
        ],
        1,
        &["--header applies to CSV files", "an IDX file"],
    ),
    case(
        "--label-column on IDX",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--label-column",
            "last",
        ],
        1,
        &["--label-column applies to CSV files"],
    ),
    case(
        "--pool on CSV for baseline",
        &["baseline", "--dataset", "ok.csv", "--pool"],
        1,
        &["--pool applies to IDX"],
    ),
    case(
        "--labels on CSV for infer",
        &[
            "infer",
            "--weights",
            "taken.npy",
            "--dataset",
            "ok.csv",
            "--labels",
            "x",
        ],
        1,
        &["--labels applies to IDX"],
    ),
    // CSV headers.
    case(
        "duplicate header names",
        &["train", "--dataset", "dup-header.csv"],
        1,
        &["names column `a` twice", "columns 0 and 2", "distinct name"],
    ),
    case(
        "duplicate label column name",
        &[
            "train",
            "--dataset",
            "dup-label-name.csv",
            "--label-column",
            "label",
        ],
        1,
        &["names column `label` twice"],
    ),
    // IDX files.
    case(
        "float IDX",
        &["train", "--dataset", "float-images-idx3-ubyte"],
        1,
        &["element type 0x0d is not unsigned bytes"],
    ),
    case(
        "IDX label file with a bad magic names the label file",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--labels",
            "bad-magic-labels",
        ],
        1,
        &["bad-magic-labels", "label file", "magic number"],
    ),
    case(
        "IDX label count names the label file",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--labels",
            "three-labels",
        ],
        1,
        &["three-labels", "3 labels for the 2 images"],
    ),
    case(
        "IDX label file cut short names the label file",
        &[
            "train",
            "--dataset",
            "two-images-idx3-ubyte",
            "--labels",
            "cut-labels",
        ],
        1,
        &["cut-labels", "announces 5 bytes"],
    ),
    case(
        "IDX pooling of odd images",
        &["train", "--dataset", "odd-images-idx3-ubyte", "--pool"],
        1,
        &["3x3 images cannot be pooled", "drop --pool"],
    ),
    // Shapes the hints suggest must be accepted.
    case(
        "hint keeps within 8192 weights",
        &["train", "--dataset", "digits", "--shape", "16-200-10"],
        1,
        &["pass --shape 64-109-10"],
    ),
    case(
        "no shape fits 300 features",
        &["train", "--dataset", "wide.csv"],
        1,
        &["no zo network takes 300 inputs", "at most 254 units"],
    ),
    case(
        "no shape fits 300 features for baseline",
        &["baseline", "--dataset", "wide.csv"],
        1,
        &["no zo network takes 300 inputs"],
    ),
    // Mini-batches and the buffer.
    case(
        "batch over the buffer",
        &["train", "--batch", "3000"],
        1,
        &[
            "--batch 3000 is larger than the device's sample buffer (2048 samples)",
            "--batch 2048 or less",
        ],
    ),
    case(
        "batch over a small buffer",
        &["train", "--capacity", "16", "--batch", "32"],
        1,
        &["(16 samples)", "--capacity 32"],
    ),
    // Weight files.
    case(
        "pull over an existing file",
        &["weights", "pull", "taken.npy"],
        1,
        &["taken.npy already exists", "--force"],
    ),
    case(
        "pull over an existing sidecar",
        &["weights", "pull", "side.npy"],
        1,
        &["side.json already exists", "--force"],
    ),
    case(
        "pull into a run directory",
        &["weights", "pull", "fakerun/weights.npy"],
        1,
        &["inside the run directory fakerun", "outside it"],
    ),
    case(
        "pull into a run directory with --force",
        &["weights", "pull", "fakerun/weights.npy", "--force"],
        1,
        &["inside the run directory"],
    ),
    case(
        "pull into a partial run directory",
        &["weights", "pull", ".stale.partial/w.npy", "--force"],
        1,
        &["inside the run directory"],
    ),
    case(
        "pull into a missing directory",
        &["weights", "pull", "no/such/dir/w.npy"],
        1,
        &["directory no/such/dir does not exist"],
    ),
    case(
        "pull onto a directory",
        &["weights", "pull", "dir.npy"],
        1,
        &["dir.npy is a directory"],
    ),
    case(
        "push with a sidecar of other weights",
        &["weights", "push", "mismatch.npy"],
        1,
        &["does not hold the weights its sidecar", "mismatch.json"],
    ),
    case(
        "infer with a sidecar of other weights",
        &["infer", "--weights", "mismatch.npy", "--dataset", "iris"],
        1,
        &["does not hold the weights its sidecar"],
    ),
    case(
        "infer with weights of other features",
        &["infer", "--weights", "four.npy", "--dataset", "wine"],
        1,
        &[
            "trained on 4 features but `wine` has 13",
            "pass the dataset the weights were trained on",
        ],
    ),
    // Resume.
    case(
        "resume a run that does not exist",
        &["train", "--resume", "nothing-here"],
        1,
        &["no such run directory"],
    ),
    case(
        "resume a run without epochs",
        &["train", "--resume", "fakerun"],
        1,
        &["--resume fakerun: config.json is not valid"],
    ),
];

fn check(dir: &TempDir, c: &Case, args: &[String], o: &std::process::Output) {
    if let Err(e) = try_check(dir, c, args, o) {
        panic!("{e}");
    }
}

fn try_check(
    dir: &TempDir,
    c: &Case,
    args: &[String],
    o: &std::process::Output,
) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_inner(dir, c, args, o)
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn check_inner(dir: &TempDir, c: &Case, args: &[String], o: &std::process::Output) {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        o.status.code(),
        Some(c.code),
        "{}: exit code; stderr: {err}",
        c.name
    );
    assert!(!err.contains("panicked"), "{}: panic: {err}", c.name);
    assert_eq!(lines.len(), 1, "{}: not one line: {err:?}", c.name);
    assert!(lines[0].starts_with("error: "), "{}: {err}", c.name);
    for f in c.fragments {
        assert!(
            lines[0].contains(f),
            "{}: `{f}` missing from: {}",
            c.name,
            lines[0]
        );
    }
    assert!(
        !dir.join("runs").exists(),
        "{}: left a runs directory (zo {})",
        c.name,
        args.join(" ")
    );
    for e in entries(dir.path()) {
        assert!(
            e == ".stale.partial"
                || !e.ends_with(".partial")
                    && !e.ends_with(".lock")
                    && !e.ends_with(".part")
                    && !e.starts_with("w."),
            "{}: left {e}",
            c.name
        );
    }
}

fn args_for(c: &Case, dir: &Path) -> Vec<String> {
    c.args
        .iter()
        .map(|a| a.replace("{dir}", &dir.display().to_string()))
        .collect()
}

#[test]
fn bad_inputs_give_one_line_errors_and_leave_nothing_behind() {
    assert!(CASES.len() >= 120, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for c in CASES {
        let dir = TempDir::new("bad");
        fixtures(&dir);
        let args = args_for(c, dir.path());
        let o = zo()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("zo runs");
        if let Err(e) = try_check(&dir, c, &args, &o) {
            failures.push(e);
        }
        if c.name == "output exists" && !entries(&dir.join("exists")).is_empty() {
            failures.push("output exists: touched the existing directory".into());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn silent_busy_and_finished_devices_and_runs() {
    let dir = TempDir::new("bad-device");
    fixtures(&dir);
    // A port nobody answers on: the master side of a PTY pair that the test holds.
    let (_master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let path = slave.name().unwrap();
    let silent = Case {
        name: "silent device",
        args: &[],
        code: 1,
        fragments: &["did not answer", "check the cable, the baud rate"],
    };
    let args: Vec<String> = ["train", "--port", &path]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let o = zo().args(&args).current_dir(dir.path()).output().unwrap();
    check(&dir, &silent, &args, &o);
    // A port another program holds (serialport takes an exclusive lock).
    let held = serialport::new(&path, 115_200)
        .open()
        .expect("open the pty");
    let busy = Case {
        name: "busy port",
        args: &[],
        code: 1,
        fragments: &["is busy", "close that program"],
    };
    let args: Vec<String> = ["info", "--port", &path]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let o = zo().args(&args).current_dir(dir.path()).output().unwrap();
    check(&dir, &busy, &args, &o);
    drop(held);
    drop(slave);
    // Resuming a finished run without more epochs.
    ok_in(
        dir.path(),
        &[
            "train", "--shape", "4-4-3", "--epochs", "2", "--out", "done",
        ],
    );
    let o = run_in(dir.path(), &["train", "--resume", "done"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already has 2 epochs; pass --epochs N with N > 2"),
        "{}",
        stderr(&o)
    );
    // Resuming on a device of another shape.
    let o = run_in(
        dir.path(),
        &[
            "train", "--resume", "done", "--epochs", "3", "--shape", "4-5-3",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("trained a 4-4-3 network but the device is 4-5-3"),
        "{}",
        stderr(&o)
    );
    // Neither attempt touched the run.
    assert_eq!(
        entries(dir.path())
            .iter()
            .filter(|e| e.contains("done"))
            .count(),
        1
    );
}
