"""Prepare the user's model at build time, inside the image (never in the app): check that it loads and
put it in the form the serving runtime reads.

python3 prepare_model.py MODEL RUNTIME
  MODEL    model/model.keras, model/model.h5, model/model.tflite, model/model.zip (a zipped SavedModel)
           or model/model (a SavedModel folder)
  RUNTIME  tensorflow: a .zip is unpacked to the folder beside it (model/model), then the model is loaded
           once; litert: the model is converted to model.tflite beside it.
labels.txt is written beside the model when none was given, so both runtimes name the same outputs.
"""

import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def unpack_saved_model(archive: Path) -> Path:
    """Unpack a zipped SavedModel next to the archive; the folder holding saved_model.pb becomes MODEL."""
    target = archive.with_suffix("")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():  # no absolute paths or '..' out of the folder
            if member.startswith("/") or ".." in Path(member).parts:
                raise SystemExit(f"{archive.name}: refusing the entry {member!r}")
        zf.extractall(tmp)
        found = sorted(Path(tmp).rglob("saved_model.pb"), key=lambda p: len(p.parts))
        if not found:
            raise SystemExit(f"{archive.name} holds no saved_model.pb: not a zipped SavedModel")
        shutil.copytree(found[0].parent, target)
    archive.unlink()
    return target


def load_keras(path: Path):
    if path.is_dir():
        return None
    return tf.keras.models.load_model(path, compile=False)


def to_tflite(path: Path) -> bytes:
    if path.is_dir():
        return tf.lite.TFLiteConverter.from_saved_model(str(path)).convert()
    model = load_keras(path)
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(tmp).convert()


def output_size_tflite(data: bytes) -> int:
    interpreter = tf.lite.Interpreter(model_content=data)
    return int(interpreter.get_output_details()[0]["shape"][-1])


def write_labels(folder: Path, n: int) -> None:
    labels = folder / "labels.txt"
    if not labels.is_file():
        labels.write_text("".join(f"{i}\n" for i in range(n)), encoding="utf-8")


def main(model: str, runtime: str) -> None:
    path = Path(model)
    if path.suffix == ".zip":
        path = unpack_saved_model(path)
    if path.suffix == ".tflite":
        write_labels(path.parent, output_size_tflite(path.read_bytes()))
        return
    if runtime == "litert":
        data = to_tflite(path)
        path.with_suffix(".tflite").write_bytes(data)
        write_labels(path.parent, output_size_tflite(data))
        print(f"converted {path.name} to {path.with_suffix('.tflite').name} ({len(data)} bytes)")
        return
    if path.is_dir():
        loaded = tf.saved_model.load(str(path))
        if "serving_default" not in loaded.signatures:
            raise SystemExit("the SavedModel has no serving_default signature")
        return
    keras_model = load_keras(path)
    shape = [d or 1 for d in keras_model.input_shape]
    n = int(np.asarray(keras_model(np.zeros(shape, dtype=np.float32))).shape[-1])
    print(f"{path.name}: input {keras_model.input_shape}, {n} outputs")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("tensorflow", "litert"):
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
