"""The compiled core (crates/pybind, PyO3, abi3). Internal: use the functions of `pickle_doctor`.

Every function releases the GIL while Rust works and honours Ctrl-C. `source` is a path (str) or the
file's bytes. JSON results are the CLI's own JSON documents, byte for byte, so that the Python
layer's `.to_dict()` equals the CLI's output.

Errors raise `NativeError(kind, message)`, where kind is one of:
  "io"          the file cannot be read
  "input"       the file is malformed, not a model, or has no such member
  "environment" the target Python environment cannot be read
  "usage"       an argument is invalid (unknown loader, bad map, bad policy, bad version)
  "rewrite"     fix could not rewrite the file
  "interrupted" Ctrl-C (the Python layer re-raises KeyboardInterrupt)
"""

class NativeError(Exception): ...

def version() -> str: ...
def main(argv: list[str]) -> int:
    """Runs the CLI in-process with argv (argv[0] is the program name); returns the exit code."""

def scan(source: str | bytes, policy: str) -> str:
    """One file's scan report: the JSON object that `scan --format json` prints for it inside "files".
    An unreadable path is a report with verdict "error" (as in the CLI), not an exception."""

def scan_paths(paths: list[str], policy: str, jobs: int | None) -> str:
    """`scan --format json PATH...`: the whole document {"files": [...]}."""

def walk(paths: list[str]) -> str:
    """The files a scan of these paths looks at, exactly as the CLI walks them:
    {"files": [{"path": str, "explicit": bool}], "errors": [{"path": str, "message": str, "is_loop": bool}]}"""

def scan_files(files: list[tuple[str, bool]], policy: str, jobs: int | None) -> str:
    """Scans walked files: {"files": [report...], "skipped": int}. A file found by walking (explicit=False)
    that is not a model is skipped (left out). scan_paths == walk errors (not loops) as error reports,
    then scan_files of walk's files, in that order."""

def check(
    source: str | bytes,
    python: str | None,
    site_packages: list[str],
    python_version: str | None,
    main: str | None,
    loader: str | None,
    encoding: str | None = None,
    errors: str | None = None,
) -> str:
    """`check --format json`: {"environment": {...}, "files": [one file object]}; the file object
    carries `troubles` (load, use, silent) as docs/json.md describes."""

def requirements(
    source: str | bytes, python: str | None, site_packages: list[str], python_version: str | None
) -> str:
    """JSON list of {"dist": str, "spec": str | null ("==1.2.3", ">=2"), "reason": str}."""

def fix(
    source: str,
    output: str | None,
    python: str | None,
    site_packages: list[str],
    python_version: str | None,
    maps: list[str],
    dry_run: bool,
    force: bool,
    main: str | None,
    loader: str | None,
    encoding: str | None = None,
    errors: str | None = None,
) -> str:
    """`fix --format json`: the CLI's document. output=None requires dry_run=True."""

def show(source: str | bytes) -> str:
    """`show --json`: the CLI's document."""

def dis(source: str | bytes) -> str:
    """`dis`: the listing (what `python -m pickletools` prints for one pickle)."""

def export(
    source: str,
    output: str | None,
    to: str = "safetensors",
    duplicate_shared: bool = False,
    force: bool = False,
    float64: bool = False,
    target_opset: int | None = None,
) -> str:
    """`export --format json`: the report. output=None plans only (dry run). A refused export
    (report "refused" non-empty) writes nothing unless force=True (safetensors only).
    to="onnx": a scikit-learn model as ONNX; float64 makes the input double, target_opset sets
    the default domain's opset (13 to 21, default 17)."""

def load_plan(data: bytes, policy: str) -> str:
    """What safe load needs, from one scan of these bytes:
    {"report": <scan file report as in scan()>,
     "format": "pickle" | "joblib" | "npy" | "npz" | "torch-zip" | ... (the scan report's format),
     "globals": [{"module": str, "name": str, "mapped_module": str, "mapped_name": str}],
     "persistent_ids": bool, "out_of_band_buffers": bool}
    globals are every literal global of every pickle the loader reads; mapped_* is the pair after
    _compat_pickle's NAME_MAPPING/IMPORT_MAPPING, which pickle applies only below protocol 3
    (equal to module/name when no mapping applies or the pickle is protocol 3 or later)."""
