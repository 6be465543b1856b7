"""The types a .skops file may name and the serving image still loads: skops' own defaults (for the
skops, scikit-learn, numpy and SciPy installed here, the image's pins) and the server's SKOPS_TRUSTED.

gui/models/skops_trusted.txt is this list, so the Build page knows, without skops, which types the image
would refuse. tests/unit/test_model_detect.py fails when they differ; remake the file with
    .venv/bin/python -m tests.support.skops_trusted > gui/models/skops_trusted.txt
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

HEADER = ("# Types the serving image's skops loader trusts: skops {skops} defaults (scikit-learn {sklearn}, "
          "numpy {numpy}, SciPy {scipy})\n# and dockerfiles/_serving/backends.py SKOPS_TRUSTED. Made by "
          "tests/support/skops_trusted.py; do not edit by hand.\n")


def server_trusted() -> tuple[str, ...]:
    path = Path(__file__).resolve().parents[2] / "dockerfiles" / "_serving" / "backends.py"
    spec = importlib.util.spec_from_file_location("_aics_backends", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.SKOPS_TRUSTED)


def trusted_names() -> list[str]:
    """Every default of skops' node types (skops/io/_general.py, _numpy.py, _scipy.py, _sklearn.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import numpy as np
        from scipy.sparse import spmatrix
        from skops.io import _trusted_types as tt
        from skops.io._sklearn import ALLOWED_LOSSES
        from skops.io._utils import get_module, get_type_name

        names = set()
        for attr in dir(tt):
            if attr.endswith("_TYPE_NAMES"):
                names.update(getattr(tt, attr))
        for t in (dict, list, set, tuple, slice, bytes, bytearray, np.ndarray, np.ma.MaskedArray,
                  np.random.RandomState, np.random.Generator, spmatrix):
            names.add(get_type_name(t))
        names.add("collections.OrderedDict")
        names.update(get_module(x) + "." + x.__name__ for x in ALLOWED_LOSSES)
    names.update(server_trusted())
    return sorted(names)


def file_text() -> str:
    import numpy
    import scipy
    import sklearn
    import skops

    head = HEADER.format(skops=skops.__version__, sklearn=sklearn.__version__, numpy=numpy.__version__,
                         scipy=scipy.__version__)
    return head + "".join(f"{n}\n" for n in trusted_names())


if __name__ == "__main__":
    sys.stdout.write(file_text())
