"""Hypothesis profiles: `ci` (used by `make test`): no deadline, a fixed number of examples, and the
seed printed in pytest's header so that a failure can be replayed with `make test SEED=...`."""

import os

from hypothesis import HealthCheck, settings

EXAMPLES_PER_OP = int(os.environ.get("EXAMPLES_PER_OP", "100"))

settings.register_profile("ci", deadline=None, max_examples=EXAMPLES_PER_OP, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", deadline=None, max_examples=15)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", None)
    return [f"hypothesis seed: {seed if seed is not None else 'random (pass --hypothesis-seed=N to fix it)'}, "
            f"examples per property: {settings().max_examples}"]
