"""Train the demo digit classifier at build time, with nothing downloaded.

It learns from scikit-learn's bundled load_digits rows 0-1499 (8x8 handwriting; rows 1500-1796 are left
for testing), enlarged, thickened, thinned, shifted and in both polarities, plus digits typed with
Pillow's own fonts and drawn with a pen model (digit_pictures.py). Every picture goes through the
serving code's ink.fit_ink, the preprocessing the server applies to what users drop, so training and
serving see the same thing. Writes model.joblib, labels.txt and about.json (what the model recognises,
and `"fit": "ink"` for the server) to DIR.
"""

import json
import sys
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.svm import SVC

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "serving"), str(HERE.parent / "_serving")]

import digit_pictures  # noqa: E402
from ink import NOTES_FILE, fit_ink  # noqa: E402

TRAIN_ROWS = 1500
SPEC = {"width": 8, "height": 8, "channels": 1, "range": [0.0, 16.0], "polarity": "light-on-dark"}
DESCRIPTION = (
    "Recognises one digit 0-9 per picture: drawn or typed, dark on light or light on dark, thin or "
    "bold, anywhere in the picture. Not letters, several digits or photos of scenes."
)
SEED = 1500


def training_set(digits, rng):
    """(features [N, 64], digits [N]): every picture made as a user might drop it, then fitted."""
    pictures, targets = [], []
    for _ in range(4):
        for i in range(TRAIN_ROWS):
            pictures.append(digit_pictures.from_load_digits(digits.images[i], rng))
            targets.append(int(digits.target[i]))
    for i in range(4000):
        pictures.append(digit_pictures.typed(i % 10, rng))
        targets.append(i % 10)
    for i in range(4000):
        pictures.append(digit_pictures.drawn(i % 10, rng))
        targets.append(i % 10)
    x = np.stack([fit_ink(p, SPEC).array.ravel() for p in pictures])
    # The rows themselves too: v2 clients may send load_digits-like tensors that skip the preprocessing.
    x = np.concatenate([x, digits.data[:TRAIN_ROWS]])
    return x, np.concatenate([targets, digits.target[:TRAIN_ROWS]])


def train():
    digits = load_digits()
    x, y = training_set(digits, np.random.default_rng(SEED))
    # An RBF SVM with calibrated probabilities, so /predict has meaningful scores.
    model = CalibratedClassifierCV(SVC(gamma="scale", C=10.0), ensemble=False)
    model.fit(x, y)
    return model, digits


def held_out_features(digits):
    """Rows 1500-1796 as the server sees them when they are dropped as 8x8 pictures."""
    from PIL import Image

    rows = digits.images[TRAIN_ROWS:]
    pics = [Image.fromarray(np.round(r * 255 / 16).astype(np.uint8), "L") for r in rows]
    return np.stack([fit_ink(p, SPEC).array.ravel() for p in pics]), digits.target[TRAIN_ROWS:]


def main(out_dir: str) -> None:
    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, digits = train()
    joblib.dump(model, out / "model.joblib", compress=3)
    (out / "labels.txt").write_text("\n".join(str(c) for c in model.classes_) + "\n", encoding="utf-8")
    notes = {"description": DESCRIPTION, "input": {"fit": "ink"}}
    (out / NOTES_FILE).write_text(json.dumps(notes, indent=2) + "\n", encoding="utf-8")
    held_out = model.score(*held_out_features(digits))
    print(
        f"demo digits classifier: accuracy {held_out:.3f} on rows {TRAIN_ROWS}-{len(digits.data) - 1}, "
        f"trained in {time.monotonic() - t0:.0f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
