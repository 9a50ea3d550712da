#!/usr/bin/env python3
"""The built-in datasets against scikit-learn's MLP, on exactly the rows `zo train` uses.

    cargo build --release -p zo-host --example export_split
    bench/.venv/bin/python bench/builtins.py --zo target/release/zo \
        --export target/release/examples/export_split --seeds 1,2,3,4,5 \
        --variant "default=" --variant "wp=--estimator wp" --variant "mse=--loss mse" \
        --out bench/data/builtins.json

Per built-in and seed: the export example writes the run's stratified 70/30 split (raw
feature values); bench/sklearn_reference.py's protocol (MLP with the same hidden size,
standard scaling, the better of two learning rates on a validation slice of the training
rows) is fitted on its training rows and scored on its test rows, with that seed; each
variant runs `zo train --dataset NAME --seed SEED` plus its flags. Reported per variant: mean
test accuracy, the gap to the MLP (mean over the same seeds), the lowest training accuracy
against chance, and the epochs the device trained until its test accuracy first reached 95 %
of the same seed's MLP accuracy (from the run's epochs.jsonl; tuning trials on the model are
not device epochs and are reported as seconds instead).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sklearn_reference  # noqa: E402
from zo_runner import zo_train  # noqa: E402

BUILTINS = {"iris": 3, "wine": 3, "breast-cancer": 2, "digits": 10}


def zo_run(zo, name, seed, extra, target):
    s = zo_train(zo, ["--dataset", name], seed, extra)
    s["epochs_to_target"] = next(
        (e + 1 for e, acc in enumerate(s["test_accuracy_by_epoch"]) if acc >= target), None)
    return s


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zo", required=True)
    ap.add_argument("--export", required=True, help="the export_split example binary")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--only")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=FLAGS: zo train flags of one column (repeatable)")
    ap.add_argument("--out")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    variants = [(v.split("=", 1)[0], v.split("=", 1)[1].split()) for v in a.variant or ["default="]]
    rows = []
    with tempfile.TemporaryDirectory() as splits:
        for name, n_classes in BUILTINS.items():
            if a.only and name not in a.only.split(","):
                continue
            row = {"name": name, "n_classes": n_classes, "seeds": seeds, "mlp": [], "variants": {}}
            for s in seeds:
                subprocess.run([a.export, name, str(s), splits], check=True)
                train = os.path.join(splits, f"{name}.s{s}.train.csv")
                test = os.path.join(splits, f"{name}.s{s}.test.csv")
                ref = sklearn_reference.run_dataset(train, test, a.hidden, [s])
                row["mlp"].append(ref["mlp"]["per_seed"][0])
            for vname, flags in variants:
                runs = []
                for s, ref in zip(seeds, row["mlp"]):
                    runs.append(zo_run(a.zo, name, s, flags, 0.95 * ref["test_accuracy"]))
                row["variants"][vname] = {"flags": " ".join(flags), "runs": runs}
            mlp = mean([r["test_accuracy"] for r in row["mlp"]])
            row["mlp_test_accuracy"] = mlp
            for vname, v in row["variants"].items():
                accs = [r["test_accuracy"] for r in v["runs"]]
                reach = [r["epochs_to_target"] for r in v["runs"]]
                v["test_accuracy"] = mean(accs)
                v["test_accuracy_std"] = statistics.pstdev(accs)
                v["gap_pp"] = 100.0 * (mean(accs) - mlp)
                v["min_train_accuracy"] = min(r["train_accuracy"] for r in v["runs"])
                v["above_chance"] = min(accs) > 1.0 / n_classes
                v["epochs_to_95pct_mlp"] = (mean([x for x in reach if x is not None])
                                             if any(x is not None for x in reach) else None)
                v["seeds_reaching"] = sum(x is not None for x in reach)
                v["seconds_per_run"] = mean([r["process_seconds"] for r in v["runs"]])
                print(f"{name} {vname}: zo {v['test_accuracy']:.3f} mlp {mlp:.3f} "
                      f"gap {v['gap_pp']:+.1f} pp", file=sys.stderr, flush=True)
            rows.append(row)
    summary = {"seeds": seeds, "hidden": a.hidden, "command": " ".join(sys.argv), "rows": rows}
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(a.out + ".tmp", a.out)
    names = [v for v, _ in variants]
    print("| dataset | MLP(32) | " + " | ".join(f"{v} test | gap (pp) | epochs to 95 % | s/run"
                                           for v in names) + " |")
    print("|---|---|" + "---|---|---|---|" * len(names))
    for r in rows:
        cells = []
        for v in names:
            x = r["variants"][v]
            e = x["epochs_to_95pct_mlp"]
            cells.append(f"{x['test_accuracy']:.3f} ± {x['test_accuracy_std']:.3f} | {x['gap_pp']:+.1f} | "
                         f"{'-' if e is None else f'{e:.1f}'} ({x['seeds_reaching']}/{len(seeds)}) | "
                         f"{x['seconds_per_run']:.1f}")
        print(f"| {r['name']} | {r['mlp_test_accuracy']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
