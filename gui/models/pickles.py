"""A static scan of pickle-based model files (.pkl, .joblib): what loading them would import and call.

Nothing is unpickled. `pickletools.genops` reads the opcodes one by one and a small symbolic stack
follows them, so the scan knows which imported global each REDUCE/NEWOBJ/INST calls, and which state a
scikit-learn estimator carries (`n_features_in_`, `classes_`) to fill the form.

Why not picklescan (MIT, maintained, used by the Hugging Face Hub)? It stops at the first array of a
joblib file: joblib writes each array's raw bytes inside the pickle stream, right after a
`NumpyArrayWrapper`, and picklescan 1.0.5 reports a parse error and skips the rest, so a global placed
after an array goes unseen (tests/unit/test_pickle_scan.py has that file). This scan steps over the
raw bytes as joblib's own reader does (shape x dtype size, alignment padding, nested pickles for object
arrays). fickling (LGPL-3.0) and modelscan (many dependencies) were heavier for the same gap.

A global is "safe" only on an allow-list (numpy, scipy, scikit-learn, joblib's array wrappers and a few
data types of the standard library), "dangerous" on a deny-list (os, subprocess, eval, exec, ...), and
"unknown" otherwise; both of the latter need the user's explicit trust, and so does a file the scan
cannot read to its end.
"""

from __future__ import annotations

import io
import os
import pickletools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gui.models.compressed import CompressedError, compression, open_decompressed, stream_name

