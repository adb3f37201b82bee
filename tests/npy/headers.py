#!/usr/bin/env python3
"""The .npy/.npz header corpus: header variants numpy writes, Python-2-era headers assembled
by hand, and headers numpy refuses, with what real `numpy.load` does with each.

    python tests/npy/headers.py write DIR      # any venv with numpy (writes the files)
    python tests/npy/headers.py load DIR       # in each numpy venv: DIR/truth-<numpy X.Y>.json

scripts/npy-headers.sh runs both with the matrix venvs (numpy 1.24, 1.26, 2.x) and writes
tests/npy/corpus/, which is committed: the Rust test (crates/cli/tests/npy_headers.rs)
asserts that pickle-doctor reads every file some numpy reads and refuses, with an offset, every
file every numpy refuses. Files are our own (no payloads); object arrays hold plain values.
"""

import io
import json
import os
import struct
import sys
import zipfile


def npy_bytes(major, header_text, data=b"", align=64, encoding="latin1"):
    """magic, version, length, header (padded with spaces, ending in a newline), data."""
    h = header_text.encode(encoding)
    prefix = 10 if major == 1 else 12
    pad = (-(prefix + len(h) + 1)) % align
    h = h + b" " * pad + b"\n"
    length = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + length + h + data


def numpy_written():
    """name -> bytes, written by numpy's own write_array."""
    import numpy as np
    fmt = np.lib.format
    structured = np.dtype([("a", "<i4"), ("b", ">f8", (2,)), ("c", "S3"),
                           ("d", [("x", "<u2"), ("y", ">f4")])])
    arrays = {
        "f8-c": np.arange(6, dtype="<f8").reshape(2, 3),
        "f4-fortran": np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)),
        "i4-big-endian": np.array([1, -2, 3], dtype=">i4"),
        "c16-big-endian": np.array([1 + 2j], dtype=">c16"),
        "structured": np.zeros(2, dtype=structured),
        "structured-aligned": np.zeros(2, dtype=np.dtype([("u", "u1"), ("f", "<f8")], align=True)),
        "structured-titles": np.zeros(2, dtype=np.dtype({"names": ["a"], "formats": ["<i4"],
                                                         "titles": ["Title"]})),
        "structured-object-field": np.array([(1, "x"), (2, None)],
                                            dtype=[("n", "<i8"), ("o", "O")]),
        "subarray": np.zeros(2, dtype=np.dtype(("<i2", (3,)))),
        "object": np.array([1, "two", None, [3]], dtype=object),
        "zero-d": np.array(2.5),
        "empty": np.zeros((0, 3), dtype="<i2"),
        "datetime": np.array(["2024-01-02"], dtype="<M8[D]"),
        "timedelta": np.array([5], dtype=">m8[ns]"),
        "unicode": np.array(["h\u00e9"], dtype="<U2"),
        "bytes": np.array([b"abc"], dtype="S5"),
        "void": np.zeros(2, dtype="V8"),
        "bool": np.array([True, False]),
        "f2": np.array([1.5], dtype="<f2"),
    }
    out = {}
    for version in ((1, 0), (2, 0), (3, 0)):
        for name, a in arrays.items():
            f = io.BytesIO()
            fmt.write_array(f, a, version=version, allow_pickle=True)
            out["numpy-v%d-%s.npy" % (version[0], name)] = f.getvalue()
    f = io.BytesIO()
    fmt.write_array(f, np.zeros(2, dtype=[("f\u00e9", "<i4")]), version=(3, 0))
    out["numpy-v3-utf8-field-name.npy"] = f.getvalue()
    return out


