#!/usr/bin/env python3
"""Summarise `tune_csv` runs (sim/examples/tune_csv.rs, one JSON line per dataset and seed)
against scikit-learn's MLP measured by bench/sklearn_reference.py on the same suite: per
selection rule (the JSON line's keys R, H{k}, P{k}, X{k}, C{k}), the mean test accuracy over
seeds per dataset, its gap to the MLP's mean in pp, and the mean and worst gap over datasets.

    python3 bench/tune_rules.py --ref bench/data/reference_design.json RUNS.jsonl
"""
import argparse, collections, json, os


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref", required=True)
    ap.add_argument("runs")
    a = ap.parse_args()
    mlp = {r["name"]: r["mlp"]["test_accuracy_mean"] for r in json.load(open(a.ref))["results"]}
    acc = collections.defaultdict(lambda: collections.defaultdict(list))
    secs = collections.defaultdict(list)
    order = []
    for line in open(a.runs):
        if not line.startswith('{"train"'):
            continue
        j = json.loads(line)
        name = os.path.basename(j["train"]).split(".")[0]
        if name not in order:
            order.append(name)
        secs[name].append(j["tune_s"])
        for k, v in j.items():
            if isinstance(v, dict):
                acc[k][name].append(v["test"])
    print("| rule | " + " | ".join(order) + " | mean gap | worst gap |")
    print("|---|" + "---|" * (len(order) + 2))
    print("| MLP(32) | " + " | ".join(f"{mlp[n]:.3f}" for n in order) + " | | |")
    for rule, d in acc.items():
        gaps = [100 * (sum(d[n]) / len(d[n]) - mlp[n]) for n in order]
        cells = [f"{sum(d[n]) / len(d[n]):.3f} ({g:+.1f})" for n, g in zip(order, gaps)]
        print(f"| {rule} | " + " | ".join(cells) + f" | {sum(gaps) / len(gaps):+.2f} | {min(gaps):+.1f} |")
    print("\ntuning seconds (mean over seeds): " +
          ", ".join(f"{n} {sum(secs[n]) / len(secs[n]):.0f}" for n in order))


if __name__ == "__main__":
    main()
