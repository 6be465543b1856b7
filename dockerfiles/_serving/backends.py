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
# flagged, `builtins.eval` included. More names: env SKOPS_TRUSTED (comma-separated), at the user's risk.
SKOPS_TRUSTED = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn._loss.link.Interval",
)


class UntrustedModel(ValueError):
    """A model file names types that could run code when loaded; it is refused."""


def load_skops(path: str):
    import skops.io

    allowed = set(SKOPS_TRUSTED)
    allowed.update(t.strip() for t in os.environ.get("SKOPS_TRUSTED", "").split(",") if t.strip())
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


def _signature_input_shape(tf, path: str) -> tuple | None:
    """[H, W, C] of a SavedModel's serving_default input (None when it is not fully known)."""
    signature = tf.saved_model.load(path).signatures["serving_default"]
    specs = list(signature.structured_input_signature[1].values())
    dims = specs[0].shape.as_list()[1:] if len(specs) == 1 else []
    return tuple(dims) if dims and all(d is not None for d in dims) else None


def load_model(config: dict):
    """The runtime for `config["model"]`, chosen by `config["runtime"]` or the file's extension.

    What the build prepared (dockerfiles/tensorflow-image/prepare_model.py) is read instead of the file
    the user gave: for LiteRT the .tflite converted beside it, for a zipped SavedModel its folder."""
    path = config["model"]
    labels = read_lines(config.get("labels"))
    runtime = config.get("runtime") or ""
    if runtime == "litert" and not path.endswith(".tflite"):
        path = str(Path(path).with_suffix(".tflite"))
    elif path.endswith(".zip") and Path(path).with_suffix("").is_dir():
        path = str(Path(path).with_suffix(""))
    if runtime == "litert" or path.endswith(".tflite"):
        return LiteRTModel(path, labels)
    if runtime == "tensorflow" or path.endswith((".keras", ".h5")) or Path(path).is_dir():
        return KerasModel(path, labels)
    return SklearnModel(path, labels)
