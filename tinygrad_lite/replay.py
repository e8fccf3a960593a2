"""tl.replay: a step whose graph never changes, recorded once and then run as plain numpy calls.

Scope: recording a step's ops (a tape: an observer of the engine, modes.Observer), checking that two calls
made the same graph, and the replay: the forward calls and the backward rules of the second call, run again on
the new numbers without making a Value, a node or a topological order. The rules are the table's own, called in
the order `backward` calls them, so a replayed step gives the numbers the eager step gives, bit for bit::

    step = tl.replay(lambda x, y: loss_of(model(x), y))   # a function of arrays that returns the loss
    for x, y in batches:
        opt.zero_grad()
        loss = step(x, y)       # forward and backward: the parameters' .grad are set as by loss.backward()
        opt.step()

The first two calls run as usual (eagerly, with backward) and record what they did; if the two records are
the same graph (the same ops, parameters and shapes), the third call and every later one replay it. A replay
reads afresh, at every call, its arguments (arrays or Values) and every array or Value the step uses that
lives outside it (the parameters, a data set held in a global); it keeps from the recording only numbers
(2.0, 1 / np.sqrt(d), a 0-d array) and parameters such as axes. It refuses, saying why: an array or Value the step makes
itself and feeds to an op (a random Dropout mask, a one-hot array or an index made from the labels: make it
outside and pass it in), a step that reads a Value's numbers (.data, float(): what it makes of them would be
frozen), a graph that differed between the first two calls, an optimiser's step, BatchNorm's running
statistics, a backward call, a .grad set or a hook inside the step, a Function (a user's op), and later
calls with arguments or parameters of other shapes or dtypes. Arguments are read by position (a call passing one
array for two arguments runs eagerly, unrecorded); before each replay, what the recording relied on of the
modules whose forward ran (their weights' identity and requires_grad, their lists and dicts of modules, their
flags) is compared, and a change records the step again. An outside array that is neither an argument nor a
module's attribute is named in one warning at recording: the replay keeps that object. A Python branch on a
number computed from an argument array with numpy cannot be seen: replay steps whose ops do not depend on the
data. Under detect_anomaly() or no_grad(), or while any Value has a hook, a call runs eagerly. Record and call a
replay in one thread.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _checks, backward, modes, ops
from .value import Value


class Replay:
    """A step function (arrays or Values in, a scalar loss Value out) that is replayed from its third call.

    Each call runs the forward and the backward and returns the loss: the first two as usual (the loss Value
    of the graph), later ones as a constant Value holding the replayed loss. `replaying` says which it is now.
    """

    def __init__(self, fn: Callable[..., Any]):
        if not callable(fn):
            raise TypeError(f"replay: give the step as a function, got {_checks.describe(fn)}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self._first: _Record | None = None
        self._plan: _Plan | None = None

    @property
    def replaying(self) -> bool:
        """Whether calls now replay the recorded step (after two recorded calls that agreed)."""
        return self._plan is not None

    @property
    def source(self) -> str | None:
        """The replay as Python (the forward calls, then the backward rules, then the .grad stores), once it
        replays; None before."""
        return self._plan.source if self._plan is not None else None

    def __call__(self, *args: Any) -> Value:
        if any(isinstance(o, _Tape) for o in modes.observing()):
            raise RuntimeError(f"replay: {self._name()} was called while another step is being recorded; "
                               "replay the outer step only")
        if self._plan is not None and _fingerprint(self._plan.modules) != self._plan.fingerprint:
            self._plan = None  # a module the step ran was changed (a weight replaced, a flag, a list): record again
        if self._plan is not None:
            if _recording() and not _checking() and not backward.hooked:
                return Value(self._plan.replayed(args), requires_grad=False)
            return self._eager(args)  # under detect_anomaly or no_grad, or with a hook anywhere: as written
        if _aliased(args):  # one array for two arguments: which one an op read cannot be told, so not recorded
            return self._eager(args)
        record = _Record(self, args)
        if self._first is None:
            self._first = record
        else:
            self._plan = _Plan(self, self._first, record)
            self._first = None
        return record.root

    def _eager(self, args: tuple[Any, ...]) -> Value:
        root = self.fn(*args)
        root.backward()
        return root

    def _name(self) -> str:
        return getattr(self.fn, "__name__", "the step")


replay = Replay
_recording, _checking = modes.recording, modes.checking


_PLAIN = (int, float, complex, str, np.generic, type(None))  # numbers and the like, compared with ==


def _kept(a: Any, b: Any) -> bool:
    """Whether what two recordings gave an op (a constant or a parameter) may be kept for a replay: the same
    object (a data set, a mask that lives outside the step), or equal numbers, strings, slices, dtypes, None and
    tuples of them. An array made inside the step is never kept: its numbers may come from the data."""
    if a is b:
        return True
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_kept, a, b))
    if isinstance(a, slice) and isinstance(b, slice):
        return _kept((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if isinstance(a, np.ndarray) or type(a) is not type(b):
        return False
    if isinstance(a, (*_PLAIN, np.dtype, type(Ellipsis))):
        return bool(a == b) or (a != a and b != b)  # NaN parameters
    return False


def _plain(x: Any) -> bool:
    """Numbers, strings, None and tuples of them: arguments a replay compares with == at every call."""
    if isinstance(x, tuple):
        return all(map(_plain, x))
    return isinstance(x, _PLAIN)


def _signature(x: Any) -> Any:
    """What must stay the same about an argument for a replay: an array's kind, shape and dtype; anything else
    itself."""
    if isinstance(x, Value):
        return ("Value", x.shape, x.dtype, x.requires_grad)
    if isinstance(x, np.ndarray):
        return ("array", x.shape, x.dtype)
    return ("other", x)


# What the step did that a replay would not do again, and the fix.
UNREPLAYABLE = {
    "read": ("it reads a Value's numbers (.data, .item(), float(), numpy()), and what it makes of them would be "
             "frozen", "read them outside the replayed function"),
    "write": ("it changes a Value's numbers (an optimiser's step, BatchNorm's running statistics)",
              "do that outside the replayed function, or put BatchNorm in eval() mode"),
    "grad": ("it sets a .grad (zero_grad() included)", "call zero_grad() outside it"),
    "backward": ("it calls backward()", "return the loss instead: the replay runs backward itself"),
}


class _Tape(modes.Observer):
    """The observer that records a step: (op, its inputs, its parameters, its output, its inputs) for every op
    that ran, and a sentence for each thing the step did that a replay would not do again."""

    def __init__(self) -> None:
        self.tape: list[Any] = []
        self.modules: dict[int, Any] = {}  # the outermost modules whose forward ran, by id

    def ran(self, op: Any, inputs: list[Any], params: dict[str, Any], out: Any, given: tuple[Any, ...]) -> None:
        self.tape.append((op, inputs, params, out, given))
        running = modes.modules()
        if running:
            self.modules.setdefault(id(running[0]), running[0])

    def touched(self, what: str, value: Any) -> None:
        done, fix = UNREPLAYABLE[what]
        self.tape.append(f"{done}, which a replay would not do again; {fix}")


class _Record:
    """One eager call of the step: its arguments, its tape, the loss and the order backward walked."""

    def __init__(self, step: Replay, args: tuple[Any, ...]):
        for i, a in enumerate(args):
            if not isinstance(a, (Value, np.ndarray)) and not _plain(a):
                raise TypeError(f"replay: argument {i} of {step._name()} is a {_checks.describe(a)}; a replayed step "
                                "takes arrays, Values and numbers (and strings, None and tuples of them)")
        observer = _Tape()
        with modes.observe(observer):
            root = step.fn(*args)
        tape, self.modules = observer.tape, list(observer.modules.values())
        name = step._name()
        refused = [e for e in tape if isinstance(e, str)]
        if refused:
            raise RuntimeError(f"replay: {name} cannot be replayed: {refused[0]}")
        made = {id(e[3]): k for k, e in enumerate(tape)}
        if not isinstance(root, Value) or id(root) not in made:
            raise TypeError(f"replay: {name} must return the loss, a Value computed by its ops, got "
                            f"{_checks.describe(root)}")
        self.values = backward.order(root)  # what the backward walks, in its order (raises as backward would)
        for v in self.values:
            if getattr(v, "_hooks", None) or id(v) in backward.retained:
                raise RuntimeError(f"replay: {name} cannot be replayed: a value of its graph has a hook "
                                   "(register_hook) or keeps its gradient (retain_grad), which a replay does not run")
        root.backward()
        self.args, self.tape, self.root, self.made = args, tape, root, made
        self.arg_of = {id(a): i for i, a in enumerate(args) if isinstance(a, (Value, np.ndarray))}

    def source(self, x: Any) -> tuple[str, Any]:
        """Where an operand came from: ("op", k) the k-th op of the tape, ("arg", i) the i-th argument, ("value",
        v) a Value made outside the tape (a parameter, or a Value the step made itself), ("constant", x) (a
        constant Value counts as its array)."""
        if id(x) in self.made:  # the tape holds its outputs, so their ids are theirs alone
            return "op", self.made[id(x)]
        if id(x) in self.arg_of:
            return "arg", self.arg_of[id(x)]
        if isinstance(x, Value) and x._node is None and not x.requires_grad and id(x.data) in self.arg_of:
            return "arg", self.arg_of[id(x.data)]  # a layer's input wrapped as a Value: its array is what counts
        return ("value", x) if isinstance(x, Value) else ("constant", x)  # a Value read afresh, a constant kept


class _Plan:
    """The second call's graph written out as a Python function (`source`): the forward calls on the arrays, then
    the backward rules in the order backward() called them, then the leaves' .grad. Names: x3 is op 3's output,
    a0 the first argument's numbers, o0 the first outside Value's (a parameter), c0 a constant; g_x3 is x3's
    gradient. The functions, parameters and constants it calls are in its namespace, named after the op."""

    def __init__(self, step: Replay, first: _Record, second: _Record):
        name = self.name = step._name()
        self.signatures = [_signature(a) for a in second.args]
        if [_signature(a) for a in first.args] != self.signatures or len(first.tape) != len(second.tape):
            raise RuntimeError(f"replay: {name} made a different graph in its first two calls (other arguments or "
                               f"another number of ops: {len(first.tape)} and {len(second.tape)}), so it cannot "
                               "be replayed")
        ns: dict[str, Any] = {"asarray": np.asarray, "sum_to": ops.sum_to, "store": backward.accumulate,
                              "changed": self._changed, "constant": _checks.constant}
        self.modules = second.modules  # the modules whose forward ran, and what the recording relied on of them
        self.fingerprint = _fingerprint(self.modules)
        module_arrays = {id(v) for m in self.modules for _, sub in m.named_modules() for v in vars(sub).values()
                         if isinstance(v, np.ndarray)}
        names: dict[Any, str] = {}  # ("arg", i), ("value", id) or ("constant", id) -> its name in the code
        self.outside: list[Value] = []  # Values read afresh at each call
        loads: list[str] = []

        frozen: list[str] = []  # outside arrays that are neither arguments nor a module's attributes

        def operand_name(k: int, pos: int, a: Any, b: Any, given: Any, given2: Any) -> str:
            """The name in the code of input `pos` of op k: a as the first call's op took it, b the second's,
            given and given2 as the step passed them (an argument is found by what was passed)."""
            (kind, x), (kind2, y) = first.source(given), second.source(given2)
            if kind == kind2 == "constant" and given is given2 and isinstance(given, np.ndarray) and \
                    given.dtype.kind in "iub":  # one outside array of ids or labels, which the op takes as floats
                key = ("outside", id(given))
                if key not in names:
                    names[key] = f"c{len(names)}"
                    if not given.flags.writeable:  # read-only (the causal mask): its numbers cannot change
                        ns[names[key]] = _checks.constant(given)
                    else:
                        ns[f"K{names[key]}"] = given
                        loads.append(f"    {names[key]} = constant(K{names[key]})  # its numbers now, as the op "
                                     "takes them")
                        if given.ndim and id(given) not in module_arrays:
                            frozen.append(f"op {k} ({second.tape[k][0].name}) reads an array of shape {given.shape}")
                return names[key]
            if kind == "constant":
                x = a
            if kind2 == "constant":
                y = b
            if kind == kind2 == "value" and x is not y and _wrapper(x) and _wrapper(y) and x.data is y.data:
                (kind, x), (kind2, y) = ("constant", x.data), ("constant", y.data)  # a layer's wrapping of an array
            if kind == "constant" and kind2 == "constant" and x is not y and _kept(given, given2) and \
                    np.ndim(given2) == 0:
                x = y  # a number made again each call (2, np.sqrt(d), a 0-d array): kept as recorded
            if kind != kind2 or (x is not y if kind in ("value", "constant") else x != y):
                raise RuntimeError(
                    f"replay: {name} cannot be replayed: input {pos} of op {k} ({second.tape[k][0].name}) is an "
                    "array or a Value that the step made itself (a random Dropout mask, a one-hot array or an index "
                    "made from the labels, an int array turned into floats), or it changed between the first two "
                    "calls. A replay reads its arguments and the arrays and Values that live outside the step "
                    "afresh, and keeps only numbers: make such arrays outside the step and pass them in as float "
                    "arrays, or call the step without replay")
            if kind2 == "op":
                return f"x{y}"
            key = (kind2, y) if kind2 == "arg" else (kind2, id(y))
            if key not in names:
                if kind2 == "arg":
                    names[key] = f"a{y}"
                    loads.append(f"    a{y} = args[{y}].data" if isinstance(second.args[y], Value) else
                                 f"    a{y} = constant(args[{y}])")  # as the op took it (a 0-d array as a number)
                elif kind2 == "value":  # read afresh each call, and refused if its shape, dtype or flag changed
                    j = len(self.outside)
                    names[key] = f"o{j}"
                    ns[f"O{j}"], ns[f"SIG_o{j}"] = y, _signature(y)  # ("Value", shape, dtype, requires_grad)
                    loads.append(f"    o{j} = O{j}.data\n    if ('Value', o{j}.shape, o{j}.dtype, O{j}.requires_grad)"
                                 f" != SIG_o{j}:\n        changed(O{j}, SIG_o{j})")
                    self.outside.append(y)
                else:
                    names[key] = f"c{len(names)}"
                    ns[names[key]] = y
                    if isinstance(y, np.ndarray) and y.ndim and id(y) not in module_arrays:
                        frozen.append(f"op {k} ({second.tape[k][0].name}) reads an array of shape {y.shape}")
            return names[key]

        if first.made[id(first.root)] != second.made[id(second.root)]:
            raise RuntimeError(f"replay: {name} returned another value in its second call")
        root = second.made[id(second.root)]
        calls: list[str] = []  # the forward's lines
        inputs_of: dict[int, list[str]] = {}
        for k in sorted(_needed(second, root)):  # the ops the loss depends on (not a dropped metric's)
            (op, xs, params, out, given), (op2, ys, params2, out2, given2) = first.tape[k], second.tape[k]
            if op2.user:
                raise RuntimeError(f"replay: {name} cannot be replayed: op {k} is a Function ({op2.name}), whose "
                                   "backward keeps what its forward saved on its context")
            if op is not op2 or len(xs) != len(ys) or params.keys() != params2.keys() or \
                    not all(_kept(params[p], params2[p]) for p in params) or \
                    out.shape != out2.shape or out.dtype != out2.dtype or out.requires_grad != out2.requires_grad:
                raise RuntimeError(f"replay: {name} cannot be replayed: op {k} ({op2.name}) differed between its "
                                   "first two calls (another op or shape), or a parameter of it is an array made "
                                   "inside the step (an index made from the labels, a mask): a replay would keep "
                                   "it. Make such arrays outside the step, or call the step without replay")
            inputs_of[k] = [operand_name(k, i, *operands) for i, operands in enumerate(zip(xs, ys, given, given2))]
            ns[f"F_{op2.name}"] = op2.forward
            for p, v in params2.items():
                ns[f"P{k}_{p}"] = v
            call = ", ".join(inputs_of[k] + [f"{p}=P{k}_{p}" for p in params2])
            calls.append(f"    x{k} = asarray(F_{op2.name}({call}))  # a 0-d result may be a numpy scalar"
                         if out2.ndim == 0 else f"    x{k} = F_{op2.name}({call})")
        ns["SEED"] = np.array(1, second.root.dtype).reshape(second.root.shape)

        ns.update({f"SIG_a{i}": sig for i, sig in enumerate(self.signatures)}, signature=_signature, wrong=self._wrong)
        checks = "".join(f" or signature(args[{i}]) != SIG_a{i}" for i in range(len(self.signatures)))
        lines = [f"def replayed(args):  # {name}, replayed by tinygrad_lite.replay",
                 f"    if len(args) != {len(self.signatures)}{checks}:\n        wrong(args)", *loads]
        lines += calls
        lines.append(f"    g_x{root} = SEED")
        stores, given = [], set()
        outside_at = {id(v): j for j, v in enumerate(self.outside)}
        for v in reversed(second.values):  # backward's own order
            node = v._node
            if node is None:  # a leaf: an argument or an outside Value keeps its gradient, a step's own is dropped
                if id(v) in second.arg_of:
                    stores.append(f"    store(args[{second.arg_of[id(v)]}], g_a{second.arg_of[id(v)]})")
                elif id(v) in outside_at:
                    stores.append(f"    store(O{outside_at[id(v)]}, g_o{outside_at[id(v)]})")
                continue
            k, op = second.made[id(v)], node.op
            ins = ", ".join([f"g_x{k}", f"x{k}", *inputs_of[k]] + [f"{p}=P{k}_{p}" for p in node.params])
            if op.joint is not None:
                ns[f"J_{op.name}"] = op.joint
                lines.append(f"    j = J_{op.name}({ins})")
            for i, p in enumerate(node.inputs):
                if not (isinstance(p, Value) and p.requires_grad):
                    continue
                target = f"g_{inputs_of[k][i]}"
                gp = f"j[{i}]"
                if op.joint is None:
                    ns[f"R_{op.name}_{i}"], gp = op.rules[i], f"R_{op.name}_{i}({ins})"
                if p.shape != v.shape:  # broadcast in the forward: summed back as backward() does (else the
                    ns[f"S{k}_{i}"] = p.shape  # shapes are those of the recording, which needed no sum)
                    lines.append(f"    t = {gp}\n    t = t if t.shape == S{k}_{i} else sum_to(t, S{k}_{i}, "
                                 f"{op.name!r})")
                    gp = "t"
                lines.append(f"    {target} = {gp}" if target not in given else f"    {target} = {target} + {gp}")
                given.add(target)
            lines.append(f"    del g_x{k}")  # let go of each gradient once passed on, as backward() does
        lines += stores + [f"    return x{root}"]
        self.source = "\n".join(lines) + "\n"
        if frozen:
            warnings.warn(f"replay: {name}: {'; '.join(frozen)} that is neither an argument nor a module's attribute: "
                          "the replay keeps that array (numbers written into it are seen, a name bound to a new array "
                          "is not); pass it as an argument to have it read at every call", stacklevel=4)
        exec(compile(self.source, f"<replay of {name}>", "exec"), ns)  # noqa: S102  (code written above, no input)
        self.replayed = ns["replayed"]

    def _wrong(self, args: tuple[Any, ...]) -> None:
        raise ValueError(f"replay: {self.name} was recorded with arguments {_shown(self.signatures)} and is now "
                         f"called with {_shown([_signature(a) for a in args])}; a replayed step keeps its shapes "
                         "and dtypes: make a new tl.replay(...) for these")

    def _changed(self, v: Value, recorded: Any) -> None:
        raise ValueError(f"replay: {self.name} was recorded with {_shown([recorded])} (a parameter), now "
                         f"{_shown([_signature(v)])}; make a new tl.replay(...) for it")


def _wrapper(v: Any) -> bool:
    """A constant Value that is no op's output: a layer's wrapping of an array it was given, made at each call."""
    return isinstance(v, Value) and v._node is None and not v.requires_grad


def _aliased(args: tuple[Any, ...]) -> bool:
    """Whether one array or Value is passed for two arguments."""
    ids = [id(a) for a in args if isinstance(a, (Value, np.ndarray))]
    return len(ids) != len(set(ids))


def _mark(v: Any) -> Any:
    """What a replay relies on of a module's attribute: which object it is (a Value with its flag), the items of a
    list or dict of them, or the value of a flag or number."""
    if isinstance(v, Value):
        return "Value", id(v), v.requires_grad
    if isinstance(v, (list, tuple)):
        return "list", tuple(_mark(x) for x in v)
    if isinstance(v, dict):
        return "dict", tuple((k, _mark(x)) for k, x in v.items())
    if isinstance(v, (bool, int, float, str, type(None))):
        return v
    return "object", id(v)


def _fingerprint(modules: list[Any]) -> list[Any]:
    """Every module under the ones whose forward ran, with what each holds: compared before each replay."""
    return [(id(sub), [(k, _mark(v)) for k, v in vars(sub).items()]) for m in modules for _, sub in m.named_modules()]


def _needed(record: _Record, root: int) -> set[int]:
    """The ops of a recording that the loss depends on."""
    needed, todo = set(), [root]
    while todo:
        k = todo.pop()
        if k not in needed:
            needed.add(k)
            todo += [y for kind, y in map(record.source, record.tape[k][1]) if kind == "op"]
    return needed


def _shown(signatures: list[Any]) -> str:
    def one(s: Any) -> str:
        if s[0] == "other":
            return repr(s[1])
        return f"{s[0]} of shape {s[1]} {s[2]}" + (", requires_grad" if s[0] == "Value" and s[3] else "")
    return "(" + ", ".join(map(one, signatures)) + ")"
