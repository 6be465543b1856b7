"""Model runtimes for the serving images. Each loads the model once and answers batches."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np


class ModelError(ValueError):
    """The request does not fit the model (answered with 400)."""


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def read_lines(path: str | None) -> list[str]:
    if not path or not Path(path).is_file():
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


# Types a .skops file may name beyond those skops itself trusts: scikit-learn's own tree and optimizer
# classes, found in the files of common estimators (forests, boosting, MLP). Never a function.
# Passing get_untrusted_types(file=...) as `trusted` (as this loader did) trusted exactly what skops
# flagged, `builtins.eval` included. More names, at the user's risk: skops-trusted.txt beside the model
# (one a line; the build writes it when the user ticks "I trust this file"), or env SKOPS_TRUSTED
# (comma-separated).
SKOPS_TRUSTED = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn._loss.link.Interval",
)


SKOPS_TRUSTED_FILE = "skops-trusted.txt"


class UntrustedModel(ValueError):
    """A model file names types that could run code when loaded; it is refused."""


def load_skops(path: str):
    import skops.io

    allowed = set(SKOPS_TRUSTED)
    allowed.update(t.strip() for t in os.environ.get("SKOPS_TRUSTED", "").split(",") if t.strip())
    allowed.update(read_lines(str(Path(path).with_name(SKOPS_TRUSTED_FILE))))
    untrusted = skops.io.get_untrusted_types(file=path)
    refused = [t for t in untrusted if t not in allowed]
    if refused:
        raise UntrustedModel(
            f"{Path(path).name} names types this server does not trust, so it is not loaded: "
            f"{', '.join(refused)} (a model file can run code through them)"
        )
    return skops.io.load(path, trusted=list(untrusted))


class SklearnModel:
    """A scikit-learn estimator from a .joblib/.pkl/.skops file."""

    framework = "scikit-learn"

    def __init__(self, path: str, labels: list[str]):
        self.path = path
        self.model = self._load(path)
        classes = getattr(self.model, "classes_", None)
        self.is_classifier = classes is not None and hasattr(self.model, "predict")
        self.labels = labels or ([str(c) for c in classes] if classes is not None else [])
        self.n_features = getattr(self.model, "n_features_in_", None)
        names = getattr(self.model, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else []

    @staticmethod
    def _load(path: str):
        if path.endswith(".skops"):
            return load_skops(path)
        import joblib

        return joblib.load(path)

    def _check_width(self, x: np.ndarray) -> None:
        if self.n_features is not None and x.shape[1] != self.n_features:
            raise ModelError(f"each row needs {self.n_features} values, got {x.shape[1]}")

    def scores(self, x: np.ndarray) -> np.ndarray:
        x = x.reshape(len(x), -1)
        self._check_width(x)
        if hasattr(self.model, "predict_proba"):
            return np.asarray(self.model.predict_proba(x), dtype=np.float64)
        if hasattr(self.model, "decision_function"):
            d = np.asarray(self.model.decision_function(x), dtype=np.float64)
            if d.ndim == 1:
                d = np.stack([-d, d], axis=1)
            return _softmax(d)
        pred = self.model.predict(x)
        classes = list(getattr(self.model, "classes_", []))
        out = np.zeros((len(x), len(classes)))
        for i, p in enumerate(pred):
            out[i, classes.index(p)] = 1.0
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = x.reshape(len(x), -1)
        self._check_width(x)
        return np.asarray(self.model.predict(x))


class LiteRTModel:
    """A .tflite model on the LiteRT runtime (or TensorFlow's own interpreter when that is installed)."""

    framework = "litert"

    def __init__(self, path: str, labels: list[str]):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # full TensorFlow image
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        self.path = path
        self.interpreter = Interpreter(model_path=path, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.lock = threading.Lock()  # one interpreter is not safe to use from two threads at once
        n = int(self.output["shape"][-1])
        self.labels = labels or [str(i) for i in range(n)]
        self.is_classifier = True
        self.n_features = None
        self.feature_names: list[str] = []

    def scores(self, x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32)
        want = tuple(int(d) for d in self.input["shape"][1:])
        if tuple(x.shape[1:]) != want:
            raise ModelError(f"the model takes input of shape [N, {', '.join(map(str, want))}]")
        rows = []
        with self.lock:
            for row in x:
                self.interpreter.set_tensor(self.input["index"], row[None, ...])
                self.interpreter.invoke()
                rows.append(np.array(self.interpreter.get_tensor(self.output["index"])[0]))
        out = np.stack(rows).astype(np.float64)
        if out.min() < 0 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
            out = _softmax(out)
        return out


class KerasModel:
    """A Keras model (.keras, .h5 or a SavedModel folder) on full TensorFlow."""

    framework = "tensorflow"

    def __init__(self, path: str, labels: list[str]):
        import tensorflow as tf

        self.path = path
        if Path(path).is_dir():
            self.model = tf.keras.layers.TFSMLayer(path, call_endpoint="serving_default")
            self.input_shape = _signature_input_shape(tf, path)
            self.call_kwargs: dict = {}
        else:
            self.model = tf.keras.models.load_model(path, compile=False)
            self.input_shape = tuple(self.model.input_shape[1:])
            self.call_kwargs = {"training": False}
        self.lock = threading.Lock()
        probe = self._call(np.zeros((1, *(self.input_shape or (8, 8, 1))), dtype=np.float32))
        self.labels = labels or [str(i) for i in range(probe.shape[-1])]
        self.is_classifier = True
        self.n_features = None
        self.feature_names: list[str] = []

    def _call(self, x: np.ndarray) -> np.ndarray:
        with self.lock:
            out = self.model(x, **self.call_kwargs)
        if isinstance(out, dict):
            out = next(iter(out.values()))
        return np.asarray(out, dtype=np.float64)

    def scores(self, x: np.ndarray) -> np.ndarray:
        if self.input_shape and tuple(x.shape[1:]) != self.input_shape:
            raise ModelError(f"the model takes input of shape [N, {', '.join(map(str, self.input_shape))}]")
        out = self._call(x.astype(np.float32))
        if out.min() < 0 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
            out = _softmax(out)
        return out


class OnnxModel:
    """An .onnx model on ONNX Runtime (CPU): the export of PyTorch, scikit-learn (skl2onnx), Keras (tf2onnx).

    Pictures arrive as [N, H, W, C]; they are reshaped to what the graph's first input takes: a flat
    [N, H*W*C] vector (scikit-learn), [N, H, W] or [N, C, H, W] (PyTorch). Class scores are the first
    2-D float output (one named like "prob" first), or skl2onnx's ZipMap list of {label: score}."""

    framework = "onnx"

    def __init__(self, path: str, labels: list[str]):
        # ONNX Runtime 1.29+ starts its telemetry when imported: it writes a device id into the home (which
        # the image's user lacks: a warning on every start) and sends events. Only this variable, read at
        # import, stops all of it (ORT_TELEMETRY_DISABLED still writes the id; microsoft/onnxruntime#29843).
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        ort.disable_telemetry_events()  # and no events should the environment have turned it back on
        options = ort.SessionOptions()
        # One thread per request: the server's worker pool runs requests side by side (Run is thread-safe).
        options.intra_op_num_threads = max(1, int(os.environ.get("AICS_ONNX_THREADS", "1") or 1))
        self.path = path
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        inputs = self.session.get_inputs()
        first = inputs[0]
        self.input_name = first.name
        self.input_type = np.float64 if first.type == "tensor(double)" else np.float32
        self.input_dims = [d if isinstance(d, int) and d > 0 else None for d in first.shape[1:]]
        # A graph with one input per column (skl2onnx from a DataFrame, or initial_types of [None, 1]):
        # each input gets its column of the rows, and the inputs' names are the feature names.
        tabular = len(inputs) > 1 and all(len(i.shape or []) in (1, 2) for i in inputs)
        self.columns = column_inputs(inputs) if tabular else []
        if self.columns:
            self.input_type, self.input_dims = np.float64, [len(self.columns)]
        self.output_names = [o.name for o in self.session.get_outputs()]
        scored = [o for o in self.session.get_outputs() if "float" in o.type or o.type.startswith("seq(map")]
        self.is_classifier = bool(scored) and not (len(self.output_names) == 1 and _one_column(scored[0]))
        self.n_features = self.input_dims[0] if len(self.input_dims) == 1 else None
        self.feature_names: list[str] = [c.name for c in self.columns]
        meta = self.session.get_modelmeta().custom_metadata_map or {}
        self.labels = labels or [v.strip() for v in meta.get("labels", "").replace("\n", ",").split(",") if v.strip()]
        if not self.labels and self.is_classifier and all(self.input_dims):
            self.scores(np.zeros((1, *self.input_dims), dtype=np.float32))  # sets the labels

    def _fit(self, x: np.ndarray) -> np.ndarray:
        dims = self.input_dims
        x = x.astype(self.input_type, copy=False)
        if len(dims) == 1:
            x = x.reshape(len(x), -1)
        elif len(dims) == 2 and x.ndim == 4 and x.shape[3] == 1:
            x = x[..., 0]
        elif len(dims) == 3 and x.ndim == 4 and not _fits(x.shape[1:], dims) and _fits(
            (x.shape[3], x.shape[1], x.shape[2]), dims
        ):
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW (PyTorch)
        if not _fits(x.shape[1:], dims):
            want = ", ".join("?" if d is None else str(d) for d in dims)
            raise ModelError(f"the model takes input of shape [N, {want}]")
        return x

    def _run(self, x: np.ndarray) -> list:
        if self.columns:
            x = self._fit(x)
            return self.session.run(None, {c.name: c.feed(x[:, i]) for i, c in enumerate(self.columns)})
        return self.session.run(None, {self.input_name: self._fit(x)})

    def scores(self, x: np.ndarray) -> np.ndarray:
        outs = dict(zip(self.output_names, self._run(x), strict=True))
        names = sorted(outs, key=lambda n: "prob" not in n.lower())
        for name in names:
            value = outs[name]
            if isinstance(value, list) and value and isinstance(value[0], dict):  # skl2onnx ZipMap
                keys = list(value[0])
                if not self.labels:
                    self.labels = [str(k) for k in keys]
                out = np.array([[row[k] for k in keys] for row in value], dtype=np.float64)
                break
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim == 2:
                out = value.astype(np.float64)
                break
        else:
            raise ModelError("the model gives no class scores (no 2-D float output)")
        if not self.labels:
            self.labels = [str(i) for i in range(out.shape[1])]
        if out.min() < 0 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
            out = _softmax(out)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self._run(x)[0]
        return np.asarray(out, dtype=np.float64).reshape(len(x), -1)[:, 0]


# ONNX Runtime's input types a column of numbers may have, and the numpy type it is fed as.
COLUMN_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                "tensor(int32)": np.int32, "tensor(int16)": np.int16, "tensor(int8)": np.int8,
                "tensor(uint64)": np.uint64, "tensor(uint32)": np.uint32, "tensor(uint16)": np.uint16,
                "tensor(uint8)": np.uint8}


class ColumnInput:
    """One input of a graph that takes one input per column: [N, 1] (or [N]) of a number type."""

    def __init__(self, name: str, dtype, rank: int):
        self.name, self.dtype, self.rank = name, np.dtype(dtype), rank

    def feed(self, values: np.ndarray) -> np.ndarray:
        """The column as this input takes it; integers must be whole and in the type's range."""
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            if not np.all(values == np.round(values)) or values.min() < info.min or values.max() > info.max:
                raise ModelError(f"{self.name} takes whole numbers ({self.dtype.name})")
        column = values.astype(self.dtype)
        return column.reshape(-1, 1) if self.rank == 2 else column


def column_inputs(inputs) -> list[ColumnInput]:
    """The graph's inputs as columns, in the graph's order; ModelError (said by the build's check too)
    when one is not a column of numbers."""
    columns = []
    for i in inputs:
        shape = list(i.shape or [])
        if len(shape) not in (1, 2) or (len(shape) == 2 and isinstance(shape[1], int) and shape[1] != 1):
            raise ModelError(f"the graph has {len(inputs)} inputs, and {i.name} takes {i.type} {shape}, not "
                             "one column [N, 1]: with several inputs, each must be one column of the rows")
        if i.type not in COLUMN_TYPES:
            raise ModelError(f"the column {i.name} takes {i.type} values, but rows hold numbers: only float, "
                             "double and integer columns can be served; encode the column as numbers (e.g. "
                             "scikit-learn's OrdinalEncoder) before converting the model")
        columns.append(ColumnInput(i.name, COLUMN_TYPES[i.type], len(shape)))
    return columns


def _fits(shape: tuple, dims: list) -> bool:
    return len(shape) == len(dims) and all(d is None or d == s for s, d in zip(shape, dims, strict=True))


def _one_column(output) -> bool:
    """A regressor's single output: [N] or [N, 1]."""
    shape = list(output.shape or [])
    return "float" in output.type and (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1))


