"""A KServe custom model whose v1 route answers like TensorFlow Serving: instances in, predictions out."""

import joblib
import kserve
import numpy as np
from kserve.errors import InvalidInput


class Digits(kserve.Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.model = None
        self.load()

    def load(self) -> bool:
        self.model = joblib.load("/srv/model.joblib")
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None):
        x = np.asarray(payload["instances"], dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (8, 8, 1):
            raise InvalidInput(f"expected instances of shape [8, 8, 1], got {list(x.shape[1:])}")
        return {"predictions": self.model.predict_proba(x).tolist()}


if __name__ == "__main__":
    kserve.ModelServer().start([Digits("digits")])
