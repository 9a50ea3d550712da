"""One `zo train` run for the benchmarks: its JSON summary plus the per-epoch test accuracy."""
import json, os, subprocess, tempfile, time


def zo_train(zo, data_args, seed, extra, records=False):
    """Runs `zo train DATA_ARGS --seed SEED --json EXTRA` into a temporary run directory and
    returns the summary, with `process_seconds` and `test_accuracy_by_epoch` added, and with
    `records` also `epoch_records` (the lines of the run's epochs.jsonl; large, so only for the
    callers that need them)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run")
        cmd = [zo, "train"] + data_args + ["--seed", str(seed), "--json", "--out", out] + extra
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
        s = json.loads(p.stdout.strip().splitlines()[-1])
        s["process_seconds"] = time.time() - t0
        with open(os.path.join(out, "epochs.jsonl")) as f:
            lines = [json.loads(l) for l in f]
        s["test_accuracy_by_epoch"] = [r["test_accuracy"] for r in lines]
        if records:
            s["epoch_records"] = lines
        return s
