"""Train the demo digit classifier at build time on scikit-learn's bundled load_digits (no download).

Rows 0-1499 train it; rows 1500-1796 are left for testing. Writes model.joblib and labels.txt to DIR.
"""

import sys
from pathlib import Path

import joblib
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.svm import SVC

TRAIN_ROWS = 1500


def train():
    digits = load_digits()
    # An RBF SVM with calibrated probabilities, so /predict has meaningful scores.
    model = CalibratedClassifierCV(SVC(gamma=0.001, C=10.0), ensemble=False)
    model.fit(digits.data[:TRAIN_ROWS], digits.target[:TRAIN_ROWS])
    return model, digits


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, digits = train()
    joblib.dump(model, out / "model.joblib")
    (out / "labels.txt").write_text("\n".join(str(c) for c in model.classes_) + "\n", encoding="utf-8")
    held_out = model.score(digits.data[TRAIN_ROWS:], digits.target[TRAIN_ROWS:])
    print(f"demo digits classifier: accuracy {held_out:.3f} on rows {TRAIN_ROWS}-{len(digits.data) - 1}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
