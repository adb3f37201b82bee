"""Result types: plain, picklable dataclasses whose ``to_dict()`` is the CLI's JSON.

``X.from_dict(x.to_dict()) == x`` for every type, and ``to_dict()`` returns exactly the object the
CLI prints with ``--format json`` (for ``scan`` and ``check`` the per-file object inside
``"files"``, for ``fix`` the whole document).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CheckReport",
    "ExportReport",
    "ExportedTensor",
    "Environment",
    "Finding",
    "FixReport",
    "FixSuggestion",
    "GlobalStatus",
    "Prediction",
    "Refusal",
    "Rename",
    "Repair",
    "Risk",
    "ScanReport",
]

Json = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One security finding of ``scan`` (a rule of ``pickle-doctor rule CODE``)."""

    code: str
    severity: str
    global_name: str | None
    member: str | None
    offset: int
    message: str
    help: str

    def to_dict(self) -> Json:
        return {
            "code": self.code,
            "severity": self.severity,
            "global": self.global_name,
            "member": self.member,
            "offset": self.offset,
            "message": self.message,
            "help": self.help,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            code=d["code"],
            severity=d["severity"],
            global_name=d["global"],
            member=d["member"],
            offset=d["offset"],
            message=d["message"],
            help=d["help"],
        )


@dataclass(frozen=True)
class ScanReport:
    """``scan`` of one file. ``verdict`` is "clean", "unsafe" or "error"."""

    path: str
    format: str
    verdict: str
    error: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The distinct rule codes found, sorted."""
        return sorted({f.code for f in self.findings})

    def to_dict(self) -> Json:
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScanReport:
        return cls(
            path=d["path"],
            format=d["format"],
            verdict=d["verdict"],
            error=d["error"],
            findings=[Finding.from_dict(f) for f in d["findings"]],
        )


@dataclass(frozen=True)
class Environment:
    """The target environment ``check`` and ``fix`` predicted for."""

    python: str
    paths: list[str] = field(default_factory=list)

    def to_dict(self) -> Json:
        return {"python": self.python, "paths": list(self.paths)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Environment:
        return cls(python=d["python"], paths=list(d["paths"]))


@dataclass(frozen=True)
class GlobalStatus:
    """One global of the file and whether the target resolves it."""

    module: str
    name: str
    member: str | None
    offset: int
    status: str
    distribution: str | None
    reason: str

    def to_dict(self) -> Json:
        return {
            "module": self.module,
            "name": self.name,
            "member": self.member,
            "offset": self.offset,
            "status": self.status,
            "distribution": self.distribution,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GlobalStatus:
        return cls(
            module=d["module"],
            name=d["name"],
            member=d["member"],
            offset=d["offset"],
            status=d["status"],
            distribution=d["distribution"],
            reason=d["reason"],
        )


@dataclass(frozen=True)
class Risk:
    """Something that may break the load, and what to do about it."""

    code: str
    message: str
    fix: str
    note: str = ""
    """The knowledge base's longer note and its source ("" when there is none)."""

    def to_dict(self) -> Json:
        d: Json = {"code": self.code, "message": self.message, "fix": self.fix}
        if self.note:
            d["note"] = self.note
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Risk:
        return cls(code=d["code"], message=d["message"], fix=d["fix"], note=d.get("note", ""))


