"""Estimators of mlkit 2.0.0. Scaler was renamed to StandardScaler."""

__all__ = ["StandardScaler", "Pipeline", "make_default"]


class StandardScaler:
    """Standardises columns: (x - mean_) / scale_. Was mlkit.models.Scaler in 1.x."""

    def __init__(self, with_mean=True):
        self.with_mean = with_mean

    def fit(self, X):
        import numpy as np

        X = np.asarray(X, dtype=float)
        self.mean_ = X.mean(axis=0) if self.with_mean else np.zeros(X.shape[1])
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        return self

    def transform(self, X):
        return (X - self.mean_) / self.scale_


class Pipeline:
    """A list of (name, step) pairs applied in order."""

    def __init__(self, steps):
        self.steps = list(steps)

    def transform(self, X):
        for _, step in self.steps:
            X = step.transform(X)
        return X


def make_default():
    from .layers import Dense

    return Pipeline([("scale", StandardScaler()), ("dense", Dense(3, 2))])
