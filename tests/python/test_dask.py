"""pickle_doctor.dask.scan_paths on a real LocalCluster (two worker processes)."""

from __future__ import annotations

import pytest

import pickle_doctor
import pickle_doctor.dask as pd_dask

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c


def test_dask_equals_scan_paths(client, hostile_dir, fixtures_dir, tmp_path):
    paths = [hostile_dir, fixtures_dir, tmp_path / "does-not-exist"]
    serial = pickle_doctor.scan_paths(paths)
    distributed_reports = pd_dask.scan_paths(paths, client=client, batch_size=500)
    assert len(serial) > 3000
    assert [r.to_dict() for r in distributed_reports] == [r.to_dict() for r in serial]
    assert distributed_reports[-1].verdict == "error"  # the missing path
    print(f"\ndask: {len(serial)} reports, {sum(r.verdict == 'unsafe' for r in serial)} unsafe")


def test_dask_current_client_and_dataframe(client, hostile_dir):
    raw = hostile_dir / "raw"
    reports = pd_dask.scan_paths(raw, batch_size=7)  # client=None: the current client
    assert reports == pickle_doctor.scan_paths([raw])
    df = pd_dask.scan_paths([raw], client=client, policy="strict", dataframe=True)
    assert list(df.columns) == ["path", "format", "verdict", "error", "codes", "n_findings", "findings"]
    assert len(df) == len(reports)
    assert (df["verdict"] == "unsafe").sum() == sum(r.verdict == "unsafe" for r in reports)
    assert df["path"].tolist() == [r.path for r in reports]


def test_dask_empty_and_errors(client, tmp_path):
    assert pd_dask.scan_paths([tmp_path], client=client) == []
    with pytest.raises(pickle_doctor.UsageError):
        pd_dask.scan_paths([tmp_path], client=client, batch_size=0)
