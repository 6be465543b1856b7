"""Which model a file or folder holds, by its content (the name is only a hint), and the form it fills.

Read, never loaded: zip directories and JSON (Keras, skops), the HDF5 signature, the TFLite
FlatBuffer's identifier and tensors, the ONNX protobuf's graph inputs and outputs, a pickle's opcodes.
"""

from __future__ import annotations

import functools
import json
import math
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from gui.models import tflite
from gui.models.compressed import OLD_JOBLIB, described
from gui.models.onnx_graph import NotOnnx, read_onnx
from gui.models.pickles import ScanReport, compression, is_pickle, iter_scan, verdict

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
LABELS_FILE = "labels.txt"
FEATURES_FILE = "features.txt"  # beside a tabular model: its column names, one a line
FEATURE_KEYS = ("features", "feature_names")  # ONNX metadata keys that may list them
KERAS_MODULES = ("keras", "tf_keras", "tensorflow")
SKOPS_TRUSTED_FILE = "skops_trusted.txt"  # made by tests/support/skops_trusted.py
# Every form field a drop may fill (ModelInfo.values, and Trusted model types by the trust tick): a new
# drop sets each one it does not fill back to the template's default, so the form describes that model only.
FILLED_FIELDS = ("model", "task", "features", "labels", "width", "height", "channels", "runtime", "trusted_types")


class NotAModel(ValueError):
    """The file is not a model the studio can serve; the message says what it is instead."""


@dataclass(frozen=True)
class ModelInfo:
    """What the studio read from a model file, and the template and form values it chose."""

    path: str
    format: str  # onnx | keras | keras-h5 | savedmodel | tflite | pickle | joblib | skops
    summary: str  # one line: "ONNX model from skl2onnx 1.20, opset 17: input float32 [N, 64], 10 classes"
    template: str = ""
    task: str = ""  # image-classification | tabular-classification | tabular-regression | ""
    input_shape: tuple = ()  # without the batch dimension; None for a dimension the file leaves free
    input_type: str = ""
    labels: tuple[str, ...] = ()
    labels_file: str = ""  # labels.txt beside the model
    values: dict = field(default_factory=dict)  # build form values to fill
    hints: tuple[str, ...] = ()  # what the user must still check or fill
    risks: tuple[str, ...] = ()  # parts that can run code when loaded (Lambda layers, custom objects)
    scan: ScanReport | None = None  # pickle-based files

    @property
    def needs_trust(self) -> bool:
        """Loading it may run code that is not on the allow-lists: the build needs the user's trust."""
        return bool(self.risks) or (self.scan is not None and not self.scan.safe)

    def risk(self) -> str:
        if self.scan is not None and not self.scan.safe:
            return self.scan.risk()
        if self.risks:
            return f"Loading {Path(self.path).name} can run code: " + "; ".join(self.risks)
        return ""


def iter_inspect(path: str | os.PathLike) -> Iterator[float | ModelInfo]:
    """Progress (0..1) while a pickle is scanned, then the ModelInfo. Raises NotAModel."""
    p = Path(path)
    if p.is_dir():
        yield _folder(p)
        return
    if not p.is_file():
        raise NotAModel(f"{p} does not exist")
    size = p.stat().st_size
    if size == 0:
        raise NotAModel(f"{p.name} is empty (0 bytes)")
    with open(p, "rb") as f:
        head = f.read(64)
    if head.startswith(HDF5_SIGNATURE):
        yield _keras_h5(p)
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        yield _zip(p)
    elif head[4:8] == b"TFL3":
        yield _tflite(p)
    elif is_pickle(head) or compression(head) or (head[:1] == b"\x80" and p.suffix in (".pkl", ".joblib")):
        report = None
        for item in iter_scan(p):
            if isinstance(item, ScanReport):
                report = item
            else:
                yield item
        yield _pickle(p, report)
    else:
        yield _onnx_or_nothing(p, head, size)


def inspect_model(path: str | os.PathLike) -> ModelInfo:
    """The same, blocking (the Build page runs `iter_inspect` off the UI thread)."""
    info = None
    for item in iter_inspect(path):
        if isinstance(item, ModelInfo):
            info = item
    assert info is not None
    return info


