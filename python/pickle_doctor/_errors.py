"""Exceptions of pickle_doctor, and the translation of the native module's errors."""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from . import _native

if TYPE_CHECKING:
    from ._reports import Finding

T = TypeVar("T")

__all__ = [
    "Error",
    "InputError",
    "RewriteError",
    "TargetError",
    "UnsafePickleError",
    "UsageError",
]


class Error(Exception):
    """Bad input, I/O, a budget, the target environment: one clear, one-line message.

    ``kind`` is the native error kind ("io", "input", "environment", "usage", "rewrite") or
    ``None`` for errors raised by the Python layer itself.
    """

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.kind))


class InputError(Error):
    """The file cannot be read ("io"), or is malformed, not a model, or has no such member ("input")."""


class TargetError(Error):
    """The target Python environment (``python=``, ``site_packages=``) cannot be read."""


class UsageError(Error, ValueError):
    """An argument is invalid: unknown loader or policy, bad map, bad Python version."""


class RewriteError(Error):
    """``fix`` could not rewrite the file."""


class UnsafePickleError(Error, pickle.UnpicklingError):
    """Safe load refused the file: loading it would run code or reach a dangerous name.

    ``findings`` lists what the scan found (empty when the refusal comes from the restricted
    unpickler itself, i.e. a global the scan did not approve).
    """

    def __init__(self, message: str, findings: Iterable[Finding] = ()) -> None:
        super().__init__(message, "unsafe")
        self.findings: list[Finding] = list(findings)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.findings))


_KINDS: dict[str, type[Error]] = {
    "io": InputError,
    "input": InputError,
    "environment": TargetError,
    "usage": UsageError,
    "rewrite": RewriteError,
}


def translate(exc: BaseException) -> BaseException:
    """The pickle_doctor exception for a ``_native.NativeError``."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], str):
        kind, message = args[0], str(args[1])
    else:
        kind, message = "", str(exc)
    if kind == "interrupted":
        return KeyboardInterrupt()
    # One line: the CLI's messages may carry causes on further lines.
    message = " ".join(part.strip() for part in message.splitlines() if part.strip()) or kind
    return _KINDS.get(kind, Error)(message, kind or None)


def call(fn: Callable[..., T], *args: Any) -> T:
    """Calls a native function, raising pickle_doctor's exceptions instead of NativeError."""
    try:
        return fn(*args)
    except _native.NativeError as exc:
        error = translate(exc)
    # Raised outside the handler: no __context__ pointing at the native exception, so the error
    # pickles even where tracebacks and chains are pickled too (distributed installs tblib's).
    raise error
