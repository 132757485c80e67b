"""What the speed scripts share: their test faces, the timing loop and the JSON output.

The scripts run as ``python benchmarks/<name>.py``, which puts this folder on
``sys.path``: they import it as ``_harness``.
"""

import json
import time

import numpy as np
from skimage import color, data, transform


def make_faces(n, size=96, seed=0, gray=True):
    """``n`` uint8 faces of ``size`` x ``size``: the astronaut's face, shifted, with noise.

    Parameters
    ----------
    n, size : int
    seed : int, default=0
        Seed of the shifts (0 to 8 pixels) and of the Gaussian noise (sd 3).
    gray : bool, default=True
        Gray faces of shape (n, size, size), else RGB of shape (n, size, size, 3).

    Returns
    -------
    ndarray of shape (n, size, size) or (n, size, size, 3), uint8

    Examples
    --------
    >>> make_faces(4, 32).shape, make_faces(2, 32, gray=False).shape
    ((4, 32, 32), (2, 32, 32, 3))
    """
    rng = np.random.default_rng(seed)
    image = color.rgb2gray(data.astronaut()) if gray else data.astronaut()
    face = transform.resize(image[35:205, 150:320], (size + 8, size + 8)) * 255
    shifts = rng.integers(0, 9, (n, 2))
    crops = np.stack([face[r : r + size, c : c + size] for r, c in shifts])
    noisy = crops + rng.normal(0, 3, crops.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def time_calls(fn, repeats):
    """Wall and process (CPU, all threads) seconds of ``repeats`` calls of ``fn``.

    Returns
    -------
    walls, cpus : list of float
        One entry per call.
    result
        What the last call returned.

    Examples
    --------
    >>> walls, cpus, result = time_calls(lambda: sum(range(1000)), 3)
    >>> len(walls), len(cpus), result
    (3, 3, 499500)
    """
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, result


def write_json(path, result, indent="  "):
    """Write ``result`` to ``path`` as indented JSON (nothing when ``path`` is None) and say so."""
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        print(f"{indent}wrote {path}")