# -- helpers shared by the formats ------------------------------------------------------------------
def _labels_beside(p: Path) -> tuple[str, tuple[str, ...]]:
    return _lines_beside(p, LABELS_FILE)


def _lines_beside(p: Path, name: str) -> tuple[str, tuple[str, ...]]:
    f = (p if p.is_dir() else p.parent) / name
    if not f.is_file():
        return "", ()
    try:
        lines = [line.strip() for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return "", ()
    return str(f), tuple(lines)


def _picture(shape: tuple) -> tuple[int, int, int] | None:
    """(height, width, channels) when an input shape looks like a picture; None otherwise.

    [H, W, C] and [C, H, W] with C in 1/3, [H, W], or a flat vector of a square's size (scikit-learn
    models take load_digits' 8x8 pictures as 64 values)."""
    dims = [d for d in shape]
    if not dims or not all(isinstance(d, int) and d > 0 for d in dims):
        return None
    if len(dims) == 3:
        if dims[2] in (1, 3):
            return dims[0], dims[1], dims[2]
        if dims[0] in (1, 3):
            return dims[1], dims[2], dims[0]
        return None
    if len(dims) == 2:
        return dims[0], dims[1], 1
    if len(dims) == 1 and dims[0] >= 16:
        for c in (1, 3):
            side = math.isqrt(dims[0] // c)
            if side * side * c == dims[0]:
                return side, side, c
    return None


def _shape_text(shape: tuple) -> str:
    return "[N, " + ", ".join("?" if not isinstance(d, int) else str(d) for d in shape) + "]"


def _image_values(hwc, flat: bool) -> tuple[dict, tuple[str, ...]]:
    h, w, c = hwc
    values = {"height": h, "width": w, "channels": c}
    hints = ()
    if flat:
        hints = (f"The model takes {h * w * c} values: read as a {w}x{h} {'grey' if c == 1 else 'RGB'} "
                 "picture. Check Input scale and Training pictures (load_digits: 16, light-on-dark).",)
    return values, hints


def _with_labels(info: ModelInfo, p: Path) -> ModelInfo:
    labels_file, labels = _labels_beside(p)
    values = dict(info.values)
    hints = list(info.hints)
    if labels_file:
        values["labels"] = labels_file
        labels = labels
    else:
        labels = info.labels
        if not labels and info.task != "tabular-regression" and info.scan is None:
            hints.append(f"No {LABELS_FILE} beside the model: answers are labelled 0, 1, 2, ... unless "
                         "you choose a labels file.")
    return replace(info, values=values, labels=tuple(labels), labels_file=labels_file, hints=tuple(hints))


def _what_it_is(head: bytes, p: Path) -> str:
    if not head.strip():
        return "blank"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "binary data of no model format the studio knows"


# -- formats -----------------------------------------------------------------------------------------
def _folder(p: Path) -> ModelInfo:
    if (p / "saved_model.pb").is_file() or (p / "saved_model.pbtxt").is_file():
        info = ModelInfo(
            path=str(p), format="savedmodel", summary="TensorFlow SavedModel folder",
            template="tensorflow-image", task="image-classification",
            values={"model": str(p)},
            hints=("A SavedModel's input size is read only when it is built: check Input width, height and "
                   "channels.",),
        )
        return _with_labels(info, p)
    if not any(p.iterdir()):
        raise NotAModel(f"{p.name} is an empty folder, not a SavedModel (that has a saved_model.pb)")
    raise NotAModel(f"{p.name} is a folder without saved_model.pb, so not a TensorFlow SavedModel")


def _zip(p: Path) -> ModelInfo:
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            if "config.json" in names and ({"model.weights.h5", "metadata.json"} & names):
                config = json.loads(z.read("config.json"))
                return _keras(p, config, "keras", "Keras 3 model (.keras)")
            if "schema.json" in names:
                return _skops(p, json.loads(z.read("schema.json")))
            if any(n.endswith("data.pkl") for n in names):
                raise NotAModel(f"{p.name} is a PyTorch checkpoint: export it to ONNX "
                                "(torch.onnx.export) and drop the .onnx file")
            if any(n.endswith("saved_model.pb") for n in names):
                raise NotAModel(f"{p.name} is a zipped SavedModel: choose the tensorflow-image template "
                                "and this .zip as its model, or drop the unzipped folder")
    except zipfile.BadZipFile as exc:
        raise NotAModel(f"{p.name} is a damaged zip file ({exc}): a truncated .keras or .skops?") from None
    except (KeyError, ValueError, OSError) as exc:
        raise NotAModel(f"{p.name} is a zip file whose model description cannot be read: {exc}") from None
    raise NotAModel(f"{p.name} is a zip file, but neither a Keras model (config.json) nor a skops file "
                    "(schema.json)")


def _keras_layers(config: dict) -> list[dict]:
    layers = (config.get("config") or {}).get("layers") or []
    out = []
    for layer in layers:
        if isinstance(layer, dict):
            out.append(layer)
            out.extend(_keras_layers(layer))  # nested models
    return out


def _keras(p: Path, config: dict, fmt: str, what: str) -> ModelInfo:
    if not isinstance(config, dict) or "class_name" not in config:
        raise NotAModel(f"{p.name} has a config.json that is not a Keras model description")
    layers = _keras_layers(config)
    shape = None
    build = config.get("build_config") or {}
    if isinstance(build.get("input_shape"), list):
        shape = build["input_shape"]
    for layer in layers:
        if shape is None and layer.get("class_name") == "InputLayer":
            cfg = layer.get("config") or {}
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if shape is None:
        first = (layers[0].get("config") or {}) if layers else {}
        shape = first.get("batch_input_shape") or first.get("batch_shape")
    risks = []
    for layer in layers:
        module = str(layer.get("module") or "keras")
        name = layer.get("class_name", "?")
        if name == "Lambda":
            risks.append(f"layer {layer.get('config', {}).get('name', '?')} is a Lambda layer (Python code "
                         "inside the file, refused by Keras safe_mode)")
        elif not module.startswith(KERAS_MODULES) or ">" in str(layer.get("registered_name") or ""):
            risks.append(f"layer {name} comes from {module} (custom code the image must import)")
    units = None
    for layer in reversed(layers):
        if layer.get("class_name") == "Dense":
            units = (layer.get("config") or {}).get("units")
            break
    dims = tuple(shape[1:]) if isinstance(shape, list) and shape else ()
    hwc = _picture(dims)
    values: dict = {"model": str(p)}
    hints = []
    if hwc:
        v, _ = _image_values(hwc, flat=False)
        values.update(v)
    else:
        hints.append("The input size was not found in the model: check Input width, height and channels.")
    summary = f"{what}: {config.get('class_name')}, {len(layers)} layers, input {_shape_text(dims)}"
    if units:
        summary += f", {units} outputs"
    info = ModelInfo(path=str(p), format=fmt, summary=summary, template="tensorflow-image",
                     task="image-classification", input_shape=dims, input_type="float32", values=values,
                     hints=tuple(hints), risks=tuple(risks))
    return _with_labels(info, p)


def _keras_h5(p: Path) -> ModelInfo:
    """An HDF5 file: Keras keeps its model_config JSON as an attribute; found in the raw bytes."""
    with open(p, "rb") as f:
        data = f.read(64 << 20)
    decoder = json.JSONDecoder()
    for marker in (b'{"class_name"', b'{"module"'):
        at = data.find(marker)
        while at >= 0:
            try:
                config, _ = decoder.raw_decode(data[at:at + (8 << 20)].decode("utf-8", "replace"))
                if isinstance(config, dict) and "config" in config:
                    return _keras(p, config, "keras-h5", "Keras HDF5 model (.h5)")
            except ValueError:
                pass
            at = data.find(marker, at + 1)
    raise NotAModel(f"{p.name} is an HDF5 file without a Keras model_config (weights only?)")


def _tflite(p: Path) -> ModelInfo:
    try:
        model = tflite.read_tflite(p.read_bytes())
    except tflite.NotTflite as exc:
        raise NotAModel(f"{p.name} has the TFLite identifier but {exc}") from None
    dims = tuple(model.input_shape[1:])
    hwc = _picture(dims)
    values: dict = {"model": str(p), "runtime": "litert"}
    hints = []
    if hwc:
        v, _ = _image_values(hwc, flat=False)
        values.update(v)
    else:
        hints.append("The input is not a picture's shape: check Input width, height and channels.")
    summary = (f"TFLite model: input {model.input_type} {_shape_text(dims)}, output "
               f"{_shape_text(tuple(model.output_shape[1:]))}")
    info = ModelInfo(path=str(p), format="tflite", summary=summary, template="tensorflow-image",
                     task="image-classification", input_shape=dims, input_type=model.input_type,
                     values=values, hints=tuple(hints))
    return _with_labels(info, p)


def _onnx_or_nothing(p: Path, head: bytes, size: int) -> ModelInfo:
    if size > (2 << 30):
        raise NotAModel(f"{p.name} is over 2 GB: ONNX files that large keep their weights outside")
    try:
        graph = read_onnx(p.read_bytes())
    except NotOnnx as exc:
        what = _what_it_is(head, p)
        named = f" (named {p.suffix})" if p.suffix else ""
        raise NotAModel(f"{p.name}{named} is {what}, not a model: neither ONNX ({exc}) nor a pickle, "
                        "Keras, TFLite or skops file") from None
    first = graph.inputs[0]
    dims = tuple(first.shape[1:]) if first.shape else ()
    labels = graph.class_labels
    if not labels and graph.metadata.get("labels"):
        labels = tuple(v.strip() for v in graph.metadata["labels"].replace("\n", ",").split(",") if v.strip())
    outs = ", ".join(f"{o.name} {o.elem_type}" for o in graph.outputs)
    takes = f"input {first.name} {first.elem_type} {_shape_text(dims)}"
    if _columns(graph):
        types = sorted({t.elem_type for t in graph.inputs})
        takes = f"one input per column, {len(graph.inputs)} columns ({', '.join(types)})"
    summary = (f"ONNX model{' from ' + graph.producer if graph.producer else ''}, opset "
               f"{graph.opsets.get('ai.onnx', '?')}: {takes}; "
               f"outputs {outs}" + (f"; {len(labels)} classes" if labels else ""))
    if _columns(graph):
        return _with_labels(_onnx_columns(p, graph, labels, summary), p)
    if _takes_rows(graph, dims):
        return _with_labels(_onnx_rows(p, graph, dims, labels, summary), p)
    hwc = _picture(dims)
    values: dict = {"model": str(p)}
    hints = []
    task = "image-classification"
    if hwc:
        v, h = _image_values(hwc, flat=len(dims) == 1)
        values.update(v)
        hints.extend(h)
        if len(dims) == 1:
            hints.append(f"Rows of {dims[0]} numbers that are not pictures: choose the onnx-tabular template.")
    else:
        hints.append(f"The input {_shape_text(dims)} is not a picture's shape; the onnx-image template "
                     "takes pictures: check Input width, height and channels.")
    info = ModelInfo(path=str(p), format="onnx", summary=summary, template="onnx-image", task=task,
                     input_shape=dims, input_type=first.elem_type, labels=labels, values=values,
                     hints=tuple(hints))
    return _with_labels(info, p)


def _one_number(graph) -> bool:
    """A regressor's graph: one float output of [N] or [N, 1] (skl2onnx's "variable")."""
    if len(graph.outputs) != 1 or not graph.outputs[0].elem_type.startswith("float"):
        return False
    shape = graph.outputs[0].shape
    return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)


def _takes_rows(graph, dims: tuple) -> bool:
    """Rows of numbers [N, features] rather than pictures: a rank-2 input, unless the graph is a classifier
    whose row is a square picture of side 8 or more (load_digits' 64 values, MNIST's 784)."""
    if len(dims) != 1:
        return False
    hwc = _picture(dims)
    return _one_number(graph) or hwc is None or min(hwc[:2]) < 8


COLUMN_TYPES = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _columns(graph) -> bool:
    """One input per column (skl2onnx from a DataFrame, or initial_types of [None, 1] each): several
    inputs, each [N] or [N, k]."""
    return len(graph.inputs) > 1 and all(len(t.shape) in (1, 2) for t in graph.inputs)


def _onnx_columns(p: Path, graph, labels: tuple, summary: str) -> ModelInfo:
    """The onnx-tabular form of a graph that takes one input per column: the inputs' names are the
    features (the server feeds each input its column of the rows, in the graph's order)."""
    task = "tabular-regression" if _one_number(graph) else "tabular-classification"
    names = [t.name for t in graph.inputs]
    hints = []
    wide = [f"{t.name} {_shape_text(t.shape[1:])}" for t in graph.inputs
            if len(t.shape) == 2 and isinstance(t.shape[1], int) and t.shape[1] != 1]
    if wide:
        hints.append(f"Inputs that are not one column: {', '.join(wide)}; the server gives each input one column, "
                     "so the build will fail.")
    other = [f"{t.name} ({t.elem_type})" for t in graph.inputs if t.elem_type not in COLUMN_TYPES]
    if other:
        hints.append(f"Columns that are not numbers: {', '.join(other)}; rows hold numbers, so the build will fail: "
                     "encode them as numbers (e.g. OrdinalEncoder) before converting the model.")
    return ModelInfo(path=str(p), format="onnx", summary=summary, template="onnx-tabular", task=task,
                     input_shape=(len(names),), input_type=", ".join(sorted({t.elem_type for t in graph.inputs})),
                     labels=() if task == "tabular-regression" else labels,
                     values={"model": str(p), "task": task, "features": names}, hints=tuple(hints))


def _feature_names(graph, p: Path) -> tuple[str, list[str]]:
    """(where from, names): the metadata's "features" or "feature_names", else features.txt beside."""
    for key in FEATURE_KEYS:
        names = [v.strip() for v in graph.metadata.get(key, "").replace("\n", ",").split(",") if v.strip()]
        if names:
            return f"the model's metadata ({key})", names
    _, names = _lines_beside(p, FEATURES_FILE)
    return (FEATURES_FILE, list(names)) if names else ("", [])


def _onnx_rows(p: Path, graph, dims: tuple, labels: tuple, summary: str) -> ModelInfo:
    """The onnx-tabular form: regression or classification from the outputs, the features' number and names."""
    first = graph.inputs[0]
    n = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else None
    task = "tabular-regression" if _one_number(graph) else "tabular-classification"
    values: dict = {"model": str(p), "task": task}
    hints = []
    source, names = _feature_names(graph, p)
    if names and n is not None and len(names) != n:
        hints.append(f"{source} names {len(names)} features but the model takes {n} values a row: the names "
                     "were left out.")
        names = []
    if names:
        values["features"] = names
    elif n is not None:
        values["features"] = [f"x{i}" for i in range(n)]
        hints.append(f"The model takes {n} values a row: name them in Feature names (now x0 to x{n - 1}).")
    else:
        hints.append("The graph leaves the number of values a row free: list the features in Feature names.")
    if first.elem_type not in ("float32", "float64"):
        hints.append(f"The input is {first.elem_type}: the server sends float rows, so the build will fail; "
                     "convert the model with a float input.")
    if len(graph.inputs) > 1:
        hints.append(f"The graph has {len(graph.inputs)} inputs, not all of them columns: the server takes rows "
                     "for one input, or one column [N, 1] per input, so the build will fail.")
    return ModelInfo(path=str(p), format="onnx", summary=summary, template="onnx-tabular", task=task,
                     input_shape=dims, input_type=first.elem_type,
                     labels=() if task == "tabular-regression" else labels, values=values, hints=tuple(hints))


def _pickle(p: Path, report: ScanReport | None) -> ModelInfo:
    assert report is not None
    if not report.complete and not report.globals:
        if report.compression:
            how = (OLD_JOBLIB if report.compression == "zf"
                   else f"{report.compression}-compressed (as joblib.dump(..., compress=...) writes)")
            raise NotAModel(f"{p.name} is {how}, but {report.problem}")
        raise NotAModel(f"{p.name} starts like a pickle but is not one ({report.problem})")
    facts = report.facts
    estimator = facts.get("estimator", "")
    n = facts.get("n_features_in_")
    classifier = facts.get("is_classifier", False)
    values: dict = {"model": str(p)}
    hints = []
    hwc = _picture((n,)) if isinstance(n, int) else None
    if classifier or not estimator.startswith("sklearn."):
        template, task = "sklearn-image", "image-classification"
        if hwc:
            v, h = _image_values(hwc, flat=True)
            values.update(v)
            hints.extend(h)
        else:
            hints.append("The number of input values was not found or is not a square picture's: check "
                         "Input width, height and channels.")
    else:
        template, task = "sklearn-regression", "tabular-regression"
        if n:
            hints.append(f"The model takes {n} values a row: name them in Feature names.")
    if report.compression == "lz4":  # joblib loads it only with the lz4 package (joblib/compressor.py)
        hints.append("The file is lz4-compressed: the build adds lz4 to the image's packages (joblib reads "
                     "it only with lz4), unless Packages name it.")
    fmt = report.kind
    what = "joblib file" if fmt == "joblib" else "pickle"
    if report.compression:
        what = described(report.compression, what)
    summary = (f"scikit-learn {what}: {estimator or 'an object'}"
               + (f", {n} input values" if n else "") + (", a classifier" if classifier else ""))
    if not report.safe:
        summary += f"; {len(report.offending)} globals not on the allow-list"
    info = ModelInfo(path=str(p), format=fmt, summary=summary, template=template, task=task,
                     input_shape=(n,) if n else (), input_type="float64", values=values,
                     hints=tuple(hints), scan=report)
    return _with_labels(info, p)


def _skops_types(node, found: dict) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("__module__"), str) and isinstance(node.get("__class__"), str):
            found[(node["__module__"], node["__class__"])] = True
        for value in node.values():
            _skops_types(value, found)
    elif isinstance(node, list):
        for value in node:
            _skops_types(value, found)


