"""Preprocessing transformers of the ONNX differential test (see README.md)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)

MODELS: list[tuple[str, object, str]] = [
    ("standard-scaler", StandardScaler(), "regression"),
    ("standard-scaler-nomean", StandardScaler(with_mean=False), "regression"),
    ("minmax-scaler", MinMaxScaler(feature_range=(-1, 2)), "regression"),
    ("minmax-scaler-clip", MinMaxScaler(clip=True), "regression"),
    ("maxabs-scaler", MaxAbsScaler(), "regression"),
    ("robust-scaler", RobustScaler(), "regression"),
    ("normalizer-l1", Normalizer(norm="l1"), "regression"),
    ("normalizer-l2", Normalizer(norm="l2"), "regression"),
    # skl2onnx divides by max(x), scikit-learn by max(|x|).
    ("normalizer-max", Normalizer(norm="max"), "regression"),
    ("imputer-mean", SimpleImputer(), "nan-regression"),
    ("imputer-median-indicator", SimpleImputer(strategy="median", add_indicator=True), "nan-regression"),
    ("imputer-constant", SimpleImputer(strategy="constant", fill_value=-3.0), "nan-regression"),
    ("onehot", OneHotEncoder(handle_unknown="ignore"), "counts"),
    ("onehot-drop-first", OneHotEncoder(drop="first"), "counts-known"),
    ("pca", PCA(n_components=3), "regression"),
    ("pca-whiten", PCA(n_components=2, whiten=True), "regression"),
]

# OneHotEncoder's output is dense here; a sparse one is densified by make_models.py.
_ = np
