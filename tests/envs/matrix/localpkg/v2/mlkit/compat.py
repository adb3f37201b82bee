"""Old names, served lazily (PEP 562 module __getattr__). Nothing is defined statically."""

import warnings

_MOVED = {
    "LegacyScaler": ("mlkit.models", "StandardScaler"),
    "legacy_default": ("mlkit.models", "make_default"),
}


def __getattr__(name):
    try:
        module, attr = _MOVED[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    warnings.warn(
        f"mlkit.compat.{name} is deprecated; use {module}.{attr}",
        DeprecationWarning,
        stacklevel=2,
    )
    import importlib

    return getattr(importlib.import_module(module), attr)


def __dir__():
    return sorted(_MOVED)