@dataclass(frozen=True)
class Trouble:
    """What goes wrong with the file in the target, by when it shows.

    ``kind`` is "load" (the loader raises), "use" (the load succeeds, then the first call of
    ``method`` raises ``error``) or "silent" (everything runs, but outputs differ). ``code`` is
    stable (a knowledge-base break id, "missing-attribute", "not-fitted", ...); ``class_`` is
    ``module.Name`` of the global or object involved; ``error`` is the exact text the user
    sees (``None`` for silent troubles).
    """

    kind: str
    code: str
    member: str | None
    offset: int
    class_: str | None
    method: str | None
    attribute: str | None
    error: str | None
    message: str

    def to_dict(self) -> Json:
        return {
            "kind": self.kind,
            "code": self.code,
            "member": self.member,
            "offset": self.offset,
            "class": self.class_,
            "method": self.method,
            "attribute": self.attribute,
            "error": self.error,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Trouble:
        return cls(
            kind=d["kind"],
            code=d["code"],
            member=d["member"],
            offset=d["offset"],
            class_=d["class"],
            method=d["method"],
            attribute=d["attribute"],
            error=d["error"],
            message=d["message"],
        )


@dataclass(frozen=True)
class FixSuggestion:
    """A fix ``check`` suggests: ``kind`` (e.g. a rename or a pip line), ``from_`` -> ``to``."""

    kind: str
    from_: str
    to: str

    def to_dict(self) -> Json:
        return {"kind": self.kind, "from": self.from_, "to": self.to}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FixSuggestion:
        return cls(kind=d["kind"], from_=d["from"], to=d["to"])


@dataclass(frozen=True)
class TrailingBytes:
    """Bytes after the pickle a loader reads, which it ignores: ``what`` says whether they are
    further pickles, not a pickle at all, or a further pickle that stops early."""

    member: str
    offset: int
    file_offset: int | None
    length: int
    what: str

    def to_dict(self) -> Json:
        return {
            "member": self.member,
            "offset": self.offset,
            "file_offset": self.file_offset,
            "length": self.length,
            "what": self.what,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrailingBytes:
        return cls(
            member=d["member"],
            offset=d["offset"],
            file_offset=d["file_offset"],
            length=d["length"],
            what=d["what"],
        )


@dataclass(frozen=True)
class CheckReport:
    """``check`` of one file: ``verdict`` is "loads", "fails" or "at-risk".

    ``environment`` is the target (the document's ``"environment"``); it is not part of
    ``to_dict()``, which is the per-file object inside ``"files"``.
    """

    path: str
    format: str
    loader: str
    verdict: str
    error: str | None
    globals: list[GlobalStatus] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    fixes: list[FixSuggestion] = field(default_factory=list)
    environment: Environment | None = None
    repairable: bool = False
    """Whether ``fix`` repairs the file for this target (its dry run is predicted to load)."""
    trailing: list[TrailingBytes] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    """What goes wrong at load, at first use, or silently (see ``Trouble``)."""

    def to_dict(self) -> Json:
        return {
            "path": self.path,
            "format": self.format,
            "loader": self.loader,
            "verdict": self.verdict,
            "error": self.error,
            "globals": [g.to_dict() for g in self.globals],
            "risks": [r.to_dict() for r in self.risks],
            "fixes": [f.to_dict() for f in self.fixes],
            "repairable": self.repairable,
            "trailing": [t.to_dict() for t in self.trailing],
            "troubles": [t.to_dict() for t in self.troubles],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], environment: Environment | None = None) -> CheckReport:
        return cls(
            path=d["path"],
            format=d["format"],
            loader=d["loader"],
            verdict=d["verdict"],
            error=d["error"],
            globals=[GlobalStatus.from_dict(g) for g in d["globals"]],
            risks=[Risk.from_dict(r) for r in d["risks"]],
            fixes=[FixSuggestion.from_dict(f) for f in d["fixes"]],
            environment=environment,
            repairable=bool(d.get("repairable", False)),
            trailing=[TrailingBytes.from_dict(t) for t in d.get("trailing", [])],
            troubles=[Trouble.from_dict(t) for t in d.get("troubles", [])],
        )


@dataclass(frozen=True)
class Prediction:
    """``fix``'s prediction for the file before or after the repair."""

    loader: str
    verdict: str
    error: str | None
    risks: list[Risk] = field(default_factory=list)
    #: What goes wrong at load, at first use or silently, as ``check`` reports it.
    troubles: list[Trouble] = field(default_factory=list)

    def to_dict(self) -> Json:
        return {
            "loader": self.loader,
            "verdict": self.verdict,
            "error": self.error,
            "risks": [r.to_dict() for r in self.risks],
            "troubles": [t.to_dict() for t in self.troubles],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Prediction:
        return cls(
            loader=d["loader"],
            verdict=d["verdict"],
            error=d["error"],
            risks=[Risk.from_dict(r) for r in d["risks"]],
            troubles=[Trouble.from_dict(t) for t in d.get("troubles", [])],
        )


@dataclass(frozen=True)
class Rename:
    """A global renamed by ``fix`` at the opcode level."""

    member: str | None
    offset: int
    string_offsets: list[int]
    from_: str
    to: str
    how: str
    origin: str

    def to_dict(self) -> Json:
        return {
            "member": self.member,
            "offset": self.offset,
            "string_offsets": list(self.string_offsets),
            "from": self.from_,
            "to": self.to,
            "how": self.how,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rename:
        return cls(
            member=d["member"],
            offset=d["offset"],
            string_offsets=list(d["string_offsets"]),
            from_=d["from"],
            to=d["to"],
            how=d["how"],
            origin=d["origin"],
        )


@dataclass(frozen=True)
class Repair:
    """A state-level repair made by ``fix``."""

    member: str | None
    id: str
    offset: int
    what: str

    def to_dict(self) -> Json:
        return {"member": self.member, "id": self.id, "offset": self.offset, "what": self.what}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Repair:
        return cls(member=d["member"], id=d["id"], offset=d["offset"], what=d["what"])


@dataclass(frozen=True)
class Refusal:
    """Why ``fix`` wrote nothing, and what to do instead."""

    reason: str
    advice: list[str] = field(default_factory=list)

    def to_dict(self) -> Json:
        return {"reason": self.reason, "advice": list(self.advice)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Refusal:
        return cls(reason=d["reason"], advice=list(d["advice"]))


@dataclass(frozen=True)
class FixReport:
    """``fix``: the whole ``fix --format json`` document."""

    environment: Environment
    path: str
    output: str | None
    dry_run: bool
    before: Prediction
    after: Prediction | None
    renames: list[Rename] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    refusal: Refusal | None = None

    @property
    def written(self) -> bool:
        """Whether the repaired file was written (to ``output``)."""
        return self.output is not None

    def to_dict(self) -> Json:
        return {
            "environment": self.environment.to_dict(),
            "path": self.path,
            "output": self.output,
            "dry_run": self.dry_run,
            "before": self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
            "renames": [r.to_dict() for r in self.renames],
            "repairs": [r.to_dict() for r in self.repairs],
            "refusal": None if self.refusal is None else self.refusal.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FixReport:
        return cls(
            environment=Environment.from_dict(d["environment"]),
            path=d["path"],
            output=d["output"],
            dry_run=d["dry_run"],
            before=Prediction.from_dict(d["before"]),
            after=None if d["after"] is None else Prediction.from_dict(d["after"]),
            renames=[Rename.from_dict(r) for r in d["renames"]],
            repairs=[Repair.from_dict(r) for r in d["repairs"]],
            refusal=None if d["refusal"] is None else Refusal.from_dict(d["refusal"]),
        )


@dataclass(frozen=True)
class ExportedTensor:
    """One tensor as ``export`` writes it: its name, where it was, safetensors dtype, shape."""

    name: str
    source: str
    dtype: str
    shape: list[int]
    bytes: int
    contiguous: bool

    def to_dict(self) -> Json:
        return {
            "name": self.name,
            "source": self.source,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "bytes": self.bytes,
            "contiguous": self.contiguous,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExportedTensor:
        return cls(
            name=d["name"],
            source=d["source"],
            dtype=d["dtype"],
            shape=list(d["shape"]),
            bytes=d["bytes"],
            contiguous=d["contiguous"],
        )


@dataclass(frozen=True)
class ExportReport:
    """``export`` of one file (the CLI's ``export --format json`` document).

    ``refused`` lists ``{"name", "why"}`` for each tensor that cannot be exported; when it is
    non-empty nothing was written (unless forced) and ``output`` is None. For ``to="onnx"``,
    ``onnx`` describes the graph (estimator, steps, input, outputs, opsets) and a refusal's
    ``name`` is the offending step's path (``steps[1] ('clf')``).
    """

    path: str
    format: str
    output: str | None
    dry_run: bool
    tensors: list[ExportedTensor] = field(default_factory=list)
    dropped_shared: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    file_bytes: int = 0
    onnx: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether every tensor was (or would be) exported."""
        return not self.refused

    def to_dict(self) -> Json:
        return {
            "path": self.path,
            "format": self.format,
            "output": self.output,
            "dry_run": self.dry_run,
            "tensors": [t.to_dict() for t in self.tensors],
            "dropped_shared": dict(self.dropped_shared),
            "metadata": dict(self.metadata),
            "skipped": [dict(s) for s in self.skipped],
            "refused": [dict(r) for r in self.refused],
            "file_bytes": self.file_bytes,
            **({"onnx": self.onnx} if self.onnx is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExportReport:
        return cls(
            path=d["path"],
            format=d["format"],
            output=d["output"],
            dry_run=d["dry_run"],
            tensors=[ExportedTensor.from_dict(t) for t in d["tensors"]],
            dropped_shared=dict(d["dropped_shared"]),
            metadata=dict(d["metadata"]),
            skipped=[dict(s) for s in d["skipped"]],
            refused=[dict(r) for r in d["refused"]],
            file_bytes=d["file_bytes"],
            onnx=d.get("onnx"),
        )
