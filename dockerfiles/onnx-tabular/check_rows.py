"""The onnx-tabular build's check: the graph takes rows of numbers, as the server will send them.

python3 check_rows.py MODEL [FEATURE ...]
  MODEL    the .onnx file
  FEATURE  the form's Feature names, in order (none: the server names them)

One input: float or double rows [N, features], as wide as the Feature names. Several inputs (skl2onnx
from a DataFrame, or initial_types of [None, 1] each): one column of numbers each (float, double or
integer), which the server feeds by the graph's order (serving/backends.py: column_inputs); the Feature
names, when given, must be the inputs' names in that order. The build fails with the reason otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "serving"), str(HERE.parent / "_serving")]

from backends import ModelError, column_inputs  # noqa: E402


def problem(path: str, names: list[str]) -> str:
    """Why the server could not answer rows with this graph ("" when it can)."""
    import onnxruntime as rt

    inputs = rt.InferenceSession(path, providers=["CPUExecutionProvider"]).get_inputs()
    if len(inputs) > 1:
        try:
            columns = [c.name for c in column_inputs(inputs)]
        except ModelError as exc:
            return str(exc)
        if names and names != columns:
            return (f"the graph takes one input per column, so Feature names must be its inputs' names in order: "
                    f"{', '.join(columns)} (Feature names lists {', '.join(names)})")
        return ""
    i = inputs[0]
    if len(i.shape) != 2 or i.type not in ("tensor(float)", "tensor(double)"):
        return f"the model takes {i.type} {i.shape}, not rows of numbers [N, features]; pictures: the onnx-image template"
    if names and isinstance(i.shape[1], int) and i.shape[1] != len(names):
        return f"Feature names lists {len(names)} names, the model takes {i.shape[1]} values a row"
    return ""


if __name__ == "__main__":
    why = problem(sys.argv[1], sys.argv[2:])
    if why:
        sys.exit(why)
