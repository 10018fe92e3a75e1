"""A fixed tanh-sinh (double-exponential) quadrature rule on (0, 1), in log space.

Nodes v = (1 + tanh(pi/2 sinh t)) / 2 crowd both ends double-exponentially, so integrands with
endpoint singularities or steep ends converge fast (Takahasi & Mori 1974). We keep log v and
log(1 - v) separately because near v = 1 the node itself cannot carry 1 - v to full precision.
"""

import numpy as np

_STEP = 1 / 32
_T = np.arange(-3.25, 3.25 + _STEP / 2, _STEP)  # nodes reach 1e-18 from both ends
_ARG = np.pi / 2 * np.sinh(_T)

LOG_NODES = -np.logaddexp(0.0, -2 * _ARG)  # log v
LOG_COMPLEMENTS = -np.logaddexp(0.0, 2 * _ARG)  # log(1 - v)
# dv/dt = (pi/4) cosh t / cosh^2(arg), and log cosh^2(arg) = 2 logaddexp(arg, -arg) - log 4.
LOG_WEIGHTS = np.log(_STEP * np.pi / 4 * np.cosh(_T)) - 2 * np.logaddexp(_ARG, -_ARG) + np.log(4)
