"""Real model files for the model tests, made here (nothing downloaded): a scikit-learn digits
classifier trained on load_digits rows 0-1499, saved with pickle, joblib and skops and converted with
skl2onnx; models of table rows (diabetes, iris) converted with skl2onnx, with one input of all columns
or one input per column; and a pickle whose __reduce__ would create a marker file when loaded."""

from __future__ import annotations

import os
import pickle
import warnings
from functools import lru_cache
from pathlib import Path

TRAIN_ROWS = slice(0, 1500)
TEST_ROWS = range(1500, 1797)


@lru_cache(maxsize=1)
def digits_classifier():
    """An SVC (95 % on rows 1500-1796) with probabilities, so its ONNX export has class scores."""
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    digits = load_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True is deprecated in 1.9, not gone
        return SVC(gamma=0.001, probability=True, random_state=0).fit(
            digits.data[TRAIN_ROWS], digits.target[TRAIN_ROWS]
        )


def save_joblib(folder: Path, name: str = "digits.joblib") -> Path:
    import joblib

    path = Path(folder) / name
    joblib.dump(digits_classifier(), path)
    return path


def save_pickle(folder: Path, name: str = "digits.pkl") -> Path:
    path = Path(folder) / name
    with open(path, "wb") as f:
        pickle.dump(digits_classifier(), f, protocol=4)
    return path


def save_skops(folder: Path, name: str = "digits.skops") -> Path:
    import skops.io

    path = Path(folder) / name
    skops.io.dump(digits_classifier(), path)
    return path


def save_onnx(folder: Path, name: str = "digits.onnx", zipmap: bool = True) -> Path:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits

    sample = load_digits().data[:1].astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # skl2onnx reads SVC's deprecated probA_/probB_
        model = to_onnx(digits_classifier(), sample, options={"zipmap": zipmap}, target_opset=17)
    path = Path(folder) / name
    path.write_bytes(model.SerializeToString())
    return path


@lru_cache(maxsize=2)
def table_model(kind: str):
    """(model, rows, feature names, class names): "regressor" is a Ridge on load_diabetes (10 features),
    "classifier" a LogisticRegression on iris (4 features, 3 classes)."""
    from sklearn.datasets import load_diabetes, load_iris
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind == "regressor":
        data = load_diabetes()
        return Ridge(alpha=0.1).fit(data.data, data.target), data.data, list(data.feature_names), []
    data = load_iris()
    model = LogisticRegression(max_iter=2000).fit(data.data, data.target)
    return model, data.data, list(data.feature_names), list(data.target_names)


def save_table_onnx(folder: Path, kind: str, name: str = "", metadata: dict | None = None) -> Path:
    """`table_model(kind)` converted with skl2onnx: one float input [None, n_features], `metadata` as the
    model's metadata_props (e.g. {"features": "a,b,c"})."""
    import numpy as np
    from onnx import helper
    from skl2onnx import to_onnx

    model, rows, _, _ = table_model(kind)
    onx = to_onnx(model, rows[:1].astype(np.float32), target_opset=17)
    if metadata:
        helper.set_model_props(onx, metadata)
    path = Path(folder) / (name or f"{kind}.onnx")
    path.write_bytes(onx.SerializeToString())
    return path


IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@lru_cache(maxsize=2)
def column_model(kind: str):
    """(model, rows, column names, class names) for a graph of one input per column: a scaler and Ridge on
    load_diabetes whose "sex" column is 0/1 ("regressor", served as an int64 column), or a scaler and
    LogisticRegression on iris ("classifier", float columns)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import load_diabetes, load_iris
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "regressor":
        data = load_diabetes()
        rows = data.data.copy()
        rows[:, 1] = rows[:, 1] > 0
        model = make_pipeline(ColumnTransformer([("all", StandardScaler(), list(range(10)))]), Ridge(alpha=0.1))
        return model.fit(rows, data.target), rows, list(data.feature_names), []
    data = load_iris()
    model = make_pipeline(ColumnTransformer([("all", StandardScaler(), [0, 1, 2, 3])]),
                          LogisticRegression(max_iter=2000))
    return model.fit(data.data, data.target), data.data, list(IRIS_COLUMNS), list(data.target_names)


def save_column_onnx(folder: Path, kind: str, name: str = "") -> Path:
    """`column_model(kind)` converted as from a DataFrame: to_onnx(model, initial_types=[(column,
    FloatTensorType([None, 1])), ...]), the regressor's "sex" an Int64TensorType column."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType

    model, _, columns, _ = column_model(kind)
    types = [(c, Int64TensorType([None, 1]) if c == "sex" else FloatTensorType([None, 1])) for c in columns]
    path = Path(folder) / (name or f"{kind}-columns.onnx")
    path.write_bytes(to_onnx(model, initial_types=types, target_opset=17).SerializeToString())
    return path


class MarkerPayload:
    """Unpickling it runs `touch <marker>` through os.system."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def save_malicious(folder: Path, marker: Path, name: str = "model.pkl") -> Path:
    path = Path(folder) / name
    with open(path, "wb") as f:
        pickle.dump(MarkerPayload(marker), f, protocol=4)
    return path
