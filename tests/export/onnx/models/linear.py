"""Linear models of the ONNX differential test (see README.md)."""

from __future__ import annotations

import sklearn
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC, LinearSVR

VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])

MODELS: list[tuple[str, object, str]] = [
    ("logreg-binary", LogisticRegression(), "binary"),
    ("logreg-multinomial", LogisticRegression(max_iter=500), "multiclass"),
    ("logreg-strings", LogisticRegression(max_iter=500), "strings"),
    ("logreg-liblinear-binary", LogisticRegression(solver="liblinear"), "binary"),
    ("linreg", LinearRegression(), "regression"),
    ("ridge", Ridge(alpha=0.5), "regression"),
    ("lasso", Lasso(alpha=0.05), "regression"),
    ("elasticnet", ElasticNet(alpha=0.05, l1_ratio=0.3), "regression"),
    ("sgd-hinge", SGDClassifier(random_state=0), "multiclass"),
    ("sgd-log", SGDClassifier(loss="log_loss", random_state=0), "multiclass"),
    ("sgd-modhuber-binary", SGDClassifier(loss="modified_huber", random_state=0), "binary"),
    ("sgd-regressor", SGDRegressor(random_state=0), "regression"),
    ("linearsvc-binary", LinearSVC(random_state=0), "binary"),
    ("linearsvc-multiclass", LinearSVC(random_state=0), "multiclass"),
    ("linearsvr", LinearSVR(random_state=0, max_iter=5000), "regression"),
]

if VERSION < (1, 8):
    # multi_class was removed in 1.8: OvR multiclass and the binary multinomial case
    # (softmax([-d, d]) = sigmoid(2d)) only exist in older pickles.
    MODELS += [
        ("logreg-ovr", LogisticRegression(multi_class="ovr", max_iter=500), "multiclass"),
        (
            "logreg-binary-multinomial",
            LogisticRegression(multi_class="multinomial"),
            "binary",
        ),
    ]
