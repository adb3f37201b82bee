#!/usr/bin/env python3
"""Writes the hostile corpus: every evasion technique (`techniques()` below), inside every container.

    python tests/hostile/generate.py OUTDIR

Payloads are assembled from raw opcode bytes, never pickled from live objects and never
loaded: the ground truth ("this file runs code or reaches a dangerous name when loaded") comes
from how each file is built. Each payload is then wrapped in every container pickle-doctor
reads (raw pickle, torch zip and its tricks, TorchScript, legacy torch, torch tar, joblib with
every compressor, npy/npz object arrays, generic and nested zips, 7z).

OUTDIR/manifest.json lists every file with its technique, its container, the rule codes a
scanner must report, and `compare: true` for the subset the peer comparison runs on (every
technique as a raw pickle, and every container with three techniques), since the peers
start a Python process per file.

Only the standard library is needed, plus `lz4` for joblib's lz4 framing and `py7zr` for 7z
(both in the pinned test venv).
"""

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib

import lz4.frame
import py7zr

# --- opcode helpers ---------------------------------------------------------------------------

PROTO = lambda n: b"\x80" + bytes([n])  # noqa: E731
STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
REDUCE = b"R"
BUILD = b"b"
POP = b"0"
DUP = b"2"
NONE = b"N"
SETITEMS = b"u"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def u(s):
    """SHORT_BINUNICODE."""
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def s0(s):
    """Protocol-0 STRING."""
    return b"S'" + s.encode() + b"'\n"


def binbytes(b):
    return b"B" + struct.pack("<I", len(b)) + b


def short_binbytes(b):
    return b"C" + bytes([len(b)]) + b


def bytearray8(b):
    return b"\x96" + struct.pack("<Q", len(b)) + b


def binput(i):
    return b"q" + bytes([i])


def binget(i):
    return b"h" + bytes([i])


def binint1(i):
    return b"K" + bytes([i])


def call(module, name, *args, proto=2):
    """PROTO, GLOBAL module name, args as strings, TUPLE, REDUCE, STOP."""
    return PROTO(proto) + glob(module, name) + MARK + b"".join(u(a) for a in args) + TUPLE + REDUCE + STOP


def sg_call(module, name, *args):
    """Protocol 4: STACK_GLOBAL from two strings, then a call."""
    return PROTO(4) + u(module) + u(name) + STACK_GLOBAL + MARK + b"".join(u(a) for a in args) + TUPLE + REDUCE + STOP


CMD = "echo pickle-doctor-hostile-fixture"
SYSTEM = call("os", "system", CMD)

# --- techniques -------------------------------------------------------------------------------


