"""Train the demo digit CNN at build time on scikit-learn's load_digits (no download).

digits.csv.gz beside this file is the very file scikit-learn's load_digits reads (BSD-licensed data
of the UCI optical digits set), so the image needs neither scikit-learn nor a network. Rows 0-1499
train it; rows 1500-1796 are left for testing. Writes model.keras (full TensorFlow), model.tflite
(LiteRT) and labels.txt to DIR. Pictures reach the model as 8x8x1 floats in 0..1.
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

TRAIN_ROWS = 1500
DIGITS = Path(__file__).resolve().parent / "digits.csv.gz"


def data():
    """(pictures [N, 8, 8, 1] in 0..1, digits [N]): load_digits().data / 16 and load_digits().target."""
    rows = np.loadtxt(DIGITS, delimiter=",", dtype=np.float32)
    return (rows[:, :-1] / 16.0).reshape(-1, 8, 8, 1), rows[:, -1].astype(np.int64)


def build_model() -> tf.keras.Model:
    layers = tf.keras.layers
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(8, 8, 1), name="input"),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax"),
        ]
    )


def train():
    tf.keras.utils.set_random_seed(0)
    x, y = data()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:TRAIN_ROWS], y[:TRAIN_ROWS], epochs=40, batch_size=32, verbose=0)
    return model, x, y


def to_tflite(model: tf.keras.Model) -> bytes:
    """Convert through a SavedModel export (the path that works for Keras 3 models)."""
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(tmp).convert()


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, x, y = train()
    model.save(out / "model.keras")
    (out / "model.tflite").write_bytes(to_tflite(model))
    (out / "labels.txt").write_text("".join(f"{i}\n" for i in range(10)), encoding="utf-8")
    _, held_out = model.evaluate(x[TRAIN_ROWS:], y[TRAIN_ROWS:], verbose=0)
    print(f"demo digits CNN: accuracy {held_out:.3f} on rows {TRAIN_ROWS}-{len(x) - 1}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
