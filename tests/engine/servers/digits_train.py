"""Train the sklearn digits classifier that the third-party test servers serve (runs at image build time).

Rows 0-1499 of sklearn's bundled digits train it; rows 1500-1796 are written to holdout.json for the tests.
Pixels are scaled to 0..1 and shaped [N, 8, 8, 1] like a one-channel picture tensor.
"""

import json
import sys
from pathlib import Path

import joblib
import numpy as np
from digits_shape import flatten
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
digits = load_digits()
x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
y = digits.target
model = make_pipeline(FunctionTransformer(flatten), SVC(probability=True, random_state=0))
model.fit(x[:1500], y[:1500])
accuracy = float((model.predict(x[1500:]) == y[1500:]).mean())
print(f"hold-out accuracy {accuracy:.3f}")
if accuracy < 0.9:
    sys.exit(f"hold-out accuracy {accuracy:.3f} is under 0.9")
joblib.dump(model, out / "model.joblib")
holdout = {"images": digits.images[1500:].astype(int).tolist(), "targets": y[1500:].tolist()}
(out / "holdout.json").write_text(json.dumps(holdout))
