"""The same model in PyTorch and back (tl.nn.to_torch, tl.nn.from_torch), tested against torch itself: these tests
need PyTorch (and transformers for GPT-2's layout) and are skipped where they are absent; .ci/run installs both.
For every built-in layer and container and the GPT, in float32 and float64: the outputs, the input's gradient and
every parameter's gradient are PyTorch's, and a round trip gives the weights back exactly."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.programs.gpt import GPT

torch = pytest.importorskip("torch")

R = np.random.default_rng(0)

# name: (a model, the input's shape; ints: token ids drawn below that bound instead of floats)
CASES = {
    "Linear": (lambda: nn.Linear(3, 4, rng=1), (5, 3)),
    "Linear without bias": (lambda: nn.Linear(4, 4, bias=False, rng=1), (5, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, rng=1), (2, 2, 7, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 3, 8, 7)),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2), (2, 3, 8, 8)),
    "BatchNorm1d (N, C)": (lambda: nn.BatchNorm1d(4), (6, 4)),
    "BatchNorm1d (N, C, L)": (lambda: nn.BatchNorm1d(4), (3, 4, 5)),
    "BatchNorm1d (B, T, C)": (lambda: nn.BatchNorm1d(4), (3, 5, 4)),
    "BatchNorm1d eval": (lambda: nn.BatchNorm1d(4).eval(), (6, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (3, 4)),
    "LayerNorm over two axes, no bias": (lambda: nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
    "RMSNorm": (lambda: nn.RMSNorm(4), (3, 4)),
    "Embedding": (lambda: nn.Embedding(7, 3, rng=1), (2, 5, "ids", 7)),
    "Sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "Tanh": (lambda: nn.Tanh(), (3, 4)),
    "ReLU": (lambda: nn.ReLU(), (3, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "GELU": (lambda: nn.GELU(), (3, 4)),
    "GELU tanh": (lambda: nn.GELU(approximate="tanh"), (3, 4)),
    "Softmax": (lambda: nn.Softmax(axis=1), (3, 4)),
    "Flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "Dropout (eval)": (lambda: nn.Dropout(0.3).eval(), (3, 4)),
    "CausalSelfAttention": (lambda: nn.CausalSelfAttention(8, 2, rng=1), (2, 5, 8)),
    "CausalSelfAttention without bias": (lambda: nn.CausalSelfAttention(8, 4, bias=False, rng=1), (2, 5, 8)),
    "RNNCell": (lambda: nn.RNNCell(3, 5, rng=1), (4, 3)),
    "GRUCell": (lambda: nn.GRUCell(3, 5, rng=1), (4, 3)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 5, rng=1), (4, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 6, rng=1), nn.Tanh(), nn.LayerNorm(6), nn.Linear(6, 2, rng=2)),
                   (5, 3)),
    "GPT": (lambda: GPT(11, block_size=8, n_layer=2, n_head=2, n_embd=8, seed=1), (2, 6, "ids", 11)),
    "GPT-2's layout": (lambda: GPT(11, block_size=8, n_layer=1, n_head=2, n_embd=8, seed=1, bias=True, gelu="tanh"),
                       (2, 6, "ids", 11)),
}
DTYPES = {np.float32: (torch.float32, 2e-5), np.float64: (torch.float64, 1e-11)}


def _jiggled(model):
    """The weights moved off their initial values (ones, zeros), so that a wrong or missing copy shows."""
    for p in model.parameters():
        p.data = p.data + 0.1 * R.standard_normal(p.shape)
    return model


def _input(shape, dtype):
    if "ids" in shape:
        return R.integers(0, shape[-1], shape[:-2])
    return R.standard_normal(shape).astype(dtype)


def _grads_in_torch_layout(model):
    """The gradients laid out as PyTorch's parameters, in its order: a copy of the model holding them as weights,
    converted (its forward equality with PyTorch, checked first, says the layouts are right)."""
    holder = _jiggled(CASES_MADE[id(model)]()).to(model.parameters()[0].dtype)
    for p, q in zip(holder.parameters(), model.parameters()):
        p.data = q.grad
    return [p.detach().numpy() for p in nn.to_torch(holder).parameters()]


CASES_MADE = {}


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_a_layer_in_pytorch_gives_the_same_outputs_and_gradients(name, dtype):
    make, shape = CASES[name]
    torch_dtype, tol = DTYPES[dtype]
    model = _jiggled(make()).to(dtype) if make().parameters() else make()
    model.train(make().training)
    theirs = nn.to_torch(model)
    assert all(p.dtype == torch_dtype for p in theirs.parameters()) and theirs.training == model.training
    x = _input(shape, dtype)
    xv = tl.Value(x) if x.dtype.kind == "f" else x
    tx = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    out, tout = model(xv), theirs(tx)
    if name == "LSTMCell":  # (h, c): both compared, the loss made of both
        out, tout = tl.concatenate(list(out), axis=1), torch.cat(tout, dim=1)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    direction = R.standard_normal(out.shape).astype(dtype)
    (out * direction).sum().backward()
    (tout * torch.tensor(direction)).sum().backward()
    if x.dtype.kind == "f":
        np.testing.assert_allclose(xv.grad, tx.grad.numpy(), rtol=tol, atol=tol)
    if model.parameters():
        CASES_MADE[id(model)] = make
        for ours, p in zip(_grads_in_torch_layout(model), theirs.parameters()):
            np.testing.assert_allclose(ours, p.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    if name.startswith("BatchNorm1d") and model.training:  # the running statistics moved alike
        np.testing.assert_allclose(model.running_mean.data, theirs.running_mean.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(model.running_var.data, theirs.running_var.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(CASES))
def test_a_round_trip_gives_the_weights_back_exactly(name):
    model = _jiggled(CASES[name][0]())
    back = nn.from_torch(nn.to_torch(model))
    assert type(back) is type(model) and back.training == model.training
    mine, again = model.state_dict(), back.state_dict()
    assert mine.keys() == again.keys()
    for k in mine:
        assert mine[k].dtype == again[k].dtype and np.array_equal(mine[k], again[k]), k


def test_containers_convert_with_their_members():
    lst = nn.ModuleList([nn.Linear(2, 3, rng=1), nn.Tanh()])
    dct = nn.ModuleDict({"a": nn.Linear(2, 3, rng=1), "b": nn.ReLU()})
    tl_, td = nn.to_torch(lst), nn.to_torch(dct)
    assert isinstance(tl_, torch.nn.ModuleList) and isinstance(td, torch.nn.ModuleDict) and list(td) == ["a", "b"]
    np.testing.assert_array_equal(tl_[0].weight.detach().numpy(), lst[0].weight.data.T)
    back = nn.from_torch(td)
    assert isinstance(back, nn.ModuleDict) and np.array_equal(back["a"].weight.data, dct["a"].weight.data)


def test_a_model_made_in_pytorch_trains_here_as_it_trains_there():
    torch.manual_seed(0)
    made = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)).double()
    model = nn.from_torch(made)
    X, y = tl.data.moons(n=64, noise=0.1, seed=0)
    opt, topt = tl.optim.SGD(model.parameters(), lr=0.5), torch.optim.SGD(made.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropy()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(made(torch.tensor(X)), torch.tensor(y))
        tloss.backward()
        topt.step()
        losses.append((loss.item(), tloss.item()))
    np.testing.assert_allclose(*zip(*losses), rtol=1e-10)
    assert losses[-1][0] < 0.5 * losses[0][0]  # it learned


def test_a_module_of_your_own_is_refused_with_its_name():
    class MyNet(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(x).relu()

    with pytest.raises(TypeError, match=r"to_torch: MyNet is a Module class of your own.*to_torch\(model.part\)"):
        nn.to_torch(MyNet())
    assert isinstance(nn.to_torch(MyNet().layer), torch.nn.Linear)  # its parts convert

    class Theirs(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match=r"from_torch: Theirs is a module this library has no twin of"):
        nn.from_torch(Theirs())
    with pytest.raises(TypeError, match=r"from_torch: Conv2d with groups"):
        nn.from_torch(torch.nn.Conv2d(2, 2, 3, groups=2))
    with pytest.raises(TypeError, match=r"from_torch: give a torch.nn.Module"):
        nn.from_torch(nn.Linear(2, 2))
    for wrong in (torch.nn.Linear(2, 2), None, "model"):
        with pytest.raises(TypeError, match=r"to_torch: give a tinygrad_lite Module"):
            nn.to_torch(wrong)
    with pytest.raises(TypeError, match=r"from_torch: the parameters are torch.float16"):
        nn.from_torch(torch.nn.Linear(2, 2).half())


def test_the_core_never_imports_torch():
    import subprocess
    import sys
    code = "import sys, tinygrad_lite as tl; tl.nn.Linear(2, 2); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_gpt2s_weights_in_this_gpt_give_transformers_logits():
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(vocab_size=11, n_positions=16, n_embd=8, n_layer=2, n_head=2, resid_pdrop=0.0,
                                     embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for p in hf.parameters():  # biases and LayerNorms away from 0 and 1, so that a wrong copy shows
            p.add_(0.1 * torch.randn_like(p))
    model = GPT.from_gpt2(hf.state_dict(), n_head=2)
    assert model.block_size == 16 and len(model.blocks) == 2 and model.parameters()[0].dtype == np.float32
    ids = R.integers(0, 11, (2, 16))
    expected = hf(torch.tensor(ids)).logits.detach().numpy()
    np.testing.assert_allclose(model(ids).data, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="give the state_dict"):
        GPT.from_gpt2({"x": np.ones(2)}, n_head=2)
    with pytest.raises(ValueError, match="not a multiple of n_head 3"):
        GPT.from_gpt2(hf.state_dict(), n_head=3)
    with pytest.raises(TypeError, match=r"GPT.from_gpt2: give a state dict \(model.state_dict\(\)\)"):
        GPT.from_gpt2(hf, n_head=2)
    with pytest.raises((TypeError, ValueError), match=r"GPT.from_gpt2: n_head"):
        GPT.from_gpt2(hf.state_dict(), n_head="12")
