"""The answer of an Active Shape Model search (:class:`FittingResult`)."""

from dataclasses import dataclass

import numpy as np

from facefeat.shape.pdm import Pose

__all__ = ["FittingResult"]


@dataclass
class FittingResult:
    """What one ASM search found.

    Attributes
    ----------
    shape : ndarray of shape (n_points, 2)
        Final landmarks, (x, y), 0-based, in the image's pixel frame.
    initial_shape : ndarray of shape (n_points, 2)
        Where the search started.
    shapes : ndarray of shape (n_iterations + 1, n_points, 2)
        The initial shape, then the shape after every iteration.
    levels : ndarray of int of shape (n_iterations,)
        Pyramid level of every iteration (0 = full resolution).
    n_iterations : int
    converged : bool
        Every pyramid level stopped by the convergence test, not by ``max_iter``.
    pose : Pose
        Similarity from the model frame to the image of the final shape.
    b : ndarray of shape (n_components,)
        Shape parameters of the final shape.
    box : ndarray of shape (4,) or None
        The face box the search started from, ``(x0, y0, x1, y1)``.
    face_found : bool
        False when no face box was detected and the whole image was taken as
        the box (only with ``ASMFitter.fit_image``).
    seconds : float
        Wall time of the search (detection excluded).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((3, 68, 2)); s[1] += 1; s[2] += 2
    >>> r = FittingResult(s[2], s[0], s, np.array([1, 0]), 2, True, Pose(), np.zeros(3))
    >>> r.shape_after(1)[0].tolist(), r.shape_after(99)[0].tolist()
    ([1.0, 1.0], [2.0, 2.0])
    """

    shape: np.ndarray
    initial_shape: np.ndarray
    shapes: np.ndarray
    levels: np.ndarray
    n_iterations: int
    converged: bool
    pose: Pose
    b: np.ndarray
    box: np.ndarray = None
    face_found: bool = True
    seconds: float = 0.0

    def shape_after(self, k):
        """The shape after ``k`` iterations (the final one if the search stopped earlier)."""
        return self.shapes[min(int(k), len(self.shapes) - 1)]

    def error(self, truth):
        """Normalised mean error against the true landmarks (68 points, 300-W convention).

        Parameters
        ----------
        truth : array_like of shape (68, 2)

        Returns
        -------
        float
            Mean point distance divided by the outer-eye-corner distance of ``truth``.
        """
        from facefeat.shape.metrics import normalized_mean_error

        return normalized_mean_error(self.shape, truth)

    def __repr__(self):
        return (f"FittingResult(n_points={len(self.shape)}, n_iterations={self.n_iterations}, "
                f"converged={self.converged}, face_found={self.face_found})")
