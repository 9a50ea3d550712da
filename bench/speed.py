#!/usr/bin/env python3
"""Speed and energy to accuracy on digits, per board, against scikit-learn's MLP on a CPU core.

    cargo build --release -p zo-host --bin zo --example export_split --example board_data
    bench/.venv/bin/python bench/speed.py --zo target/release/zo \
        --export target/release/examples/export_split \
        --boards target/release/examples/board_data --seeds 1,2,3,4,5 \
        --out docs/speed.json --doc docs/BENCHMARKS.md

`--doc` replaces this benchmark's section of the file (between its markers, which
`cargo run --release -p zo-host --example bench` keeps when it rewrites the rest).

Per seed: the export example writes the rows `zo train --dataset digits --seed S` uses; the
reference is bench/sklearn_reference.py's MLP (hidden 32, standard scaling, the better of two
learning rates on a validation slice of the training rows), and its test accuracy is the
target's base: the target is 95 % of it. Then, per board (data from the board_data example,
i.e. hdl/src/board/top.rs), `zo train --dataset digits --seed S` runs on a virtual board built
like that board's default build (its sample capacity, without mini-batch accumulators or the
exact output layer where the build lacks them), so the estimator, the chunking and the link
traffic are the board's. Its time to the target is, summed over the epochs up to the first
whose test accuracy reaches the target:
  * device cycles (training and evaluation jobs, from STATUS) at the board's fabric clock;
  * the link's wire bytes (samples, weights, commands, responses; `link_bytes` of
    epochs.jsonl) at the board's baud, 10 bits a byte;
  * one STATUS exchange per job (`jobs`), the least a host needs to see a job end; the polls
    while a job runs overlap the device's work and are not counted.
The host's own computing time is not counted (it is the same host for every board).

Learner throughput per board: samples/s = clock / cycles per training sample, against the
physical limit = hard multipliers x clock / (3 W) (every multiplier busy every cycle; a
training sample needs 3 W multiplies: two perturbed forward passes and the update sweep).

Energy is an ESTIMATE, not a measurement: the FPGA core's power from the model below times the
time to the target; the CPU's is the reference's CPU time to the target (training epochs and
their evaluation, one thread) times a stated per-core power (or RAPL where the machine exposes
it, which this one does not).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sklearn_reference  # noqa: E402
from zo_runner import zo_train  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

DATASET = "digits"
TARGET = 0.95

# iCE40UP5K core power, from the measurements of tinyvision-ai-inc/ice40_power (README table:
# Joulescope JS110 on each rail of a Lattice iCE40UP5K breakout, core rail 1.219 V):
#  * 92.1 uA with the clock halted (24-bit counter, 28 LCs): the static floor;
#  * HFOSC 6 / 12 / 24 / 48 MHz with that counter: 388.4 / 645 / 1162 / 2184 uA, a slope of
#    about 43 uA per MHz, the clock network and oscillator with almost no logic;
#  * at 12 MHz, counters of 32 and 228 LCs: 613.5 and 641.3 uA, 0.0118 uA per LC per MHz for
#    logic that rarely toggles; a multiplier in 180 LCs toggling every cycle: 996 - 645 uA,
#    0.163 uA per LC per MHz.
# The model: I = 92.1 + 43 f + k LC f (f in MHz), with k between those two activities, so the
# estimate is a range. Block RAM, SPRAM and DSP power are not in the measurements.
ICE40_CORE_V = 1.219
ICE40_STATIC_UA = 92.1
ICE40_CLOCK_UA_PER_MHZ = (2184 - 388.4) / (48 - 6)
ICE40_LC_UA_PER_MHZ = (0.0118, 0.163)
# Logic cells of the default builds (docs/BOARDS.md, from tests/synthesis.rs). The HX8K is an
# iCE40 of another process corner (higher leakage); the UP5K's figures are applied to it as an
# extrapolation. No measured ECP5 figure was found in the sources this project could consult
# (Lattice's power calculator is not open): its energy is not estimated.
LOGIC_CELLS = {"icebreaker": 5220, "alchitry-cu": 7231}


def ice40_power_w(board, lc_rate):
    lc = LOGIC_CELLS.get(board["name"])
    if board["family"] != "ice40" or lc is None:
        return None
    f = board["fabric_hz"] / 1e6
    ua = ICE40_STATIC_UA + ICE40_CLOCK_UA_PER_MHZ * f + lc_rate * lc * f
    return ICE40_CORE_V * ua * 1e-6


def rapl_joules():
    """Package energy counter in joules, or None where the machine has no RAPL."""
    path = "/sys/class/powercap/intel-rapl:0/energy_uj"
    try:
        with open(path) as f:
            return int(f.read()) / 1e6
    except OSError:
        return None


def sklearn_to_target(train, test, lr, seed, target, max_epochs=500, repeats=3):
    """Fastest of `repeats` runs: CPU seconds of this process (one thread; unlike wall time,
    not inflated by other work on the machine) until the test accuracy first reaches `target`
    (scaling, training epochs and their evaluation), the epochs, and the RAPL joules if any."""
    Xtr, ytr = sklearn_reference.load(train)
    Xte, yte = sklearn_reference.load(test)
    classes = np.unique(ytr)
    best = None
    for _ in range(repeats):
        j0 = rapl_joules()
        t0 = time.process_time()
        sc = StandardScaler().fit(Xtr)
        a, b = sc.transform(Xtr), sc.transform(Xte)
        m = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=lr, random_state=seed)
        reached = None
        for e in range(1, max_epochs + 1):
            m.partial_fit(a, ytr, classes=classes)
            if m.score(b, yte) >= target:
                reached = e
                break
        wall = time.process_time() - t0
        j1 = rapl_joules()
        run = {"seconds": wall, "epochs": reached,
               "rapl_joules": None if j0 is None or j1 is None else j1 - j0}
        if best is None or run["seconds"] < best["seconds"]:
            best = run
    return best


def board_flags(b):
    flags = ["--capacity", str(b["capacity"])]
    if not b["batch_accumulators"]:
        flags.append("--no-batch")
    if not b["exact_output"]:
        flags.append("--no-hybrid")
    return flags


def to_target(summary, b, status_bytes, target):
    """Seconds on board `b` until the run's test accuracy first reached `target` (None if it
    never did), with its parts."""
    dev = link = 0.0
    for i, r in enumerate(summary["epoch_records"]):
        dev += r["device_cycles"] / b["fabric_hz"]
        link += (r["link_bytes"] + r["jobs"] * status_bytes) * 10 / b["baud"]
        if r["test_accuracy"] >= target:
            return {"epochs": i + 1, "device_s": dev, "link_s": link, "seconds": dev + link}
    return None


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zo", required=True)
    ap.add_argument("--export", required=True, help="the export_split example binary")
    ap.add_argument("--boards", required=True, help="the board_data example binary")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--cpu-watts", type=float, default=10.0,
                    help="power of one busy CPU core when there is no RAPL counter (assumed)")
    ap.add_argument("--out")
    ap.add_argument("--doc", help="docs/BENCHMARKS.md: replace its bench/speed.py section")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    data = json.loads(subprocess.run([a.boards], check=True, capture_output=True,
                                     text=True).stdout)
    boards, status_bytes = data["boards"], data["status_exchange_wire_bytes"]
    t_all = time.time()
    per_seed = []
    with tempfile.TemporaryDirectory() as splits:
        for s in seeds:
            subprocess.run([a.export, DATASET, str(s), splits], check=True)
            train = os.path.join(splits, f"{DATASET}.s{s}.train.csv")
            test = os.path.join(splits, f"{DATASET}.s{s}.test.csv")
            ref = sklearn_reference.run_dataset(train, test, 32, [s])["mlp"]["per_seed"][0]
            target = TARGET * ref["test_accuracy"]
            cpu = sklearn_to_target(train, test, ref["chosen_lr"], s, target)
            row = {"seed": s, "mlp_test_accuracy": ref["test_accuracy"], "target": target,
                   "cpu": cpu, "boards": {}}
            for b in boards:
                run = zo_train(a.zo, ["--dataset", DATASET], s, board_flags(b), records=True)
                out_n = (run["n_train"], run["n_test"])
                row["boards"][b["name"]] = {
                    "estimator": run["estimator"], "test_accuracy": run["test_accuracy"],
                    "epochs": run["epochs"], "cycles_per_sample": run["cycles_per_sample"],
                    "to_target": to_target(run, b, status_bytes, target),
                    "link_bytes_per_epoch": mean([r["link_bytes"] for r in run["epoch_records"]]),
                }
                print(f"seed {s} {b['name']}: {row['boards'][b['name']]['to_target']}",
                      file=sys.stderr, flush=True)
            per_seed.append(row)
    n_train, n_test = out_n

    lines = []
    out = {"command": " ".join(sys.argv), "dataset": DATASET, "seeds": seeds,
           "n_train": n_train, "n_test": n_test,
           "status_exchange_wire_bytes": status_bytes, "cpu_watts_assumed": a.cpu_watts,
           "per_seed": per_seed, "boards": {}}
    lines.append("| board | clock | estimator | cycles/sample | samples/s | hard multipliers | "
                 "all-multiplier limit samples/s | ratio |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for b in boards:
        runs = [r["boards"][b["name"]] for r in per_seed]
        cps = mean([r["cycles_per_sample"] for r in runs])
        sps = b["fabric_hz"] / cps
        mults = b["hard_multipliers"]
        limit = mults * b["fabric_hz"] / (3 * b["n_weights"]) if mults else None
        out["boards"][b["name"]] = {"samples_per_s": sps, "limit_samples_per_s": limit,
                                    "ratio": None if limit is None else sps / limit}
        lines.append(f"| {b['name']} | {b['fabric_hz'] / 1e6:g} MHz | {runs[0]['estimator']} | "
                     f"{cps:.0f} | {sps:.0f} | {mults} | "
                     f"{'-' if limit is None else f'{limit:.0f}'} | "
                     f"{'- (no hard multipliers)' if limit is None else f'{sps / limit:.3f}'} |")
    lines.append("")
    cpu_s = mean([r["cpu"]["seconds"] for r in per_seed if r["cpu"]["epochs"]])
    cpu_j = [r["cpu"]["rapl_joules"] for r in per_seed if r["cpu"]["rapl_joules"] is not None]
    cpu_energy = mean(cpu_j) if cpu_j else cpu_s * a.cpu_watts
    out["cpu"] = {"seconds": cpu_s, "joules": cpu_energy, "rapl": bool(cpu_j),
                  "epochs": mean([r["cpu"]["epochs"] for r in per_seed if r["cpu"]["epochs"]])}
    lines.append("| board | estimator | seeds reaching | epochs | device s | link s | time to target s "
                 "| link bytes / epoch | core power W (estimate) | energy J (estimate) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for b in boards:
        runs = [r["boards"][b["name"]] for r in per_seed]
        hits = [r["to_target"] for r in runs if r["to_target"]]
        t = mean([h["seconds"] for h in hits])
        lo, hi = (ice40_power_w(b, k) for k in ICE40_LC_UA_PER_MHZ)
        power = "-" if lo is None else f"{lo:.4f} to {hi:.4f}"
        energy = "-" if lo is None or not hits else f"{lo * t:.3f} to {hi * t:.3f}"
        out["boards"][b["name"]].update({
            "seeds_reaching": len(hits), "seconds_to_target": t if hits else None,
            "device_s": mean([h["device_s"] for h in hits]) if hits else None,
            "link_s": mean([h["link_s"] for h in hits]) if hits else None,
            "power_w": None if lo is None else [lo, hi],
            "joules": None if lo is None or not hits else [lo * t, hi * t]})
        lines.append(
            f"| {b['name']} | {runs[0]['estimator']} | {len(hits)}/{len(runs)} | "
            f"{mean([h['epochs'] for h in hits]):.1f} | {mean([h['device_s'] for h in hits]):.3f} | "
            f"{mean([h['link_s'] for h in hits]):.3f} | **{t:.2f}** | "
            f"{mean([r['link_bytes_per_epoch'] for r in runs]):.0f} | {power} | {energy} |")
    lines.append(
        f"| CPU (scikit-learn MLP, 1 thread) | backprop (adam) | "
        f"{sum(1 for r in per_seed if r['cpu']['epochs'])}/{len(per_seed)} | "
        f"{out['cpu']['epochs']:.1f} | - | - | **{cpu_s:.4f}** | - | "
        f"{'RAPL' if cpu_j else f'{a.cpu_watts:g} (assumed)'} | {cpu_energy:.3f} |")
    out["table"] = "\n".join(lines)
    out["wall_s"] = time.time() - t_all
    if a.out:
        write_atomically(a.out, json.dumps(out, indent=1) + "\n")
    if a.doc:
        write_section(a.doc, section(out, boards, a))
    print(out["table"])


BEGIN, END = "<!-- bench/speed.py: begin -->", "<!-- bench/speed.py: end -->"


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)


def write_section(path, text):
    with open(path) as f:
        doc = f.read()
    a, b = doc.find(BEGIN), doc.find(END)
    if a < 0 or b < a:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} section; run "
                         "`cargo run --release -p zo-host --example bench` once to make it")
    write_atomically(path, doc[:a] + BEGIN + "\n" + text + END + doc[b + len(END):])


def residency(out, boards):
    """What of digits stays in each board's buffer, and what the host sends every epoch."""
    run = out["per_seed"][0]["boards"]
    n_train, n_test = out["n_train"], out["n_test"]
    parts = []
    for b in boards:
        c = b["capacity"]
        if n_train + n_test <= c:
            what = "training and test rows resident"
        elif n_train <= c:
            what = "training rows resident, test rows sent in chunks to each evaluation"
        else:
            what = "neither set fits"
        parts.append(f"{b['name']} ({c} slots): {what}, "
                     f"{run[b['name']]['link_bytes_per_epoch'] / 1e3:.0f} kB an epoch")
    return (f"digits has {n_train} training and {n_test} test rows; " + "; ".join(parts) +
            ". The training rows are sent again every epoch on every board, in the epoch's "
            "shuffled order (the device trains its slots in order), which is most of each "
            "epoch's traffic: the link, not the learner, sets the time.")


