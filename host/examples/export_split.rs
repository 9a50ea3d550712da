//! Writes the training and test rows a `zo train --dataset NAME --seed SEED` run uses (the
//! built-in's stratified split, raw feature values) as two CSV files, so that a reference
//! (bench/builtins.py: scikit-learn) trains and tests on exactly the same rows.
//!
//! `cargo run --release -p zo-host --example export_split -- NAME SEED OUT_DIR`
//! writes `OUT_DIR/NAME.sSEED.train.csv` and `OUT_DIR/NAME.sSEED.test.csv`: a header
//! `f0,...,f{n-1},label`, then one row per sample with the class index last.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zo_host::data::split_rows;
use zo_host::defaults::TEST_FRACTION;
use zo_sim::data::dataset::{builtin, Dataset};

fn write_rows(ds: &Dataset, rows: &[usize], path: &Path) -> std::io::Result<()> {
    // Written beside the target and renamed, so a kill never leaves half a file.
    let tmp = path.with_extension("csv.tmp");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let header: Vec<String> = (0..ds.n_features()).map(|j| format!("f{j}")).collect();
    writeln!(w, "{},label", header.join(","))?;
    for &i in rows {
        let values: Vec<String> = ds.features[i].iter().map(|v| v.to_string()).collect();
        writeln!(w, "{},{}", values.join(","), ds.labels[i])?;
    }
    w.into_inner()?.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn main() -> ExitCode {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [name, seed, out] = &a[..] else {
        eprintln!("usage: export_split NAME SEED OUT_DIR (NAME a built-in dataset)");
        return ExitCode::from(2);
    };
    let Ok(seed) = seed.parse::<u32>() else {
        eprintln!("seed `{seed}` is not a number from 0 to 4294967295");
        return ExitCode::from(2);
    };
    let ds = match builtin(name) {
        Ok(ds) => ds,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (train, test) = split_rows(&ds, TEST_FRACTION, seed);
    let out = PathBuf::from(out);
    for (rows, part) in [(&train, "train"), (&test, "test")] {
        let path = out.join(format!("{name}.s{seed}.{part}.csv"));
        if let Err(e) = write_rows(&ds, rows, &path) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