@functools.cache
def skops_trusted() -> frozenset[str]:
    """The types the serving image's skops loader trusts without being told (skops_trusted.txt)."""
    text = (Path(__file__).with_name(SKOPS_TRUSTED_FILE)).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def skops_verdict(module: str, name: str) -> str:
    """As the image's loader sees a type a .skops file names: safe only on its list, so the form asks for
    trust exactly where the image would refuse (a scikit-learn helper class or numpy.clip included)."""
    v = verdict(module, name)
    if v == "dangerous":
        return v
    return "safe" if f"{module}.{name}" in skops_trusted() else "unknown"


def _skops(p: Path, schema: dict) -> ModelInfo:
    """A .skops file: its schema.json names every type it holds (skops never unpickles)."""
    from gui.models.pickles import GlobalRef

    found: dict = {}
    _skops_types(schema, found)
    refs = tuple(sorted((GlobalRef(m, c, skops_verdict(m, c), called=True) for m, c in found),
                        key=lambda g: (g.verdict == "safe", g.qualname)))
    content = schema.get("content") if isinstance(schema, dict) else None
    n = None
    classifier = False
    stack = [content]
    while stack:  # the first n_features_in_ and any classes_ in the tree
        node = stack.pop(0)
        if isinstance(node, dict):
            if n is None and isinstance(node.get("n_features_in_"), dict):
                value = node["n_features_in_"].get("content")
                n = int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None
            if "classes_" in node:
                classifier = True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    root = f"{schema.get('__module__', '')}.{schema.get('__class__', '')}".strip(".")
    report = ScanReport(path=str(p), kind="skops", globals=refs, complete=True,
                        facts={"n_features_in_": n, "is_classifier": classifier, "estimator": root})
    info = _pickle(p, report)
    summary = info.summary.replace("scikit-learn pickle", "scikit-learn skops file")
    if not report.safe:
        summary += " (the serving image refuses types outside its allow-list)"
    return replace(info, format="skops", summary=summary)