def section(out, boards, a):
    cmd = ("cargo build --release -p zo-host --bin zo --example export_split --example board_data; "
           "bench/.venv/bin/python " + " ".join(os.path.relpath(x) if os.path.exists(x) else x
                                                for x in sys.argv))
    date = time.strftime("%Y-%m-%d", time.gmtime())
    seeds = ",".join(str(s) for s in out["seeds"])
    return f"""## 1. Time and energy to accuracy per board

Digits, `zo train --dataset digits --seed S` (seeds {seeds}) on a virtual board built like each
board's default build (its sample capacity; no mini-batch accumulators or exact output layer
where the build has none, so the iCE40 boards train with node perturbation and the ULX3S with
the hybrid estimator), against scikit-learn's `MLPClassifier(hidden_layer_sizes=(32,))` on the
same rows (standard scaling, the better of two learning rates on a validation slice of the
training rows). Target: 95 % of the same seed's MLP test accuracy; time to target = the
device's cycles at the board's clock + the link's wire bytes at its baud (10 bits a byte) + one
STATUS exchange ({out["status_exchange_wire_bytes"]} wire bytes) per job, summed over the epochs
up to the first that reaches the target (bench/speed.py's docstring has the details). Command
({date}, {out["wall_s"]:.0f} s on 2 cores shared with other work): `{cmd}`; raw figures in
docs/speed.json.

{out["table"]}

Learner speed: every build has one multiplier at work (the learner's); the ratio is its
samples/s against all the FPGA's hard multipliers busy every cycle at the same clock
(`hard_multipliers` x clock / 3W). Where the link time goes: {residency(out, boards)}

Energy is an **estimate**. FPGA core: `I = 92.1 uA + 43 uA/MHz x f + k x LC x f` at 1.219 V,
fitted to the measured iCE40UP5K currents of tinyvision-ai-inc/ice40_power (core rail,
Joulescope JS110: clock halted 92.1 uA; HFOSC 6/12/24/48 MHz 388.4/645/1162/2184 uA; logic that
rarely toggles 0.0118 uA per LC per MHz, a multiplier toggling every cycle 0.163), with k
between those two, hence a range; block RAM, SPRAM and DSP power are not in it, and the board
(USB bridge, regulators, LEDs) is not counted. Logic cells from docs/BOARDS.md. The Alchitry
Cu's HX8K gets the UP5K's coefficients as an extrapolation (its leakage is higher). No
measured ECP5 figure was found in the sources available to the project, so the ULX3S has
none. CPU: the MLP's CPU time to the target (scaling, epochs of `partial_fit` and their
evaluation, one thread, process CPU time, fastest of 3) times {out["cpu_watts_assumed"]:g} W per busy core,
an assumption (this machine exposes no RAPL counter).
"""


if __name__ == "__main__":
    main()