def hand_assembled():
    """name -> bytes: headers as Python 2 numpy wrote them, and variants literal_eval reads."""
    f8x6 = struct.pack("<6d", *range(6))
    f8x2 = struct.pack("<2d", 1.0, 2.0)
    py2 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }"
    out = {
        # Python 2 numpy: longs in the shape, 16-byte alignment (numpy < 1.14).
        "py2-long-shape-v1.npy": npy_bytes(1, py2, f8x6, align=16),
        "py2-long-shape-v2.npy": npy_bytes(2, py2, f8x6, align=16),
        "py2-unicode-strings-v1.npy": npy_bytes(
            1, "{u'descr': u'<f8', u'fortran_order': False, u'shape': (2L, 3L), }", f8x6),
        "py2-long-then-space-v1.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2 L, 3L), }", f8x6),
        "py2-structured-v1.npy": npy_bytes(
            1, "{'descr': [('a', '<i4'), ('b', '<f8', (2L,))], 'fortran_order': False, 'shape': (1L,), }",
            b"\x00" * 20),
        "py2-object-v1.npy": npy_bytes(
            1, "{'descr': '|O', 'fortran_order': False, 'shape': (2L,), }",
            b"\x80\x02]q\x00(K\x01U\x01aq\x01e."),
        "py2-zero-d-v1.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8x2[:8]),
        "double-quotes.npy": npy_bytes(1, '{"descr": "<f8", "fortran_order": False, "shape": (2,)}', f8x2),
        "key-order-and-spacing.npy": npy_bytes(1, "{ 'shape' : ( 2 , ) ,\t'fortran_order':False,'descr':'<f8' }", f8x2),
        "comment-and-continuation.npy": npy_bytes(
            1, "{'descr': '<f8', # the dtype\n 'fortran_order': False, \\\n 'shape': (2,)}", f8x2),
        "descr-list-of-lists.npy": npy_bytes(1, "{'descr': [['a', '<f8']], 'fortran_order': False, 'shape': (2,), }", f8x2),
        "descr-name.npy": npy_bytes(1, "{'descr': 'float64', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "descr-char-code.npy": npy_bytes(1, "{'descr': 'd', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "descr-native-order.npy": npy_bytes(1, "{'descr': '=f8', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "descr-escaped.npy": npy_bytes(1, "{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "shape-hex.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0x2,), }", f8x2),
        "refused-shape-bool.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (True, 2), }", f8x2),
        "duplicate-key-last-wins.npy": npy_bytes(
            1, "{'descr': '<i8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "extra-data-after-array.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2 + b"junk"),
        "object-trailing-newline.npy": npy_bytes(
            1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x80\x04]\x94K\x07a.\n"),
        "no-padding-v1.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2, align=1),
    }
    refused = {
        "refused-py2-long-shape-v3.npy": npy_bytes(3, py2, f8x6),
        "refused-lowercase-long.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2l,), }", f8x2),
        "refused-version-1-1.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[:7] + b"\x01" + npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[8:],
        "refused-version-4-0.npy": b"\x93NUMPY\x04\x00" + npy_bytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[8:],
        "refused-bad-magic.npy": b"\x93NUMPZ" + npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[6:],
        "refused-truncated-length.npy": b"\x93NUMPY\x01\x00\x10",
        "refused-header-past-end.npy": b"\x93NUMPY\x01\x00\xff\x00{'descr': '<f8'",
        "refused-not-a-dict.npy": npy_bytes(1, "[('descr', '<f8')]", f8x2),
        "refused-missing-key.npy": npy_bytes(1, "{'descr': '<f8', 'shape': (2,), }", f8x2),
        "refused-extra-key.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", f8x2),
        "refused-bytes-keys.npy": npy_bytes(1, "{b'descr': '<f8', b'fortran_order': False, b'shape': (2,), }", f8x2),
        "refused-shape-list.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': [2], }", f8x2),
        "refused-shape-float.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,), }", f8x2),
        "refused-fortran-int.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", f8x2),
        "refused-descr-f7.npy": npy_bytes(1, "{'descr': '<f7', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "refused-descr-int.npy": npy_bytes(1, "{'descr': 8, 'fortran_order': False, 'shape': (2,), }", f8x2),
        "refused-descr-bad-unit.npy": npy_bytes(1, "{'descr': '<M8[xx]', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "refused-descr-unknown-name.npy": npy_bytes(1, "{'descr': 'float65', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "refused-syntax-error.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", f8x2),
        "refused-name-not-literal.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': false, 'shape': (2,), }", f8x2),
        "refused-fstring.npy": npy_bytes(1, "{'descr': f'<f8', 'fortran_order': False, 'shape': (2,), }", f8x2),
        "refused-data-short.npy": npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8x2),
        "refused-v3-not-utf8.npy": npy_bytes(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[:20] + b"\xff" + npy_bytes(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8x2)[21:],
    }
    out.update(refused)
    return out


def npz(members, compression=zipfile.ZIP_STORED):
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", compression) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    return f.getvalue()


def write(out):
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.endswith((".npy", ".npz", ".json")):
            os.remove(os.path.join(out, name))
    files = numpy_written()
    files.update(hand_assembled())
    files["npz-py2-and-object.npz"] = npz({
        "a.npy": files["py2-long-shape-v1.npy"],
        "b.npy": files["py2-object-v1.npy"],
        "c.npy": files["numpy-v2-structured-object-field.npy"],
    }, zipfile.ZIP_DEFLATED)
    files["npz-every-version.npz"] = npz({
        "v1.npy": files["numpy-v1-f4-fortran.npy"],
        "v2.npy": files["numpy-v2-i4-big-endian.npy"],
        "v3.npy": files["numpy-v3-utf8-field-name.npy"],
        "object.npy": files["numpy-v3-object.npy"],
    })
    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("headers.py: %d files in %s" % (len(files), out), file=sys.stderr)


def load(out):
    """numpy.load(allow_pickle=True) of every file, as `check --loader numpy` assumes."""
    import warnings
    import numpy as np
    truth = {}
    for name in sorted(os.listdir(out)):
        if not name.endswith((".npy", ".npz")):
            continue
        path = os.path.join(out, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = np.load(path, allow_pickle=True)
                if hasattr(got, "files"):
                    for k in got.files:
                        got[k]
                    got.close()
            truth[name] = {"ok": True}
        except Exception as e:  # noqa: BLE001 - recording what numpy raises
            truth[name] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    version = ".".join(np.__version__.split(".")[:2])
    with open(os.path.join(out, "truth-numpy-%s.json" % version), "w") as f:
        json.dump({"numpy": np.__version__, "files": truth}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "load"):
        sys.exit(__doc__)
    (write if sys.argv[1] == "write" else load)(sys.argv[2])
