#!/usr/bin/env python3
"""Data it was not tuned on: `zo train --dataset TRAIN --test-data TEST` with nothing else,
against scikit-learn's MLPClassifier measured in the same run.

    bench/.venv/bin/python bench/unseen.py --zo target/release/zo --suite heldout \
        --seeds 1,2,3 --out bench/data/unseen_heldout.json

Per dataset: zo's test accuracy (mean over seeds; each seed its own initial weights, noise,
validation slice and tuning), the reference's (bench/sklearn_reference.py: MLP with the same
hidden size, standard scaling, the better of two learning rates chosen on a validation slice
of the training rows, mean over the same seeds), the gap, and whether zo's training accuracy
stayed at chance. Prints a markdown table; writes every number to --out.
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sklearn_reference  # noqa: E402
from zo_runner import zo_train  # noqa: E402


def zo_run(zo, train, test, seed, extra):
    return zo_train(zo, ["--dataset", train, "--test-data", test], seed, extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zo", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--suite", default="heldout")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--only")
    ap.add_argument("--out")
    ap.add_argument("--zo-args", default="", help="extra zo train flags, space-separated")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    manifest = json.load(open(os.path.join(a.data, "manifest.json")))
    rows = []
    for ds in manifest["datasets"]:
        if ds["suite"] != a.suite or (a.only and ds["name"] not in a.only.split(",")):
            continue
        train = os.path.join(a.data, ds["train"])
        test = os.path.join(a.data, ds["test"])
        runs = [zo_run(a.zo, train, test, s, a.zo_args.split()) for s in seeds]
        ref = sklearn_reference.run_dataset(train, test, a.hidden, seeds)
        zo_acc = sum(r["test_accuracy"] for r in runs) / len(runs)
        chance = 1.0 / ds["n_classes"]
        row = {
            "name": ds["name"], "n_features": ds["n_features"], "n_classes": ds["n_classes"],
            "n_train": ds["n_train"], "n_test": ds["n_test"],
            "zo_test_accuracy": zo_acc,
            "zo_train_accuracy": sum(r["train_accuracy"] for r in runs) / len(runs),
            "zo_min_train_accuracy": min(r["train_accuracy"] for r in runs),
            "zo_seconds": sum(r["process_seconds"] for r in runs) / len(runs),
            "mlp_test_accuracy": ref["mlp"]["test_accuracy_mean"],
            "logreg_test_accuracy": ref.get("logreg", {}).get("test_accuracy"),
            "gap_pp": 100.0 * (zo_acc - ref["mlp"]["test_accuracy_mean"]),
            "train_at_chance": min(r["train_accuracy"] for r in runs) <= chance + 0.02,
            "zo_runs": runs,
        }
        rows.append(row)
        print(f"{row['name']}: zo {zo_acc:.3f} mlp {row['mlp_test_accuracy']:.3f} "
              f"gap {row['gap_pp']:+.1f} pp", file=sys.stderr, flush=True)
    gaps = sorted(r["gap_pp"] for r in rows)
    n = len(gaps)
    median = (gaps[n // 2] if n % 2 else (gaps[n // 2 - 1] + gaps[n // 2]) / 2) if n else 0.0
    summary = {"suite": a.suite, "seeds": seeds, "datasets": n, "median_gap_pp": median,
               "worst_gap_pp": gaps[0] if gaps else 0.0,
               "train_at_chance": [r["name"] for r in rows if r["train_at_chance"]],
               "command": " ".join(sys.argv), "rows": rows}
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(a.out + ".tmp", a.out)
    print("| dataset | features | classes | train/test | zo test | MLP(32) test | gap (pp) | zo train | zo s/run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['n_features']} | {r['n_classes']} | {r['n_train']}/{r['n_test']} | "
              f"{r['zo_test_accuracy']:.3f} | {r['mlp_test_accuracy']:.3f} | {r['gap_pp']:+.1f} | "
              f"{r['zo_train_accuracy']:.3f} | {r['zo_seconds']:.1f} |")
    print(f"\nmedian gap {median:+.1f} pp, worst {summary['worst_gap_pp']:+.1f} pp, "
          f"train accuracy at chance: {', '.join(summary['train_at_chance']) or 'none'}")


if __name__ == "__main__":
    main()
