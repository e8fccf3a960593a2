"""The table, part 2: functions of one input, applied elementwise.

g: the gradient arriving at the output; out: the forward's output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core import cos, cosh, data, entry, erf, exp, select, sigmoid, sin, sinh, zeros
from .erf import erf as _erf  # numpy has none: scipy's, or numpy arithmetic to float64
from .erf import normal_cdf_float32

_SQRT_HALF, _INV_SQRT_2PI = math.sqrt(0.5), 1 / math.sqrt(2 * math.pi)


def _gelu(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float32 and x.ndim:  # vectorised float32 Phi, within 8 ulp (erf.py)
        cdf = normal_cdf_float32(x)
        cdf *= x
        return cdf
    cdf = _erf(x * _SQRT_HALF)  # a fresh array: Phi(x) = (1 + erf(x / sqrt 2)) / 2 is made in it, then x Phi(x)
    cdf += 1
    cdf *= 0.5
    cdf *= x
    return cdf


def _gelu_rule(g: Any, out: Any, x: Any) -> Any:
    if not isinstance(x, np.ndarray):  # recorded (create_graph): the formula, so that it has a derivative itself
        cdf = 0.5 * (1 + erf(x * _SQRT_HALF))  # Phi(x), the standard normal's distribution function
        return g * (cdf + x * (exp(-0.5 * x * x) * _INV_SQRT_2PI))  # phi(x), its density
    if x.ndim == 0:  # numpy makes scalars of 0-d arrays, and the steps below work in place
        return _gelu_rule(g, np.reshape(out, 1), x.reshape(1)).reshape(())
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = out / x  # Phi(x) = out / x, within 2 ulp, without a second erf
    tiny = np.abs(x) < 1e-8  # there out = x Phi(x) may underflow (or x is 0): Phi(x) = 1/2 + x phi(0) exactly
    if tiny.any():
        cdf[tiny] = 0.5 + x[tiny] * _INV_SQRT_2PI
    d = x * x  # one more array, made into the derivative Phi(x) + x phi(x) in place
    d *= -0.5
    np.exp(d, out=d)
    d *= x
    d *= _INV_SQRT_2PI
    d += cdf
    if type(g) is np.ndarray and g.shape == d.shape and g.dtype == d.dtype:
        d *= g
        return d
    return g * d


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) = e^-log(1 + e^-x); logaddexp(0, -x) = log(1 + e^-x) never overflows.
    return np.exp(-np.logaddexp(0.0, -x))


def _leaky_relu(x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * slope)


def _leaky_relu_rule(g: Any, out: Any, x: Any, slope: float) -> Any:
    if slope == 0:  # relu's rule: chosen, so that a NaN upstream below 0 stays out (PyTorch's NaN * 0 lets it in)
        return select(~(data(x) <= 0), g)
    return g * np.where(data(x) > 0, 1.0, slope).astype(data(x).dtype, copy=False)


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 at NaN too (PyTorch's sgn), so abs passes no NaN back from a NaN input."""
    return np.sign(np.where(np.isnan(x), 0, x))


def _clip_rule(g: Any, out: Any, x: Any, lo: Any, hi: Any) -> Any:
    inside = (data(x) >= (-np.inf if lo is None else lo)) & (data(x) <= (np.inf if hi is None else hi))
    return select(inside, g)


