"""Objects whose public home is the package itself. 2.0.0 stops exporting Encoder."""

__all__ = ["encode"]


def _public(obj):
    obj.__module__ = "mlkit"
    return obj


@_public
class Encoder:
    """Still defined here, still claims __module__ "mlkit", but mlkit.Encoder is gone."""

    def __init__(self, classes=()):
        self.classes_ = list(classes)

    def encode(self, label):
        return self.classes_.index(label)


@_public
def encode(labels):
    return Encoder(sorted(set(labels)))
