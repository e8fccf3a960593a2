"""glibc's allocator: importing tinygrad_lite leaves it alone; tl.memory.tune() keeps freed arrays for the next step
instead of having them faulted in again, respects the process's own choice, and a training loop's memory stays flat.
Each case runs in a fresh process: the setting is the whole process's."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
                                reason="the allocator is tuned on Linux with glibc only")

# Each step makes eight arrays of 4 MB, writes them and frees them: 32 MB at the top of the heap, which
# glibc's defaults hand back to the kernel (its trim threshold is far lower) and fault in again next step.
FAULTS = """
import json, resource, numpy as np
{imports}
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def step():
    arrays = [np.ones(1 << 19) for _ in range(8)]
    del arrays
for _ in range(3):
    step()
before = faults()
for _ in range(20):
    step()
print(json.dumps({{"faults": (faults() - before) / 20, "tuned": {tuned}}}))
"""


def _run(code, **env):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True,
                         env={k: v for k, v in {**os.environ, **env}.items() if v is not None}, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _faults(imports, tuned, **env):
    return _run(FAULTS.format(imports=imports, tuned=tuned), **{"MALLOC_TOP_PAD_": None, **env})


def test_importing_tinygrad_lite_leaves_the_allocator_alone():
    plain = _faults("", "None")
    imported = _faults("import tinygrad_lite as tl", "tl.memory.tuned()")
    assert plain["faults"] > 1000, plain  # 8192 pages a step are handed back and faulted in again
    assert imported["tuned"] is False and imported["faults"] > 1000, imported


def test_tune_keeps_freed_arrays_for_the_next_step():
    tuned = _faults("import tinygrad_lite as tl; tl.memory.tune()", "tl.memory.tuned()")
    assert tuned["tuned"] is True and tuned["faults"] < 100, tuned


def test_the_process_own_setting_is_left_alone():
    own = _faults("import tinygrad_lite as tl; assert not tl.memory.tune()", "tl.memory.tuned()", MALLOC_TOP_PAD_="0")
    assert own["tuned"] is False and own["faults"] > 1000, own


TRAINING = """
import json, resource, numpy as np
import tinygrad_lite as tl
if TUNE:
    tl.memory.tune()
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
rng = np.random.default_rng(0)
x, y = rng.standard_normal((256, 64)), rng.integers(0, 10, 256)
model = tl.nn.Sequential(tl.nn.Linear(64, 128), tl.nn.Tanh(), tl.nn.Linear(128, 64), tl.nn.ReLU(),
                         tl.nn.Linear(64, 10))
opt, loss_fn, rss = tl.optim.SGD(model.parameters(), lr=0.01), tl.nn.CrossEntropy(), []
onehot = np.eye(10)[y]
replayed = tl.replay(lambda: loss_fn(model(x), onehot))
for step in range(5000):
    opt.zero_grad()
    if REPLAY:
        replayed()
    else:
        loss_fn(model(x), y).backward()
    opt.step()
    if step % 500 == 499:
        rss.append(rss_mb())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rss": rss, "peak": peak, "tuned": tl.memory.tuned()}))
"""


@pytest.mark.slow
def test_memory_stays_flat_over_5000_steps_and_the_peak_grows_less_than_a_tenth():
    tuned = _run("REPLAY = False\nTUNE = True\n" + TRAINING, MALLOC_TOP_PAD_=None)
    plain = _run("REPLAY = False\nTUNE = False\n" + TRAINING, MALLOC_TOP_PAD_=None)
    assert tuned["tuned"] and not plain["tuned"]
    first, *rest = tuned["rss"]  # resident memory after 500, 1000, ... 5000 steps
    assert max(rest) <= first * 1.02 + 1, tuned["rss"]
    assert tuned["peak"] <= plain["peak"] * 1.10, (tuned["peak"], plain["peak"])


@pytest.mark.slow
def test_a_replayed_training_loop_stays_flat_too_and_peaks_no_higher_than_the_eager_one():
    eager = _run("REPLAY = False\nTUNE = True\n" + TRAINING, MALLOC_TOP_PAD_=None)
    replayed = _run("REPLAY = True\nTUNE = True\n" + TRAINING, MALLOC_TOP_PAD_=None)
    first, *rest = replayed["rss"]
    assert max(rest) <= first * 1.02 + 1, replayed["rss"]
    assert replayed["peak"] <= eager["peak"] * 1.10, (replayed["peak"], eager["peak"])
