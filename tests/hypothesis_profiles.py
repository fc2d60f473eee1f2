"""Hypothesis profiles: bounded and seeded for `make test`, long for `make test-deep`.

The property-based tests (the W5 state machine in
tests/cases/test_state_machine.py, the Schemathesis fuzz in
tests/cases/test_api_fuzz.py) are most of the suite's time. Their budgets
come from one profile, chosen by `LOTSE_HYPOTHESIS_PROFILE`:

- `fast` (the default; `make test`, CI): derandomized, so every run
  generates exactly the same sequences and checks the same invariants, with
  bounded examples and steps;
- `deep` (`make test-deep`): the same operations and invariants with twice
  the W5 lifecycles at 1.5 times their length (three times the commands)
  and four times the fuzz examples, still derandomized;
- `explore`: the deep budget with a fresh random seed per run (Hypothesis
  prints it on a failure; replay with `pytest --hypothesis-seed=<seed>`).

No profile writes `.hypothesis/` (database=None) or shrinks by default: a
failure prints its unshrunk sequence step by step (add Phase.shrink locally
to minimise it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings

PROFILE_VARIABLE = "LOTSE_HYPOTHESIS_PROFILE"


@dataclass(frozen=True)
class Budget:
    machine_examples: int  # W5: case lifecycles per run
    machine_steps: int  # W5: commands per lifecycle
    fuzz_examples: int  # F1: examples per API operation and role


# W5 keeps 500 lifecycles in `fast`: its assertion that every state, transition
# and command is reached held at 500 and failed at 200 (referral_update and
# extension_request_approve never succeeded), so the fuzz carries the saving.
BUDGETS = {
    "fast": Budget(machine_examples=500, machine_steps=20, fuzz_examples=30),
    "deep": Budget(machine_examples=1000, machine_steps=30, fuzz_examples=120),
    "explore": Budget(machine_examples=2000, machine_steps=30, fuzz_examples=120),
}

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": False,
    "phases": (Phase.explicit, Phase.reuse, Phase.generate),
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
}

for _name, _budget in BUDGETS.items():
    settings.register_profile(
        _name,
        max_examples=_budget.fuzz_examples,
        stateful_step_count=_budget.machine_steps,
        derandomize=_name != "explore",
        **_COMMON,
    )


def profile_name() -> str:
    name = os.environ.get(PROFILE_VARIABLE, "fast")
    if name not in BUDGETS:
        raise ValueError(f"{PROFILE_VARIABLE}={name!r}: choose one of {', '.join(BUDGETS)}")
    return name


PROFILE = profile_name()
BUDGET = BUDGETS[PROFILE]
settings.load_profile(PROFILE)
