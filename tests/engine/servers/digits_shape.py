"""Reshape helper pickled inside the digits pipeline: [N, 8, 8, 1] pictures -> [N, 64] rows."""

import numpy as np


def flatten(x):
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)
