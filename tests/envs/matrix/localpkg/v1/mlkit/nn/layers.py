"""Layers of mlkit 1.0.0."""


class Dense:
    """A dense layer: weights (n_in, n_out) and bias (n_out,), numpy arrays once built."""

    def __init__(self, n_in, n_out, seed=0):
        import numpy as np

        rng = np.random.RandomState(seed)
        self.n_in = n_in
        self.n_out = n_out
        self.weights = rng.standard_normal((n_in, n_out))
        self.bias = np.zeros(n_out)

    def transform(self, X):
        return X @ self.weights + self.bias
