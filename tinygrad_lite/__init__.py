"""tinygrad_lite: a small, readable autograd framework on numpy.

    import tinygrad_lite as tl
    x = tl.Value([1.0, 2.0, 3.0])
    loss = (x ** 2).sum()
    loss.backward()
    x.grad            # array([2., 4., 6.])

tl.nn (layers, losses), tl.optim (SGD, Adam, minimize), tl.data (the tutorials' data, scalers),
tl.testing (gradcheck, strategies). The tutorials' programs: tinygrad_lite.programs.tutorials.
"""

from . import data, exercises, memory, nn, ops, optim, testing  # noqa: F401
from .function import Function
from .functional import grad, hessian, jacobian, value_and_grad, vjp
from .modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .replay import replay
from .show import draw, explain, health
from .value import Value, concatenate, embedding, layer_norm, maximum, minimum, stack, where

__version__ = "0.1.0"


def __getattr__(name: str) -> object:  # PyTorch's names a learner reaches for (torch.cat, torch.randn), answered
    from .pytorch_names import missing
    raise missing("tl", "tinygrad_lite", name) if not name.startswith("_") else AttributeError(name)

__all__ = ["Function", "Value", "concatenate", "data", "detect_anomaly", "draw", "embedding", "enable_grad", "explain",
           "grad", "health", "hessian", "is_grad_enabled", "jacobian", "layer_norm", "maximum", "minimum", "nn",
           "no_grad", "ops", "optim", "replay", "stack", "testing", "value_and_grad", "vjp", "where", "__version__"]
