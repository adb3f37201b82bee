"""The training script's classes after they moved into an importable module.

tests/matrix/write_fixtures.py defines these in `__main__`, so its pickles name
`__main__.Point` and friends. A user who moves them into a module repairs those pickles
with `pickle-doctor fix --map __main__=trainmodels`; crates/cli/tests/fix_matrix.rs does
exactly that and loads the result. The definitions must stay identical to the writer's.
"""

OFFSET = 10


class Point:
    """A plain class from the training script."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Pair:
    """Defined in the writer script; cloudpickle pickles it by value."""

    scale = 3

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def total(self):
        return (self.a + self.b) * self.scale


def main_scale(x):
    """A plain function from the training script (uses the module global OFFSET)."""
    return 2 * x + OFFSET


class Outer:
    class Inner:
        """Nested class: qualname Outer.Inner (dotted lookup from protocol 4 on)."""

        def __init__(self, v):
            self.v = v