SAFE_PREFIXES = ("numpy", "scipy", "sklearn")
SAFE_NAMES = {
    "builtins": {"set", "frozenset", "slice", "complex", "bytearray", "bytes", "dict", "list", "tuple",
                 "int", "float", "bool", "str", "range", "object"},
    "copyreg": {"_reconstructor"},
    "_codecs": {"encode"},
    "collections": {"OrderedDict", "defaultdict", "Counter", "deque"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "joblib.numpy_pickle": {"NumpyArrayWrapper", "NDArrayWrapper", "ZNDArrayWrapper"},
}
# Modules and names that run code or reach the system. Checked before the allow-list, so that
# numpy.testing's runstring (an exec) is dangerous although numpy is safe.
DANGEROUS_PREFIXES = (
    "os", "posix", "nt", "subprocess", "sys", "importlib", "runpy", "shutil", "socket", "pickle", "_pickle",
    "marshal", "types", "ctypes", "code", "codeop", "pty", "webbrowser", "http", "urllib", "requests",
    "asyncio", "multiprocessing", "threading", "signal", "pdb", "bdb", "timeit", "operator", "functools",
    "inspect", "platform", "commands", "__builtin__", "_io", "io", "pathlib", "tempfile", "glob",
    "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib", "numpy.lib.npyio",
    "sklearn.utils._testing", "torch.serialization", "dill", "cloudpickle",
)
DANGEROUS_BUILTINS = {"eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
                      "globals", "locals", "vars", "input", "breakpoint", "exit", "quit", "help", "memoryview"}
DANGEROUS_NAMES = {"eval", "exec", "system", "popen", "spawn", "execfile", "runstring", "load", "loads",
                   "loadtxt", "fromfile", "call", "check_output", "run"}


@dataclass(frozen=True)
class GlobalRef:
    """One global the file names: loading the file would import `module` and take `name` from it."""

    module: str
    name: str
    verdict: str  # safe | unknown | dangerous
    called: bool = False  # the file calls it (REDUCE, NEWOBJ, INST, OBJ)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class ScanReport:
    """What a pickle-based file would import; `problem` when the scan could not read it all."""

    path: str
    kind: str  # pickle | joblib
    globals: tuple[GlobalRef, ...]
    complete: bool
    problem: str = ""
    facts: dict = field(default_factory=dict, compare=False)  # n_features_in_, is_classifier, estimator
    seconds: float = 0.0
    compression: str = ""  # zlib | gzip | bz2 | xz | lzma | lz4 | zf (joblib's compress=...), or ""

    @property
    def offending(self) -> tuple[GlobalRef, ...]:
        return tuple(g for g in self.globals if g.verdict != "safe")

    @property
    def safe(self) -> bool:
        return self.complete and not self.offending

    def risk(self) -> str:
        """One sentence naming the risk ("" for a safe file)."""
        if self.safe:
            return ""
        parts = []
        dangerous = [g.qualname for g in self.offending if g.verdict == "dangerous"]
        unknown = [g.qualname for g in self.offending if g.verdict == "unknown"]
        if dangerous:
            parts.append("it would run " + ", ".join(dangerous))
        if unknown:
            parts.append("it would import code the scan does not know: " + ", ".join(unknown))
        if not self.complete:
            parts.append(f"the scan could not read all of it ({self.problem})")
        return f"Loading {Path(self.path).name} can run code on the machine that loads it: " + "; ".join(parts)


def verdict(module: str, name: str) -> str:
    top = name.split(".")[0]
    if module in ("builtins", "__builtin__") and top in DANGEROUS_BUILTINS:
        return "dangerous"
    if _under(module, DANGEROUS_PREFIXES) or top in DANGEROUS_NAMES:
        return "dangerous"
    if top in SAFE_NAMES.get(module, ()):
        return "safe"
    if _under(module, SAFE_PREFIXES):
        return "safe"
    return "unknown"


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


class _Global:
    def __init__(self, module: str, name: str):
        self.module, self.name = module, name


class _Call:
    def __init__(self, func, args):
        self.func, self.args = func, args
        self.state = None


# Opcodes whose argument, as genops decodes it, is the value they push.
_VALUES = frozenset({"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
                     "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
                     "BINUNICODE8"})
_MARK = object()
_UNKNOWN = object()
_ITEMSIZE = {"b": 1, "i": None, "u": None, "f": None, "c": None, "m": None, "M": None, "S": 1, "a": 1,
             "U": 4, "V": 1, "?": 1}


class _Scanner:
    def __init__(self, f, size: int, compressed: bool = False, read_so_far: Callable[[], int] | None = None):
        self.f = f
        self.size = max(size, 1)
        self.compressed = compressed  # then positions are in the uncompressed stream
        self.read_so_far = read_so_far  # bytes of the file read, for progress (compressed: not `pos`)
        self.refs: dict[tuple[str, str], GlobalRef] = {}
        self.facts: dict = {}
        self.joblib = False
        self.root = None

    def ref(self, module: str, name: str, called: bool = False) -> None:
        key = (module, name)
        old = self.refs.get(key)
        if old is None or (called and not old.called):
            self.refs[key] = GlobalRef(module, name, verdict(module, name), called or bool(old and old.called))

    def scan_one(self) -> Iterator[float]:
        """One pickle, from its PROTO to its STOP (joblib's array bytes stepped over on the way);
        yields the fraction of the file read, about once a megabyte."""
        stack: list = []
        memo: dict = {}
        next_report = 0
        for op, arg, pos in pickletools.genops(self.f):
            name = op.name
            if pos is not None and pos >= next_report:
                yield min(0.99, (self.read_so_far() if self.read_so_far else pos) / self.size)
                next_report = pos + (1 << 20)
            if name == "STOP":
                self.root = stack[-1] if stack else None
                return
            if self._step(name, arg, stack, memo):
                yield from self.scan_one()  # an object array's nested pickle (joblib)
        raise ValueError("the pickle ends without STOP")

    def _pop_mark(self, stack: list) -> list:
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise ValueError("MARK missing")

    def _call(self, func, args, stack: list) -> None:
        if isinstance(func, _Global):
            self.ref(func.module, func.name, called=True)
        else:  # calling something the file computed: nothing on the allow-list needs that
            self.ref("<computed>", "callable", called=True)
        stack.append(_Call(func, args))

    def _step(self, name: str, arg, stack: list, memo: dict) -> bool:  # noqa: C901 - one opcode per branch
        """Follow one opcode; True when a nested pickle follows in the file."""
        if name in _VALUES:  # most opcodes of a big pickle: checked first
            stack.append(arg)
            return False
        if name in ("PROTO", "FRAME", "READONLY_BUFFER"):
            return False
        if name == "MARK":
            stack.append(_MARK)
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            self.ref(module, attr, called=name == "INST")
            if name == "INST":
                stack.append(_Call(_Global(module, attr), self._pop_mark(stack)))
            else:
                stack.append(_Global(module, attr))
        elif name == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            if not isinstance(module, str) or not isinstance(attr, str):
                module, attr = "<computed>", "global"
            self.ref(module, attr)
            stack.append(_Global(module, attr))
        elif name == "REDUCE" or name == "NEWOBJ":
            args = stack.pop()
            self._call(stack.pop(), args, stack)
        elif name == "NEWOBJ_EX":
            stack.pop()
            args = stack.pop()
            self._call(stack.pop(), args, stack)
        elif name == "OBJ":
            items = self._pop_mark(stack)
            if not items:
                raise ValueError("OBJ without a class")
            self._call(items[0], items[1:], stack)
        elif name == "BUILD":
            state = stack.pop()
            obj = stack[-1] if stack else None
            if isinstance(obj, _Call):
                obj.state = state
                return self._built(obj, state)
        elif name in ("EXT1", "EXT2", "EXT4"):
            self.ref("copyreg", f"extension {arg}")
            stack.append(_UNKNOWN)
        elif name in ("PERSID", "BINPERSID"):
            if name == "BINPERSID":
                stack.pop()
            self.ref("<persistent_load>", "id")
            stack.append(_UNKNOWN)
        elif name in ("EMPTY_LIST",):
            stack.append([])
        elif name == "EMPTY_DICT":
            stack.append({})
        elif name in ("EMPTY_TUPLE",):
            stack.append(())
        elif name == "EMPTY_SET":
            stack.append([])
        elif name == "LIST":
            stack.append(self._pop_mark(stack))
        elif name in ("TUPLE", "FROZENSET"):
            stack.append(tuple(self._pop_mark(stack)))
        elif name == "DICT":
            items = self._pop_mark(stack)
            stack.append(_pairs(items))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "APPEND":
            value = stack.pop()
            if isinstance(stack[-1], list):
                stack[-1].append(value)
        elif name in ("APPENDS", "ADDITEMS"):
            items = self._pop_mark(stack)
            if isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif name == "SETITEM":
            value, key = stack.pop(), stack.pop()
            if isinstance(stack[-1], dict):
                _put(stack[-1], key, value)
        elif name == "SETITEMS":
            items = self._pop_mark(stack)
            if isinstance(stack[-1], dict):
                stack[-1].update(_pairs(items))
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            self._pop_mark(stack)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if arg not in memo:
                raise ValueError(f"memo {arg} read before it was written")
            stack.append(memo[arg])
        elif name == "NEXT_BUFFER":
            stack.append(_UNKNOWN)
        elif name in ("NONE",):
            stack.append(None)
        elif name == "NEWTRUE":
            stack.append(True)
        elif name == "NEWFALSE":
            stack.append(False)
        elif name.endswith(("BYTES", "BYTES8", "BYTEARRAY8")):
            stack.append(_UNKNOWN if len(arg) > 4096 else bytes(arg))
        else:  # numbers and strings: genops decoded the value
            stack.append(arg)
        return False

    def _built(self, obj: _Call, state) -> bool:
        func = obj.func
        if not isinstance(func, _Global):
            return False
        if func.module == "joblib.numpy_pickle" and func.name == "NumpyArrayWrapper":
            self.joblib = True
            return self._skip_array(state)
        if func.module.startswith("sklearn") and isinstance(state, dict):
            n = state.get("n_features_in_")
            if isinstance(n, int) and "n_features_in_" not in self.facts:
                self.facts["n_features_in_"] = n
            if "classes_" in state:
                self.facts["is_classifier"] = True
        return False

    def _skip_array(self, state) -> bool:
        """Step over the array bytes joblib wrote right after this wrapper (joblib's read_array)."""
        if not isinstance(state, dict):
            raise ValueError("a joblib array without its description")
        shape, dtype = state.get("shape"), _dtype_str(state.get("dtype"))
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape) or not dtype:
            raise ValueError("a joblib array whose shape or type the scan cannot read")
        if dtype.lstrip("<>|=").startswith("O"):  # object arrays: a nested pickle follows
            return True
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self.f.read(1)
            if not pad:
                raise ValueError("the file ends inside an array")
            self.f.seek(pad[0], io.SEEK_CUR)
        count = 1
        for d in shape:
            count *= d
        skip = count * _itemsize(dtype)
        if not self.compressed and self.f.tell() + skip > self.size:
            raise ValueError("the file ends inside an array")
        self.f.seek(skip, io.SEEK_CUR)
        return False


