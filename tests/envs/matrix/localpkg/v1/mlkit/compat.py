"""Names kept for old callers (mlkit 1.0.0: plain definitions)."""

from .models import Scaler


class LegacyScaler(Scaler):
    """v2 serves this name from a module-level __getattr__ as StandardScaler."""


def legacy_default():
    """v2 serves this name from a module-level __getattr__ (as make_default)."""
    from .models import make_default

    return make_default()


def removed_helper():
    """Gone in v2: its compat.__getattr__ raises AttributeError for it."""
    return None
