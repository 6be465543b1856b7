"""Train the demo digit CNN at build time, with nothing downloaded.

digits.csv.gz beside this file is the very file scikit-learn's load_digits reads (BSD-licensed data of the
UCI optical digits set), so the image needs neither scikit-learn nor a network. Rows 0-1499 train it;
rows 1500-1796 are left for testing. As the scikit-learn demo does (sklearn-image/train_demo.py), it
learns from those rows enlarged, thickened, thinned, shifted and in both polarities, plus digits typed
with Pillow's own fonts and drawn with a pen model (digit_pictures.py), every picture passed through the
serving code's ink.fit_ink, the preprocessing the server applies to what users drop; and from the rows
themselves, so v2 clients sending load_digits-like tensors stay right. Writes model.keras (full
TensorFlow), model.tflite (LiteRT), labels.txt and about.json (what the model recognises, and
`"fit": "ink"` for the server) to DIR. Pictures reach the model as 8x8x1 floats in 0..1.
"""

import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
# In the image: digit_pictures.py beside this file, ink.py in ../serving. In a checkout: their folders.
sys.path[:0] = [str(HERE), *(str(HERE.parent / p) for p in ("serving", "sklearn-image", "_serving"))]

import digit_pictures  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ink import NOTES_FILE, fit_ink  # noqa: E402

TRAIN_ROWS = 1500
DIGITS = HERE / "digits.csv.gz"
SPEC = {"width": 8, "height": 8, "channels": 1, "range": [0.0, 1.0], "polarity": "light-on-dark"}
DESCRIPTION = (
    "Recognises one digit 0-9 per picture: drawn or typed, dark on light or light on dark, thin or "
    "bold, anywhere in the picture. Not letters, several digits or photos of scenes."
)
SEED = 1500
ROUNDS, TYPED, DRAWN = 4, 4000, 4000  # pictures made from each row, typed and drawn
CHUNK = 500
EPOCHS = 15


def data():
    """(pictures [N, 8, 8, 1] in 0..1, digits [N]): load_digits().data / 16 and load_digits().target."""
    rows = np.loadtxt(DIGITS, delimiter=",", dtype=np.float32)
    return (rows[:, :-1] / 16.0).reshape(-1, 8, 8, 1), rows[:, -1].astype(np.int64)


def training_set(x, y):
    """(pictures [N, 8, 8, 1], digits [N]): every picture made as a user might drop it, then fitted,
    and rows 0-1499 as they are. Made in chunks with seeds of their own, on every CPU: the same set
    whatever the number of CPUs."""
    jobs, targets = [], []
    for _ in range(ROUNDS):
        for start in range(0, TRAIN_ROWS, CHUNK):
            rows = range(start, min(start + CHUNK, TRAIN_ROWS))
            jobs.append(("rows", [x[i, :, :, 0] * 16.0 for i in rows]))
            targets += [int(y[i]) for i in rows]
    for kind, count in (("typed", TYPED), ("drawn", DRAWN)):
        for start in range(0, count, CHUNK):
            digits = [i % 10 for i in range(start, min(start + CHUNK, count))]
            jobs.append((kind, digits))
            targets += digits
    seeds = np.random.SeedSequence(SEED).spawn(len(jobs))
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        fitted = pool.map(_fitted_pictures, [(*job, seed) for job, seed in zip(jobs, seeds, strict=True)])
    return np.concatenate([*fitted, x[:TRAIN_ROWS]]), np.concatenate([targets, y[:TRAIN_ROWS]])


def _fitted_pictures(job) -> np.ndarray:
    kind, items, seed = job
    rng = np.random.default_rng(seed)
    make = {"rows": digit_pictures.from_load_digits, "typed": digit_pictures.typed, "drawn": digit_pictures.drawn}
    return np.stack([fit_ink(make[kind](item, rng), SPEC).array for item in items])


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
    xt, yt = training_set(x, y)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xt, yt, epochs=EPOCHS, batch_size=64, shuffle=True, verbose=0)
    return model, x, y


def held_out_pictures(x):
    """Rows 1500-1796 as the server sees them when they are dropped as 8x8 pictures."""
    from PIL import Image

    pics = [Image.fromarray(np.round(r[:, :, 0] * 255).astype(np.uint8), "L") for r in x[TRAIN_ROWS:]]
    return np.stack([fit_ink(p, SPEC).array for p in pics])


def to_tflite(model: tf.keras.Model) -> bytes:
    """Convert through a SavedModel export (the path that works for Keras 3 models)."""
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(tmp).convert()


def main(out_dir: str) -> None:
    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, x, y = train()
    model.save(out / "model.keras")
    (out / "model.tflite").write_bytes(to_tflite(model))
    (out / "labels.txt").write_text("".join(f"{i}\n" for i in range(10)), encoding="utf-8")
    notes = {"description": DESCRIPTION, "input": {"fit": "ink"}}
    (out / NOTES_FILE).write_text(json.dumps(notes, indent=2) + "\n", encoding="utf-8")
    _, pictures = model.evaluate(held_out_pictures(x), y[TRAIN_ROWS:], verbose=0)
    _, rows = model.evaluate(x[TRAIN_ROWS:], y[TRAIN_ROWS:], verbose=0)
    print(
        f"demo digits CNN: accuracy {pictures:.3f} on rows {TRAIN_ROWS}-{len(x) - 1} as pictures, "
        f"{rows:.3f} as tensors, trained in {time.monotonic() - t0:.0f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model")
