"""Model files, read without loading them: which format a file is (by its content), what it takes and
gives, which template serves it, and what a pickle-based file would import. Qt-free; this package never
deserialises a model (no pickle or joblib loading, no TensorFlow, scikit-learn or ONNX Runtime)."""

from gui.models.detect import ModelInfo, NotAModel, inspect_model, iter_inspect
from gui.models.pickles import GlobalRef, ScanReport, iter_scan, scan_pickle, verdict

__all__ = [
    "GlobalRef",
    "ModelInfo",
    "NotAModel",
    "ScanReport",
    "inspect_model",
    "iter_inspect",
    "iter_scan",
    "scan_pickle",
    "verdict",
]
