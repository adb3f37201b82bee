"""``pickle_doctor.export``: the report equals the CLI's ``export --format json``, refusals
write nothing, and reports pickle."""

from __future__ import annotations

import json
import pathlib
import pickle
import subprocess

import pytest

import pickle_doctor
from pickle_doctor import ExportReport, InputError

TORCH = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "torch" / "export" / "files"


def test_export_equals_the_cli(cli: str, tmp_path: pathlib.Path) -> None:
    for name in ("module.pt", "nested.pt", "views.pt", "tied.pt"):
        ours = tmp_path / f"api-{name}.safetensors"
        theirs = tmp_path / f"cli-{name}.safetensors"
        report = pickle_doctor.export(TORCH / name, ours)
        assert report.ok and report.output == str(ours)
        p = subprocess.run(
            [cli, "export", "--format", "json", str(TORCH / name), "-o", str(theirs)],
            capture_output=True,
            text=True,
            check=True,
        )
        want = json.loads(p.stdout)
        got = report.to_dict()
        # Only the output path differs.
        assert got["output"] == str(ours) and want["output"] == str(theirs)
        got["output"] = want["output"] = None
        assert got == want
        assert ours.read_bytes() == theirs.read_bytes()


def test_module_tensors_take_state_dict_names(tmp_path: pathlib.Path) -> None:
    report = pickle_doctor.export(TORCH / "module.pt", None)
    assert report.dry_run and report.output is None
    names = {t.name for t in report.tensors}
    assert "embed.weight" in names and "body.1.running_mean" in names
    assert "mask" not in names  # a non-persistent buffer: state_dict() leaves it out
    assert report.dropped_shared == {"head.weight": "embed.weight"}


def test_refusals_write_nothing(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "q.safetensors"
    report = pickle_doctor.export(TORCH / "quantized.pt", out)
    assert not report.ok
    assert {r["name"] for r in report.refused} >= {"q_per_tensor", "q_per_channel"}
    assert all("quantized" in r["why"] for r in report.refused)
    assert report.output is None and not out.exists()
    assert list(tmp_path.iterdir()) == []
    forced = pickle_doctor.export(TORCH / "quantized.pt", out, force=True)
    assert forced.output == str(out) and out.exists()


def test_reports_round_trip_and_pickle(tmp_path: pathlib.Path) -> None:
    report = pickle_doctor.export(TORCH / "nested.pt", tmp_path / "n.safetensors")
    assert ExportReport.from_dict(report.to_dict()) == report
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(report, protocol=proto)) == report


def test_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(InputError):
        pickle_doctor.export(tmp_path / "missing.pt", tmp_path / "x.safetensors")
    with pytest.raises(pickle_doctor.UsageError):
        pickle_doctor.export(TORCH / "module.pt", tmp_path / "x.onnx", to="onnx2")
    with pytest.raises(TypeError):
        pickle_doctor.export(b"bytes", tmp_path / "x.safetensors")  # type: ignore[arg-type]


SKLEARN_ONNX = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sklearn-onnx"


def test_onnx_export_equals_the_cli(cli: str, tmp_path: pathlib.Path) -> None:
    model = SKLEARN_ONNX / "1.9.1" / "pipe-scaler-logreg" / "model.pkl"
    ours = tmp_path / "api.onnx"
    theirs = tmp_path / "cli.onnx"
    report = pickle_doctor.export(model, ours, to="onnx", float64=True, target_opset=18)
    assert report.ok and report.output == str(ours)
    assert report.onnx is not None
    assert [o["name"] for o in report.onnx["outputs"]] == ["label", "probabilities"]
    assert report.onnx["input"]["elem"] == "double" and report.onnx["opsets"][""] == 18
    p = subprocess.run(
        [cli, "export", "--format", "json", str(model), "--to", "onnx", "--float64"]
        + ["--target-opset", "18", "-o", str(theirs)],
        capture_output=True,
        text=True,
        check=True,
    )
    want = json.loads(p.stdout)
    got = report.to_dict()
    got["output"] = want["output"] = None
    assert got == want
    assert ours.read_bytes() == theirs.read_bytes()


def test_onnx_refusal_names_the_step_and_writes_nothing(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "m.onnx"
    report = pickle_doctor.export(SKLEARN_ONNX / "1.9.1" / "refuse" / "pipe-callable.pkl", out, to="onnx")
    assert not report.ok
    assert report.refused[0]["name"] == "steps[0] ('log')"
    assert "supported:" in report.refused[0]["why"]
    assert not out.exists() and list(tmp_path.iterdir()) == []