def techniques():
    """(name, payload bytes, rule codes that must be reported, severity of the worst of them or
    None when any severity that makes the file unsafe will do)."""
    t = []
    add = lambda name, data, *codes, severity=None: t.append((name, data, list(codes), severity))  # noqa: E731

    # 1. every import and call opcode
    add("global-reduce-p0", glob("os", "system") + MARK + s0(CMD) + TUPLE + REDUCE + STOP, "PD101")
    add("inst-p0", MARK + s0(CMD) + b"i" + b"os\nsystem\n" + STOP, "PD101")
    add("obj-p1", MARK + glob("os", "system") + s0(CMD) + b"o" + STOP, "PD101")
    add("stack-global-p4", sg_call("os", "system", CMD), "PD101")
    add("newobj-p2", PROTO(2) + glob("subprocess", "Popen") + u(CMD) + TUPLE1 + NEWOBJ + STOP, "PD101")
    add("newobj-ex-p4", PROTO(4) + glob("subprocess", "Popen") + u(CMD) + TUPLE1 + EMPTY_DICT + NEWOBJ_EX + STOP, "PD101")
    add("call-result-popped", PROTO(2) + glob("os", "system") + u(CMD) + TUPLE1 + REDUCE + POP + NONE + STOP, "PD101")

    # 2. STACK_GLOBAL operands from the memo, DUP, decoys and computed values
    add("stack-global-memo", PROTO(4) + u("os") + binput(0) + POP + u("system") + binput(1) + POP
        + binget(0) + binget(1) + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("stack-global-memoize", PROTO(4) + u("os") + MEMOIZE + POP + u("system") + MEMOIZE + POP
        + b"h\x00h\x01" + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("stack-global-dup", PROTO(4) + u("os") + DUP + POP + u("system") + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("memo-after-dup", PROTO(4) + u("os") + DUP + binput(0) + POP + POP + binget(0) + u("system")
        + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("stack-global-decoys", PROTO(4) + u("collections") + u("OrderedDict") + POP + POP + u("os") + u("system")
        + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("stack-global-computed", PROTO(4) + glob("_codecs", "encode") + u("bf") + u("rot13") + TUPLE2 + REDUCE
        + u("system") + STACK_GLOBAL + u(CMD) + TUPLE1 + REDUCE + STOP, "PD102")
    # CPython refuses non-str operands ("STACK_GLOBAL requires str") before importing anything:
    # the scanner must not crash, and reports the broken stream.
    add("stack-global-not-str", PROTO(4) + binint1(1) + binint1(2) + STACK_GLOBAL + EMPTY_TUPLE + REDUCE + STOP, "PD105")

    # 3. dotted names and submodules
    add("dotted-name-p4", sg_call("pathlib", "os.system", CMD), "PD101")
    add("dotted-logging-os", sg_call("logging", "os.system", CMD), "PD101")
    add("submodule-os-path", call("os.path", "exists", "/"), "PD101")

    # 4. _compat_pickle and C-level aliases
    for module, name in [("__builtin__", "eval"), ("commands", "getoutput"), ("cPickle", "loads"),
                         ("posix", "system"), ("nt", "system"), ("_posixsubprocess", "fork_exec"),
                         ("_io", "FileIO"), ("_operator", "methodcaller"), ("_pickle", "loads"),
                         ("_winapi", "CreateProcess"), ("urllib2", "urlopen")]:
        add(f"alias-{module}.{name}", glob(module, name) + MARK + s0(CMD) + TUPLE + REDUCE + STOP, "PD101",
            severity="critical")
    # `exceptions` is not in _compat_pickle's IMPORT_MAPPING (only its exception names are), so
    # Python 3 fails to import it: an unknown function called.
    add("alias-exceptions.eval", glob("exceptions", "eval") + MARK + s0(CMD) + TUPLE + REDUCE + STOP, "PD103",
        severity="high")
    # Python 2 names below protocol 3 (no PROTO, PROTO 1 implied by binary ops, PROTO 2) are
    # mapped by find_class before anything is imported; from protocol 3 they are not (Python 3
    # then fails to import them: unknown functions, graded by use). The last PROTO counts.
    for module, name, mapped_severity in [("httplib", "HTTPConnection", "critical"),
                                          ("urllib", "urlretrieve", "critical"),
                                          ("urllib2", "urlopen", "critical"),
                                          ("commands", "getstatusoutput", "critical"),
                                          ("SocketServer", "TCPServer", "critical"),
                                          ("cookielib", "FileCookieJar", "high"),
                                          ("__builtin__", "getattr", "critical")]:
        payload = glob(module, name) + MARK + s0(CMD) + TUPLE + REDUCE + STOP
        add(f"py2-{module}.{name}-p0", payload, "PD101", severity=mapped_severity)
        add(f"py2-{module}.{name}-p2", PROTO(2) + payload, "PD101", severity=mapped_severity)
        add(f"py2-{module}.{name}-p3-then-p2", PROTO(3) + PROTO(2) + payload, "PD101", severity=mapped_severity)
    for module, name in [("__builtin__", "eval"), ("commands", "getoutput"), ("urllib", "urlopen")]:
        payload = glob(module, name) + MARK + s0(CMD) + TUPLE + REDUCE + STOP
        add(f"py2-{module}.{name}-p3", PROTO(3) + payload, "PD103", severity="high")
        add(f"py2-{module}.{name}-p4-stack-global", sg_call(module, name, CMD), "PD103", severity="high")
        add(f"py2-{module}.{name}-p2-then-p3", PROTO(2) + PROTO(3) + payload, "PD103", severity="high")
    # getattr with a literal attribute is that attribute: of an allowed class, still dangerous.
    add("getattr-allowed-class-dangerous-attr", PROTO(2) + glob("builtins", "getattr") + glob("pathlib", "Path")
        + u("write_text") + TUPLE2 + REDUCE + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101", severity="critical")
    add("getattr-refused-attr", PROTO(2) + glob("builtins", "getattr") + b"]" + u("__class__") + TUPLE2 + REDUCE
        + STOP, "PD101", severity="critical")
    add("partial-of-system", PROTO(2) + glob("functools", "partial") + glob("os", "system") + u(CMD) + TUPLE2
        + REDUCE + EMPTY_TUPLE + REDUCE + STOP, "PD101", severity="critical")

    # 5. extension registry
    add("ext1", PROTO(2) + b"\x82\x01" + u(CMD) + TUPLE1 + REDUCE + STOP, "PD104")
    add("ext2", PROTO(2) + b"\x83\x01\x01" + u(CMD) + TUPLE1 + REDUCE + STOP, "PD104")
    add("ext4", PROTO(2) + b"\x84\x01\x00\x01\x00" + u(CMD) + TUPLE1 + REDUCE + STOP, "PD104")

    # 6. name resolvers
    for module, name in [("builtins", "getattr"), ("builtins", "__import__"), ("importlib", "import_module"),
                         ("importlib.machinery", "SourceFileLoader"), ("pkgutil", "resolve_name"),
                         ("pydoc", "locate"), ("inspect", "getattr_static"), ("operator", "attrgetter"),
                         ("operator", "itemgetter"), ("operator", "methodcaller"), ("functools", "partial")]:
        add(f"resolver-{module}.{name}", call(module, name, "os"), "PD101")
    # getattr(__import__('os'), 'system')('...'), nested calls
    add("getattr-import-chain", PROTO(2) + glob("builtins", "getattr") + glob("builtins", "__import__") + u("os") + TUPLE1
        + REDUCE + u("system") + TUPLE2 + REDUCE + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")

    # 7. exec, shell, file and network gadgets
    for module, name in [("builtins", "exec"), ("builtins", "eval"), ("builtins", "compile"), ("builtins", "open"),
                         ("runpy", "_run_code"), ("code", "InteractiveInterpreter"), ("cProfile", "run"),
                         ("profile", "run"), ("trace", "Trace"), ("timeit", "timeit"), ("doctest", "debug_script"),
                         ("idlelib.pyshell", "main"), ("lib2to3.main", "main"), ("pip", "main"),
                         ("ensurepip", "bootstrap"), ("distutils.spawn", "spawn"), ("uuid", "_get_command_stdout"),
                         ("_osx_support", "_read_output"), ("imaplib", "IMAP4_stream"), ("pty", "spawn"),
                         ("_pyrepl.pager", "pipe_pager"), ("test.support.script_helper", "assert_python_ok"),
                         ("asyncio", "create_subprocess_shell"), ("multiprocessing.util", "spawnv_passfds"),
                         ("numpy.f2py", "compile"), ("torch.utils.collect_env", "run"), ("torch.jit", "load"),
                         ("torch._inductor.codecache", "compile_file"), ("torch._dynamo", "optimize"),
                         ("torch.fx", "GraphModule"), ("mlflow.pyfunc", "load_model"), ("subprocess", "check_output"),
                         ("logging", "FileHandler"), ("ssl", "get_server_certificate"),
                         ("urllib.request", "urlopen"), ("requests", "get"), ("pandas", "read_csv"),
                         ("shutil", "rmtree"), ("socket", "create_connection"), ("ctypes", "CDLL"),
                         ("webbrowser", "open"), ("sys", "exit"), ("http.client", "HTTPConnection"),
                         # network clients
                         ("aiohttp", "request"), ("aiohttp.client", "ClientSession"), ("httpx", "get"),
                         ("urllib3", "request"), ("requests.api", "get"), ("requests.sessions", "Session"),
                         ("websocket", "create_connection"), ("websockets.sync.client", "connect"),
                         ("paramiko", "SSHClient"), ("smtplib", "SMTP"), ("ftplib", "FTP"),
                         ("telnetlib", "Telnet"), ("poplib", "POP3"), ("nntplib", "NNTP"),
                         ("xmlrpc.client", "ServerProxy"), ("socketserver", "TCPServer")]:
        add(f"gadget-{module}.{name}", call(module, name, CMD), "PD101")
    add("gadget-pathlib-write-text", sg_call("pathlib", "Path.write_text", CMD), "PD101")

    # 8. nested pickles handed to a loader, raw or wrapped
    inner = SYSTEM
    for module, name in [("pickle", "loads"), ("_pickle", "loads"), ("dill", "loads"), ("joblib", "load"),
                         ("torch", "load"), ("torch.storage", "_load_from_bytes"), ("numpy", "load"),
                         ("torch._inductor.config", "load_config")]:
        add(f"nested-{module}.{name}", PROTO(2) + glob(module, name) + binbytes(inner) + TUPLE1 + REDUCE + STOP, "PD101", "PD106")
    add("nested-cPickle-p0", glob("cPickle", "loads") + MARK + b"S" + repr(inner.decode("latin-1")).encode() + b"\n"
        + TUPLE + REDUCE + STOP, "PD101", "PD106")
    add("nested-short-binbytes", PROTO(3) + glob("pickle", "loads") + short_binbytes(inner) + TUPLE1 + REDUCE + STOP, "PD101", "PD106")
    add("nested-bytearray8", PROTO(5) + glob("pickle", "loads") + bytearray8(inner) + TUPLE1 + REDUCE + STOP, "PD101", "PD106")
    add("nested-zlib", PROTO(3) + glob("pickle", "loads") + glob("zlib", "decompress") + binbytes(zlib.compress(inner))
        + TUPLE1 + REDUCE + TUPLE1 + REDUCE + STOP, "PD101", "PD106")
    add("nested-base64", PROTO(3) + glob("pickle", "loads") + glob("base64", "b64decode") + binbytes(base64.b64encode(inner))
        + TUPLE1 + REDUCE + TUPLE1 + REDUCE + STOP, "PD101", "PD106")

    # 9. BUILD used as setattr
    add("build-plants-setstate", PROTO(2) + glob("__main__", "Obj") + EMPTY_TUPLE + NEWOBJ + NONE + EMPTY_DICT + MARK
        + u("__setstate__") + glob("builtins", "exec") + SETITEMS + TUPLE2 + BUILD + u("print('pwned')") + BUILD + STOP,
        "PD108")
    add("build-overwrites-module", PROTO(2) + glob("os", "path") + NONE + EMPTY_DICT + MARK + u("join")
        + glob("builtins", "eval") + SETITEMS + TUPLE2 + BUILD + STOP, "PD108")
    add("build-plants-append", PROTO(2) + glob("collections", "UserList") + EMPTY_TUPLE + NEWOBJ + NONE + EMPTY_DICT + MARK
        + u("append") + glob("builtins", "exec") + SETITEMS + TUPLE2 + BUILD + u("print(1)") + b"a" + STOP, "PD108")

    # 10. stacked pickles and bytes after STOP
    add("stacked-second-pickle", PROTO(2) + b"]" + STOP + SYSTEM, "PD101")
    add("stacked-after-text", b"S'benign'\n." + SYSTEM, "PD101")

    # 11. malicious prefix, broken tail
    add("broken-tail-no-stop", PROTO(2) + glob("os", "system") + u(CMD) + TUPLE1 + REDUCE + b"\xff\xfe garbage", "PD101", "PD105")
    add("truncated-after-reduce", PROTO(2) + glob("os", "system") + u(CMD) + TUPLE1 + REDUCE, "PD101", "PD105")

    # 12. FRAME and PROTO anomalies, CRLF text
    body = glob("os", "system") + u(CMD) + TUPLE1 + REDUCE + STOP
    add("frame-too-short", PROTO(4) + b"\x95" + struct.pack("<Q", 3) + body, "PD101")
    # A frame longer than the data: the C loader fails reading it, before any op runs.
    add("frame-too-long", PROTO(4) + b"\x95" + struct.pack("<Q", len(body) + 50) + body, "PD105")
    add("proto-repeated", PROTO(2) + PROTO(4) + PROTO(2) + body, "PD101")
    add("proto-misplaced", PROTO(2) + glob("os", "system") + PROTO(3) + u(CMD) + TUPLE1 + REDUCE + STOP, "PD101")
    add("crlf-arguments", glob("os", "system") + MARK + b"S'" + CMD.encode() + b"'\r\n" + TUPLE + REDUCE + STOP, "PD101")

    # 13. resource exhaustion in front of the payload
    add("deep-marks", PROTO(2) + MARK * 200_000 + SYSTEM[2:], "PD105")
    laughs = PROTO(2) + b"]" + binput(0) + b"".join(b"(" + binget(0) * 10 + b"l" + binput(0) for _ in range(40))
    add("billion-laughs-then-payload", laughs + POP + SYSTEM[2:], "PD101")

    # code objects (§2 of the issue): cloudpickle, dill, types, marshal
    add("code-cloudpickle", PROTO(4) + glob("cloudpickle.cloudpickle", "_builtin_type") + u("CodeType") + TUPLE1 + REDUCE
        + MARK + binint1(0) * 5 + binbytes(b"d\x00S\x00") + TUPLE + REDUCE + POP
        + glob("cloudpickle.cloudpickle", "_make_function") + EMPTY_TUPLE + REDUCE + STOP, "PD107")
    add("code-dill", PROTO(4) + glob("dill._dill", "_create_code") + MARK + binint1(0) * 5 + binbytes(b"d\x00S\x00")
        + TUPLE + REDUCE + STOP, "PD107")
    add("code-types", PROTO(2) + glob("types", "CodeType") + MARK + binint1(0) * 5 + binbytes(b"d\x00S\x00") + TUPLE
        + REDUCE + STOP, "PD107")
    add("code-marshal", PROTO(2) + glob("types", "FunctionType") + glob("marshal", "loads") + binbytes(b"\xe3" + b"\x00" * 20)
        + TUPLE1 + REDUCE + EMPTY_DICT + TUPLE2 + REDUCE + EMPTY_TUPLE + REDUCE + STOP, "PD107")
    return t


def trailing_techniques():
    """Payloads after a benign pickle's STOP: `pickle.load` reads the benign one and stops, and
    a reader that loads on from the same stream runs the next. Every further pickle is scanned."""
    t = []
    add = lambda name, data, *codes: t.append((name, data, list(codes), None))  # noqa: E731
    benign0 = MARK + b"I1\n" + b"l" + STOP  # [1] at protocol 0
    add("after-stop-second-pickle", benign_p2() + SYSTEM, "PD101")
    add("after-stop-second-pickle-p0", benign0 + glob("os", "system") + MARK + s0(CMD) + TUPLE + REDUCE + STOP,
        "PD101")
    add("after-stop-third-pickle", benign_p2() + benign_p2() + sg_call("os", "system", CMD), "PD101")
    add("after-stop-then-newline", benign_p2() + SYSTEM + b"\n", "PD101", "PD110")
    add("after-stop-cut-off-second-pickle", benign_p2() + SYSTEM[:-1], "PD101", "PD105")
    return t


# --- containers -------------------------------------------------------------------------------


def zip_bytes(entries, compression=zipfile.ZIP_STORED, align=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if align:
                # torch aligns record data to 64 bytes with an extra field; any padding works.
                offset = buf.tell() + 30 + len(name.encode())
                pad = (-(offset + 4)) % 64
                info.extra = struct.pack("<HH", 0xCAFE, pad) + b"\x00" * pad
            z.writestr(info, data)
    return buf.getvalue()


def torch_zip(payload, prefix="archive", pkl_name="data.pkl"):
    return zip_bytes([(f"{prefix}/{pkl_name}", payload), (f"{prefix}/byteorder", b"little"),
                      (f"{prefix}/data/0", b"\x00" * 16), (f"{prefix}/version", b"3\n"),
                      (f"{prefix}/.data/serialization_id", b"0123456789")], align=True)


def corrupt_crcs(data):
    """Flips every CRC in local and central headers (torch does not check them)."""
    b = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        i = b.find(sig)
        while i >= 0:
            b[i + off:i + off + 4] = bytes(x ^ 0xFF for x in b[i + off:i + off + 4])
            i = b.find(sig, i + 4)
    return bytes(b)


def mismatch_local_names(data, old, new):
    """Renames an entry in its local header only (the central directory keeps `old`)."""
    assert len(old) == len(new)
    i = data.find(b"PK\x03\x04")
    j = data.find(old.encode(), i)
    return data[:j] + new.encode() + data[j + len(old):]


def benign_p2():
    return PROTO(2) + b"}" + u("weight") + b"G?\xf0\x00\x00\x00\x00\x00\x00s" + STOP


def legacy_torch(payload):
    """torch < 1.6: magic number, protocol version, sys info, the object, storage keys. The
    benign parts are plain data, written with pickle.dumps (writing, never loading)."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    proto = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                             "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    return magic + proto + sys_info + payload + pickle.dumps([], protocol=2)


def torch_tar(payload):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in [("sys_info", PROTO(2) + b"}" + STOP), ("pickle", payload),
                           ("storages", PROTO(2) + b"K\x00" + STOP), ("tensors", PROTO(2) + b"K\x00" + STOP)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npy_object(payload):
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * ((-(10 + len(header) + 1)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def joblib_zf(payload):
    return b"ZF" + hex(len(payload)).encode().ljust(19) + zlib.compress(payload)


def lzma_alone(payload):
    return lzma.compress(payload, format=lzma.FORMAT_ALONE)


def sevenz(entries):
    """A 7z archive (LZMA2) of (name, bytes) entries."""
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as z:
        for name, data in entries:
            z.writestr(data, name)
    return buf.getvalue()


def containers():
    """(name, extension, wrap(payload) -> bytes, whether the comparison uses it)."""
    return [
        ("raw", "pkl", lambda p: p, True),
        ("raw-named-pt", "pt", lambda p: p, False),
        ("raw-no-extension", "", lambda p: p, False),
        ("torch-zip", "pt", torch_zip, True),
        ("torch-zip-renamed-bin", "bin", torch_zip, False),
        ("torch-zip-other-prefix", "pth", lambda p: torch_zip(p, prefix="my_model"), False),
        ("torch-zip-bad-crc", "pt", lambda p: corrupt_crcs(torch_zip(p)), True),
        ("torch-zip-member-without-pkl", "pt", lambda p: torch_zip(p, pkl_name="extra_state"), True),
        ("torch-zip-mismatched-local-name", "pt",
         lambda p: mismatch_local_names(torch_zip(p), "archive/data.pkl", "archive/evil.pkl"), False),
        ("torch-zip-duplicate-entries", "pt",
         lambda p: zip_bytes([("archive/data.pkl", benign_p2()), ("archive/data.pkl", p), ("archive/version", b"3\n")]), False),
        ("torchscript", "pt", lambda p: zip_bytes([("archive/data.pkl", benign_p2()), ("archive/constants.pkl", p),
                                                   ("archive/code/__torch__.py", b"def forward(self):\n  pass\n"),
                                                   ("archive/version", b"3\n")]), False),
        ("torch-legacy", "pt", legacy_torch, True),
        ("torch-tar", "tar", torch_tar, False),
        ("joblib-zlib", "joblib", zlib.compress, True),
        ("joblib-gzip", "joblib", lambda p: gzip.compress(p, mtime=0), False),
        ("joblib-bz2", "joblib", bz2.compress, False),
        ("joblib-lzma", "joblib", lzma_alone, False),
        ("joblib-xz", "joblib", lzma.compress, False),
        ("joblib-lz4", "joblib", lz4.frame.compress, False),
        ("joblib-zfile", "pkl", joblib_zf, False),
        ("npy-object", "npy", npy_object, True),
        ("npz-stored", "npz", lambda p: zip_bytes([("arr_0.npy", npy_object(p))]), False),
        ("npz-deflated", "npz", lambda p: zip_bytes([("arr_0.npy", npy_object(p))], zipfile.ZIP_DEFLATED), True),
        ("zip-generic", "zip", lambda p: zip_bytes([("model/weights.pkl", p)], zipfile.ZIP_DEFLATED), False),
        ("zip-nested", "zip", lambda p: zip_bytes([("bundle/model.pt", torch_zip(p))], zipfile.ZIP_DEFLATED), True),
        ("7z-pickle", "7z", lambda p: sevenz([("model/data.pkl", p)]), True),
        ("7z-torch-zip", "7z", lambda p: sevenz([("pytorch_model.bin", torch_zip(p))]), False),
    ]


# Techniques the comparison also runs inside every container.
COMPARE_IN_CONTAINERS = {"global-reduce-p0", "stack-global-memo", "nested-pickle.loads"}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = []
    for cname, ext, wrap, compare_container in containers():
        os.makedirs(os.path.join(out, cname), exist_ok=True)
        for tname, payload, codes, severity in techniques() + trailing_techniques():
            rel = f"{cname}/{tname}" + (f".{ext}" if ext else "")
            with open(os.path.join(out, rel), "wb") as f:
                f.write(wrap(payload))
            if cname == "torch-legacy" and tname in ("truncated-after-reduce", "after-stop-cut-off-second-pickle"):
                # The storage-keys pickle that follows completes the stream.
                codes = [c for c in codes if c != "PD105"]
            files.append({"path": rel, "technique": tname, "container": cname, "expect": codes,
                          "severity": severity,
                          "compare": cname == "raw" or (compare_container and tname in COMPARE_IN_CONTAINERS)})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"files": files}, f, indent=1)
    print(f"{len(files)} hostile files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
