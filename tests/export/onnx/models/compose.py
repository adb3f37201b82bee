"""Pipelines and ColumnTransformers of the ONNX differential test (see README.md)."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler

MODELS: list[tuple[str, object, str]] = [
    (
        "pipe-scaler-logreg",
        Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=500))]),
        "multiclass",
    ),
    (
        # feature_names_in_ is set after fit (what fitting on a DataFrame pickles: an object
        # array of str), see FEATURE_NAMES.
        "pipe-named-features",
        Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())]),
        "binary",
    ),
    (
        "pipe-imputer-scaler-ridge",
        Pipeline([("imp", SimpleImputer()), ("scaler", StandardScaler()), ("reg", Ridge())]),
        "nan-regression",
    ),
    (
        "pipe-pca-passthrough",
        Pipeline([("pca", PCA(n_components=3)), ("noop", "passthrough"), ("clf", LogisticRegression())]),
        "binary",
    ),
    (
        "coltrans-ints-slice-mask",
        ColumnTransformer(
            [
                ("std", StandardScaler(), [0, 2]),
                ("mm", MinMaxScaler(), slice(1, 3)),
                ("norm", Normalizer(), np.array([True, False, True, True])),
            ],
            remainder="drop",
        ),
        "regression",
    ),
    (
        "coltrans-passthrough",
        ColumnTransformer([("std", StandardScaler(), [1, 3])], remainder="passthrough"),
        "regression",
    ),
    (
        "pipe-coltrans-logreg",
        Pipeline(
            [
                (
                    "prep",
                    ColumnTransformer(
                        [("std", StandardScaler(), [0, 1]), ("skip", "drop", [2])],
                        remainder="passthrough",
                    ),
                ),
                ("clf", LogisticRegression(max_iter=500)),
            ]
        ),
        "strings",
    ),
]

# Models whose first step gets these feature_names_in_ after fitting (make_models.py).
FEATURE_NAMES = {"pipe-named-features": ["alpha", "beta", "gamma", "delta"]}
