#!/usr/bin/env python3
"""scikit-learn reference accuracies for the `zo` benchmark datasets.

Single dataset (one JSON object on stdout):
    bench/.venv/bin/python bench/sklearn_reference.py --train T.csv --test T2.csv \
        --hidden 32 --seeds 1,2,3,4,5 --json

Whole manifest (JSON file of results; paths in the manifest are relative to it):
    bench/.venv/bin/python bench/sklearn_reference.py --batch-file bench/data/manifest.json \
        --suite design --hidden 32 --seeds 1,2,3,4,5 --out bench/data/reference_design.json

Protocol (per seed s):
  * model: Pipeline(StandardScaler fitted on the training rows, MLPClassifier(hidden_layer_sizes=(H,),
    learning_rate_init=lr, max_iter=MAX_ITER, random_state=s), every other MLP setting at its default
    (adam, relu, alpha=1e-4, batch_size=min(200, n), tol=1e-4, n_iter_no_change=10, no early stopping);
  * lr is chosen from LRS by a stratified 80/20 validation split of the TRAINING rows (seed s), never
    the test rows; ties go to the smaller lr (sklearn's default 1e-3);
  * the chosen configuration is refitted on all training rows and scored on the test rows.
The reported mlp accuracy is the mean over seeds of those test accuracies (per-seed values included).
Second reference: Pipeline(StandardScaler, LogisticRegression(max_iter=5000), other defaults),
deterministic, fitted once on all training rows.
Features are every column but the last (`label`); labels are read as strings.
"""
import argparse
import json
import os
import sys
import time

# one BLAS/OpenMP thread per process: reproducible timings, and --jobs parallelises instead
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

MAX_ITER = 500
LRS = (1e-3, 1e-2)
VAL_SIZE = 0.2


def load(path):
    df = pd.read_csv(path, dtype={"label": str})
    if df.columns[-1] != "label":
        raise SystemExit(f"{path}: last column must be named 'label'")
    return df.iloc[:, :-1].to_numpy(dtype=float), df["label"].to_numpy()


def mlp(hidden, lr, seed):
    return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(hidden,), learning_rate_init=lr,
                                                         max_iter=MAX_ITER, random_state=seed))


def run_dataset(train_path, test_path, hidden, seeds):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    t_all = time.perf_counter()
    Xtr, ytr = load(train_path)
    Xte, yte = load(test_path)
    per_seed = []
    for s in seeds:
        t0 = time.perf_counter()
        try:
            Xa, Xv, ya, yv = train_test_split(Xtr, ytr, test_size=VAL_SIZE, stratify=ytr, random_state=s)
        except ValueError:  # a class too small to stratify
            Xa, Xv, ya, yv = train_test_split(Xtr, ytr, test_size=VAL_SIZE, random_state=s)
        val = {}
        for lr in LRS:
            val[lr] = float(mlp(hidden, lr, s).fit(Xa, ya).score(Xv, yv))
        best = max(LRS, key=lambda lr: (val[lr], -lr))
        m = mlp(hidden, best, s).fit(Xtr, ytr)
        acc = float(m.score(Xte, yte))
        per_seed.append({
            "seed": s, "test_accuracy": acc, "chosen_lr": best,
            "val_accuracy": {str(lr): v for lr, v in val.items()},
            "n_iter": int(m[-1].n_iter_), "wall_s": time.perf_counter() - t0,
        })
    t0 = time.perf_counter()
    lr_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
    logreg_acc = float(lr_model.score(Xte, yte))
    logreg_wall = time.perf_counter() - t0
    accs = np.array([p["test_accuracy"] for p in per_seed])
    return {
        "train": train_path, "test": test_path,
        "n_train": int(len(ytr)), "n_test": int(len(yte)), "n_features": int(Xtr.shape[1]),
        "n_classes": int(len(np.unique(ytr))),
        "mlp": {
            "hidden": hidden, "max_iter": MAX_ITER, "lr_candidates": list(LRS),
            "lr_selection": f"stratified {int(VAL_SIZE * 100)}% validation split of the training rows, per seed",
            "test_accuracy_mean": float(accs.mean()), "test_accuracy_std": float(accs.std()),
            "seeds": list(seeds), "per_seed": per_seed,
            "wall_s": float(sum(p["wall_s"] for p in per_seed)),
        },
        "logreg": {"test_accuracy": logreg_acc, "wall_s": logreg_wall},
        "wall_s": time.perf_counter() - t_all,
        "sklearn_version": sklearn.__version__,
    }


def _batch_job(args):
    name, train, test, hidden, seeds = args
    r = run_dataset(train, test, hidden, seeds)
    r["name"] = name
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train")
    ap.add_argument("--test")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout (single mode)")
    ap.add_argument("--batch-file", help="manifest.json: run every dataset in it")
    ap.add_argument("--suite", help="batch mode: only datasets of this suite (design, heldout, fashion14)")
    ap.add_argument("--only", help="batch mode: comma-separated dataset names")
    ap.add_argument("--out", help="batch mode: JSON file to write (default: stdout)")
    ap.add_argument("--jobs", type=int, default=1, help="batch mode: datasets run in parallel processes")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",") if s.strip()]

    if a.batch_file:
        with open(a.batch_file) as f:
            man = json.load(f)
        base = os.path.dirname(os.path.abspath(a.batch_file))
        only = set(a.only.split(",")) if a.only else None
        ds = [d for d in man["datasets"] if (a.suite is None or d["suite"] == a.suite)
              and (only is None or d["name"] in only)]
        if not ds:
            raise SystemExit("no dataset matches the filters")
        jobs = [(d["name"], os.path.join(base, d["train"]), os.path.join(base, d["test"]), a.hidden, seeds)
                for d in ds]
        t0 = time.perf_counter()
        if a.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(max_workers=a.jobs) as ex:
                results = list(ex.map(_batch_job, jobs))
        else:
            results = [_batch_job(j) for j in jobs]
        suite_of = {d["name"]: d["suite"] for d in ds}
        for r in results:
            r["suite"] = suite_of[r["name"]]
            r["train"] = os.path.relpath(r["train"], base)
            r["test"] = os.path.relpath(r["test"], base)
            print(f"{r['suite']:8s} {r['name']:16s} done in {r['wall_s']:.1f} s", file=sys.stderr)
        out = {
            "manifest": os.path.abspath(a.batch_file), "suite": a.suite, "hidden": a.hidden, "seeds": seeds,
            "jobs": a.jobs, "total_wall_s": time.perf_counter() - t0, "nproc": os.cpu_count(),
            "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
            "results": results,
        }
        text = json.dumps(out, indent=1)
        if a.out:
            with open(a.out, "w") as f:
                f.write(text + "\n")
            print(f"wrote {a.out} ({len(results)} datasets, {out['total_wall_s']:.1f} s)", file=sys.stderr)
        else:
            print(text)
        return

    if not (a.train and a.test):
        ap.error("--train and --test are required (or use --batch-file)")
    r = run_dataset(a.train, a.test, a.hidden, seeds)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"MLP(H={a.hidden}) test accuracy {r['mlp']['test_accuracy_mean']:.4f} "
              f"+- {r['mlp']['test_accuracy_std']:.4f} over seeds {seeds} "
              f"(per seed {[round(p['test_accuracy'], 4) for p in r['mlp']['per_seed']]}); "
              f"logistic regression {r['logreg']['test_accuracy']:.4f}; wall {r['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