def _pairs(items: list) -> dict:
    out: dict = {}
    for i in range(0, len(items) - 1, 2):
        _put(out, items[i], items[i + 1])
    return out


def _put(d: dict, key, value) -> None:
    try:
        d[key] = value
    except TypeError:  # an unhashable symbolic key
        pass


def _dtype_str(dtype) -> str:
    """'f8', '<U5', 'O8' ... from numpy.dtype(...) as the pickle builds it."""
    if isinstance(dtype, _Call) and isinstance(dtype.func, _Global) and dtype.func.name == "dtype":
        args = dtype.args if isinstance(dtype.args, tuple) else ()
        if args and isinstance(args[0], str):
            return args[0]
    return ""


def _itemsize(dtype: str) -> int:
    m = re.fullmatch(r"[<>|=]?([a-zA-Z?])(\d*)", dtype)
    if not m:
        raise ValueError(f"an array of type {dtype!r} the scan cannot size")
    kind, digits = m.group(1), m.group(2)
    if kind not in _ITEMSIZE or (not digits and kind != "?"):
        raise ValueError(f"an array of type {dtype!r} the scan cannot size")
    return (_ITEMSIZE[kind] or 1) * int(digits or 1)


def is_pickle(head: bytes) -> bool:
    """A pickle of protocol 2 or later starts with PROTO n."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def iter_scan(path: str | os.PathLike) -> Iterator[float | ScanReport]:
    """Yields progress (0..1) now and then, and the ScanReport last. Never unpickles anything."""
    import time

    t0 = time.perf_counter()
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        head = raw.read(32)
        raw.seek(0)
        kind = compression(head)
        problem = ""
        count = 0
        f = raw
        scanner = _Scanner(raw, size, compressed=bool(kind), read_so_far=raw.tell if kind else None)
        try:
            if kind:  # a compressed joblib file: the same scan on the stream it holds
                f = scanner.f = open_decompressed(raw, kind)
            while not _at_end(f):
                yield from scanner.scan_one()
                count += 1
        except CompressedError as exc:  # a sentence already: cut, damaged, or over the limit
            problem = str(exc)
        except (ValueError, IndexError, EOFError, OSError, UnicodeDecodeError) as exc:
            # IndexError: popping an empty stack; ValueError: genops meets a byte that is no opcode.
            where = "of the decompressed data" if kind else ""
            if count or scanner.refs:
                problem = f"{exc} at byte {_tell(f)} {where}".rstrip()
            else:
                problem = f"the {stream_name(kind)} data holds no pickle: {exc}" if kind else f"not a pickle: {exc}"
    facts = dict(scanner.facts)
    root = scanner.root
    if isinstance(root, _Call) and isinstance(root.func, _Global):
        facts["estimator"] = f"{root.func.module}.{root.func.name}"
    yield ScanReport(
        path=str(path),
        kind="joblib" if scanner.joblib else "pickle",
        globals=tuple(sorted(scanner.refs.values(), key=lambda g: (g.verdict == "safe", g.qualname))),
        complete=not problem,
        problem=problem,
        facts=facts,
        seconds=time.perf_counter() - t0,
        compression=kind,
    )


def _at_end(f) -> bool:
    if hasattr(f, "peek_end"):
        return f.peek_end()
    at = f.tell()
    if not f.read(1):
        return True
    f.seek(at)
    return False


def _tell(f) -> int:
    try:
        return f.tell()
    except (OSError, ValueError):
        return -1


def scan_pickle(path: str | os.PathLike, progress: Callable[[float], None] | None = None) -> ScanReport:
    """The whole scan at once (blocking: the Build page runs `iter_scan` off the UI thread)."""
    for item in iter_scan(path):
        if isinstance(item, ScanReport):
            return item
        if progress is not None:
            progress(item)
    raise AssertionError("iter_scan ends with its report")
