"""Train the demo regression model at build time on scikit-learn's bundled load_diabetes (no download).

Writes model.joblib to DIR. The model keeps the feature names, which /metadata reports.
"""

import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge


def train():
    data = load_diabetes(as_frame=False)
    model = Ridge(alpha=0.1)
    model.fit(data.data, data.target)
    return model, data


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, data = train()
    joblib.dump(model, out / "model.joblib")
    (out / "features.txt").write_text("\n".join(data.feature_names) + "\n", encoding="utf-8")
    print(f"demo diabetes regression: R^2 {model.score(data.data, data.target):.3f} on the training rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