def _signature_input_shape(tf, path: str) -> tuple | None:
    """[H, W, C] of a SavedModel's serving_default input (None when it is not fully known)."""
    signature = tf.saved_model.load(path).signatures["serving_default"]
    specs = list(signature.structured_input_signature[1].values())
    dims = specs[0].shape.as_list()[1:] if len(specs) == 1 else []
    return tuple(dims) if dims and all(d is not None for d in dims) else None


def load_model(config: dict):
    """The runtime for `config["model"]`, chosen by `config["runtime"]` or the file's extension.

    What the build prepared (dockerfiles/tensorflow-image/prepare_model.py, sklearn-image/to_onnx.py) is
    read instead of the file the user gave: for LiteRT the .tflite converted beside it, for ONNX Runtime
    the .onnx, for a zipped SavedModel its folder."""
    path = config["model"]
    labels = read_lines(config.get("labels"))
    runtime = config.get("runtime") or ""
    if runtime == "litert" and not path.endswith(".tflite"):
        path = str(Path(path).with_suffix(".tflite"))
    elif runtime == "onnxruntime" and not path.endswith(".onnx"):  # converted at build time (to_onnx.py)
        path = str(Path(path).with_suffix(".onnx"))
    elif path.endswith(".zip") and Path(path).with_suffix("").is_dir():
        path = str(Path(path).with_suffix(""))
    if runtime == "onnxruntime" or path.endswith(".onnx"):
        return OnnxModel(path, labels)
    if runtime == "litert" or path.endswith(".tflite"):
        return LiteRTModel(path, labels)
    if runtime == "tensorflow" or path.endswith((".keras", ".h5")) or Path(path).is_dir():
        return KerasModel(path, labels)
    return SklearnModel(path, labels)