ENTRIES = [
    # name       forward       (backward rule,                                          its formula)
    entry("exp",     np.exp,   (lambda g, out, x: g * out,                              "d(e^x)/dx = e^x"),
          doc="Exponential: f(x) = e^x"),
    entry("log",     np.log,   (lambda g, out, x: g / x,                                "d(log x)/dx = 1/x"),
          doc="Natural logarithm: f(x) = log(x)", domain="positive"),
    entry("tanh",    np.tanh,  (lambda g, out, x: g * (1 - out * out),                  "dtanh(x)/dx = 1 - tanh^2"),
          doc="Hyperbolic tangent: f(x) = tanh(x)"),
    entry("sigmoid", _sigmoid, (lambda g, out, x: g * out * (1 - out),                  "ds/dx = s (1 - s)"),
          doc="Sigmoid: f(x) = 1 / (1 + e^-x), computed without overflow"),
    entry("sin",     np.sin,   (lambda g, out, x: g * cos(x),                           "d sin(x)/dx = cos(x)"),
          doc="Sine: f(x) = sin(x)"),
    entry("cos",     np.cos,   (lambda g, out, x: -g * sin(x),                          "d cos(x)/dx = -sin(x)"),
          doc="Cosine: f(x) = cos(x)"),
    entry("tan",     np.tan,   (lambda g, out, x: g * (1 + out * out),                  "d tan(x)/dx = 1 + tan^2"),
          doc="Tangent: f(x) = tan(x)", domain="small"),
    entry("arctan",  np.arctan, (lambda g, out, x: g / (1 + x * x),                     "d/dx = 1 / (1 + x^2)"),
          doc="Inverse tangent: f(x) = arctan(x), in (-pi/2, pi/2)"),
    entry("sinh",    np.sinh,  (lambda g, out, x: g * cosh(x),                          "d sinh(x)/dx = cosh(x)"),
          doc="Hyperbolic sine: f(x) = (e^x - e^-x) / 2"),
    entry("cosh",    np.cosh,  (lambda g, out, x: g * sinh(x),                          "d cosh(x)/dx = sinh(x)"),
          doc="Hyperbolic cosine: f(x) = (e^x + e^-x) / 2"),
    entry("log2",    np.log2,  (lambda g, out, x: g / (x * math.log(2)),                "d/dx = 1 / (x ln 2)"),
          doc="Base-2 logarithm: f(x) = log2(x)", domain="positive"),
    entry("exp2",    np.exp2,  (lambda g, out, x: g * out * math.log(2),                "d(2^x)/dx = 2^x ln 2"),
          doc="Power of two: f(x) = 2^x"),
    entry("log1p",   np.log1p, (lambda g, out, x: g / (1 + x),                          "d/dx = 1 / (1 + x)"),
          doc="Log of one plus: f(x) = log(1 + x), exact for small x", domain="positive"),
    entry("expm1",   np.expm1, (lambda g, out, x: g * (out + 1),                        "d/dx = e^x"),
          doc="Exponential minus one: f(x) = e^x - 1, exact for small x"),
    entry("softplus", lambda x: np.logaddexp(0.0, x),
                               (lambda g, out, x: g * sigmoid(x),                       "d/dx = sigmoid(x)"),
          doc="Softplus: f(x) = log(1 + e^x), computed without overflow"),
    entry("erf",     _erf,     (lambda g, out, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x),
                                                                                        "2/sqrt(pi) e^(-x^2)"),
          doc="Error function: f(x) = 2/sqrt(pi) * integral of e^(-t^2) from 0 to x"),
    entry("gelu",    _gelu,    (_gelu_rule,                                             "Phi(x) + x phi(x)"),
          doc="GELU: f(x) = x * Phi(x), Phi the standard normal's distribution function (PyTorch's exact form)"),
    entry("relu",    lambda x: np.maximum(x, 0),
                               (lambda g, out, x: select(~(data(x) <= 0), g),           "1 where x > 0, else 0"),
          doc="Rectified linear unit: f(x) = max(x, 0)", domain="nonzero", special=((0.0,),)),
    entry("leaky_relu", _leaky_relu,
                               (_leaky_relu_rule,                                       "1 if x > 0, else slope"),
          doc="Leaky ReLU: f(x) = x where x > 0, else slope * x", domain="nonzero", cases="leaky_relu",
          special=((0.0,),)),
    entry("abs",     np.abs,   (lambda g, out, x: g * _sign(data(x)),                   "d|x|/dx = sign(x)"),
          doc="Absolute value: f(x) = |x|", domain="nonzero", special=((0.0,),)),
    entry("sign",    _sign,    (lambda g, out, x: zeros(g),                             "0 (flat between its jumps)"),
          doc="Sign: f(x) = -1, 0 or 1 (0 at NaN, as PyTorch's); its gradient is 0", domain="off_grid",
          special=((0.0,),)),
    entry("floor",   np.floor, (lambda g, out, x: zeros(g),                             "0 (flat between its jumps)"),
          doc="Floor: f(x) = the largest whole number <= x; its gradient is 0", domain="off_grid",
          special=((0.0, 1.0, -1.0),)),
    entry("ceil",    np.ceil,  (lambda g, out, x: zeros(g),                             "0 (flat between its jumps)"),
          doc="Ceiling: f(x) = the smallest whole number >= x; its gradient is 0", domain="off_grid",
          special=((0.0, 1.0, -1.0),)),
    entry("round",   lambda x: np.round(x),
                               (lambda g, out, x: zeros(g),                             "0 (flat between its jumps)"),
          doc="Round to the nearest whole number, halves to even (as numpy and PyTorch); its gradient is 0",
          domain="off_grid", special=((0.5, 1.5, -0.5),)),
    entry("clip",    lambda x, lo=None, hi=None: np.clip(x, lo, hi),
                               (_clip_rule,                                             "1 in [lo, hi], else 0"),
          doc="Clip: f(x) = min(max(x, lo), hi)", domain="off_grid", cases="clip",
          special=((-1.0, -0.5, 0.0, 0.5, 1.0),)),
]
