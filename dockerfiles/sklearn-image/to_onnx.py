"""Convert a scikit-learn model to ONNX at build time (skl2onnx), and fail the build unless the converted
model answers as the original does on sample inputs.

python3 to_onnx.py MODEL IMAGE_MAX|tabular
  MODEL      the .joblib/.pkl/.skops file (model.onnx is written beside it, labels.txt too when missing)
  IMAGE_MAX  picture models: pixel values reach the model in 0..IMAGE_MAX; "tabular": rows of numbers

Both answers are read as the server reads them (serving/backends.py: SklearnModel and OnnxModel), on
SAMPLES inputs: load_digits rows when the model takes 64 values, rows made from the feature ranges of
about.json when the demo wrote one, and random rows around them. The build fails when
- classifiers: the top class differs on more than 0.5 % of them, or a class score by more than 1e-3;
- regressors: a prediction differs by more than 1e-3 x max(1, |original|) (float32 inside ONNX Runtime).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), *(str(HERE.parent / p) for p in ("serving", "_serving"))]

from backends import OnnxModel, SklearnModel  # noqa: E402

SAMPLES = 200
TOP_CLASS_AGREEMENT = 0.995  # share of samples whose top class must be the same
SCORE_TOLERANCE = 1e-3  # largest difference of any class score
RELATIVE_TOLERANCE = 1e-3  # regressors: largest difference, relative to max(1, |original|)
SEED = 14


def samples(model: SklearnModel, image_max: float | None, folder: Path) -> np.ndarray:
    """SAMPLES rows the model takes: real ones where known, the rest random in their range."""
    n = int(model.n_features or 0)
    if not n:
        raise SystemExit("the model does not say how many values it takes (no n_features_in_): cannot check it")
    rng = np.random.default_rng(SEED)
    real = np.zeros((0, n))
    if image_max is not None and n == 64:
        from sklearn.datasets import load_digits

        real = load_digits().data[:: 1797 // (SAMPLES // 2)][: SAMPLES // 2] * image_max / 16.0
    lo, hi = (np.zeros(n), np.full(n, image_max)) if image_max is not None else (np.full(n, -1.0), np.ones(n))
    notes = folder / "about.json"
    if notes.is_file():
        ranges = json.loads(notes.read_text(encoding="utf-8")).get("feature_ranges") or []
        if len(ranges) == n:
            lo, hi = np.array([r["min"] for r in ranges]), np.array([r["max"] for r in ranges])
    rand = lo + rng.random((SAMPLES - len(real), n)) * (hi - lo)
    if image_max is not None:  # pictures are mostly paper: half of the random ones are sparse
        rand[::2] *= rng.random((len(rand[::2]), n)) < 0.3
    return np.concatenate([real, rand]).astype(np.float32)


def convert(model: SklearnModel) -> bytes:
    from skl2onnx import to_onnx

    options = {"zipmap": False} if model.is_classifier else None
    try:
        onx = to_onnx(
            model.model,
            np.zeros((1, model.n_features), dtype=np.float32),
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    except Exception as exc:  # skl2onnx names the estimator it has no converter for
        first = (str(exc).strip().splitlines() or [""])[0]
        raise SystemExit(f"skl2onnx cannot convert this model: {type(exc).__name__}: {first}") from None
    if model.labels:
        meta = onx.metadata_props.add()
        meta.key, meta.value = "labels", ",".join(model.labels)
    return onx.SerializeToString()


def compare(original: SklearnModel, converted: OnnxModel, x: np.ndarray) -> str:
    """A one-line verdict; SystemExit when the answers differ beyond the tolerances."""
    if original.is_classifier:
        a, b = original.scores(x), converted.scores(x)
        same = float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))
        worst = float(np.abs(a - b).max())
        verdict = (f"top class the same on {same:.1%} of {len(x)} samples (at least {TOP_CLASS_AGREEMENT:.1%}), "
                   f"class scores within {worst:.1e} (at most {SCORE_TOLERANCE:.0e})")
        if same < TOP_CLASS_AGREEMENT or worst > SCORE_TOLERANCE:
            raise SystemExit(f"the ONNX model answers differently from the original: {verdict}")
        return verdict
    a, b = original.predict(x), converted.predict(x)
    worst = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))
    verdict = (f"predictions within {worst:.1e} of the original's on {len(x)} samples "
               f"(at most {RELATIVE_TOLERANCE:.0e} x max(1, |value|))")
    if worst > RELATIVE_TOLERANCE:
        raise SystemExit(f"the ONNX model answers differently from the original: {verdict}")
    return verdict


def main(model_path: str, kind: str) -> None:
    path = Path(model_path)
    image_max = None if kind == "tabular" else float(kind)
    labels_file = path.parent / "labels.txt"
    given = [s.strip() for s in labels_file.read_text(encoding="utf-8").splitlines() if s.strip()] \
        if labels_file.is_file() else []
    original = SklearnModel(str(path), given)
    data = convert(original)
    target = path.with_suffix(".onnx")
    target.write_bytes(data)
    if original.is_classifier and not labels_file.is_file():
        labels_file.write_text("".join(f"{label}\n" for label in original.labels), encoding="utf-8")
    converted = OnnxModel(str(target), original.labels)
    verdict = compare(original, converted, samples(original, image_max, path.parent))
    print(f"converted {path.name} to {target.name} ({len(data)} bytes): {verdict}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
