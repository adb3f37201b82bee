"""Objects whose public home is the package itself (like numpy's set_module)."""

__all__ = ["Encoder", "encode"]


def _public(obj):
    obj.__module__ = "mlkit"
    return obj


@_public
class Encoder:
    """Maps labels to integers. Pickled as mlkit.Encoder (reached via star import)."""

    def __init__(self, classes=()):
        self.classes_ = list(classes)

    def encode(self, label):
        return self.classes_.index(label)


@_public
def encode(labels):
    """Pickled by reference as mlkit.encode."""
    return Encoder(sorted(set(labels)))
