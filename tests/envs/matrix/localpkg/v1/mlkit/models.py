"""Estimators of mlkit 1.0.0."""

__all__ = ["Scaler", "Pipeline", "make_default"]


class Scaler:
    """Standardises columns: (x - mean_) / scale_."""

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


def _helper_not_exported():
    return None


def make_default():
    """Factory that pickles by reference as mlkit.models.make_default."""
    from .nn.layers import Dense

    return Pipeline([("scale", Scaler()), ("dense", Dense(3, 2))])
