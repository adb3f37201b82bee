"""Nearest neighbours of the ONNX differential test (see README.md)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

MODELS: list[tuple[str, object, str]] = [
    ("knn-uniform", KNeighborsClassifier(n_neighbors=5), "multiclass"),
    ("knn-distance", KNeighborsClassifier(n_neighbors=4, weights="distance"), "binary"),
    ("knn-manhattan-strings", KNeighborsClassifier(n_neighbors=3, p=1), "strings"),
]


def probe_rows(name: str, model: object, x_train: np.ndarray) -> np.ndarray | None:
    """Rows equal to training points (distance exactly 0 to a neighbour)."""
    if not name.startswith("knn"):
        return None
    return x_train[::10].copy()
