"""Train the demo regression model at build time on scikit-learn's bundled load_diabetes (no download).

Writes model.joblib, features.txt and about.json to DIR: what the model predicts, and each feature's
min, max and mean over the training rows, which /metadata reports (input.feature_ranges) so a form can
say what values are typical.
"""

import json
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

NOTES_FILE = "about.json"  # read by the server (serving/service.py, with_table_notes)
DESCRIPTION = (
    "Predicts a measure of diabetes progression one year on (about 25-346) from age, sex, body mass "
    "index, blood pressure and six blood serum measurements, each mean-centred and scaled as in "
    "scikit-learn's load_diabetes."
)


def train():
    data = load_diabetes(as_frame=False)
    model = Ridge(alpha=0.1)
    model.fit(data.data, data.target)
    return model, data


def feature_ranges(data) -> list[dict]:
    """[{"name", "min", "max", "mean"}] of every feature over the training rows."""
    x = data.data
    return [
        {"name": name, "min": float(x[:, i].min()), "max": float(x[:, i].max()), "mean": float(x[:, i].mean())}
        for i, name in enumerate(data.feature_names)
    ]


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, data = train()
    joblib.dump(model, out / "model.joblib")
    (out / "features.txt").write_text("\n".join(data.feature_names) + "\n", encoding="utf-8")
    notes = {"description": DESCRIPTION, "feature_ranges": feature_ranges(data)}
    (out / NOTES_FILE).write_text(json.dumps(notes, indent=2) + "\n", encoding="utf-8")
    print(f"demo diabetes regression: R^2 {model.score(data.data, data.target):.3f} on the training rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
