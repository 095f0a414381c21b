"""How big a simulation may be, checked before anything is built or allocated.

The command line and the app's forms call the same checks, so both refuse the same sizes
with the same one-line message, instead of a ``MemoryError`` traceback, a machine that swaps
for minutes, or learning rates that overflow to infinity:

* :func:`check_simulation` for ``simulate`` and the simulation form;
* :func:`check_range_test` for ``rangetest`` and the range-test form.

Both raise :class:`SizeError`, an :class:`~lrviz.errors.LrvizError`: one line that names the
setting and the limit. Memory is estimated by :func:`simulation_bytes` and compared with
:func:`memory_budget` (half the machine's RAM). The engine itself needs O(runs x dim)
memory whatever the number of iterations; a caller that keeps every iteration (the app's
``RunStore``) passes what it keeps as ``history_bytes`` (:func:`history_bytes` is the
full-resolution figure).
"""

from __future__ import annotations

import dataclasses
import inspect
import os

from lrviz.engine import BATCH_BYTES
from lrviz.errors import LrvizError
from lrviz.objectives import make_objective
from lrviz.objectives.mlp import MLP
from lrviz.simulation_config import SimulationConfig

MAX_RUNS = 100_000  # what lr_spec's A:B:N accepts
MAX_ITERATIONS = 10_000_000  # the simulation form's maximum
MAX_RANGE_TEST_ITERATIONS = 1_000_000  # the range-test form's: the LR finders use 100
#: The quadratic's random rotation takes O(dim^3) to build: 24 s at dim 4,000 on this
#: project's 2-core machine under load, minutes at 10,000 (the simulation form's maximum).
MAX_DIM = 4_096
MAX_SAMPLES = 10_000_000
MAX_FEATURES = 10_000
#: A range test ramps from min to max lr through min * (max / min) ** f; outside these bounds
#: the ratio overflows to infinity (1e-300 .. 1e300 gives lrs of inf and JSON that cannot be
#: written).
RANGE_TEST_LR_BOUNDS = (1e-100, 1e100)
FALLBACK_MEMORY_BUDGET = 4 * 2**30  # when the machine's RAM cannot be read
#: Floating-point operations one simulation may take (:func:`simulation_work`): about an
#: hour of matrix arithmetic on one core (the 100-D quadratic runs at ~3e10 per second),
#: longer for elementwise objectives; 40x the biggest Rosenbrock sweep the simulation form
#: allows (4,096 runs x 10,000,000 iterations: 2.5e12).
MAX_WORK = 1e14
#: Sharpness measurements one simulation may keep (each a row of R values), and the
#: Hessian-vector products one measurement may take (two gradient evaluations each).
MAX_SHARPNESS_MEASUREMENTS = 100_000
SHARPNESS_PRODUCTS = 30

FLOAT = 8  # bytes
#: (runs, dim) float arrays the engine may hold at once: weights (twice once runs have
#: diverged), gradient, lr rows (twice under a schedule), optimizer state and scratch
#: (Adam: m, v, two scratch arrays), weight decay's scratch.
ENGINE_ARRAYS = 10


class SizeError(LrvizError):
    """A simulation or range test too big to run: what is too big, and the limit."""


def check_simulation(
    config: SimulationConfig, *, history_bytes: int = 0, memory_budget: int | None = None
) -> None:
    """Refuse ``config`` if it is past a limit or would not fit in memory.

    Parameters
    ----------
    config : SimulationConfig
    history_bytes : int
        Bytes the caller keeps besides the engine (0 for the command line, which streams).
    memory_budget : int, optional
        Default :func:`memory_budget`.

    Raises
    ------
    SizeError
    """
    runs = len(config.lrs)
    _at_most(f"{runs:,} learning rates", runs, MAX_RUNS)
    _at_most(f"--iterations {config.iterations:,}", config.iterations, MAX_ITERATIONS)
    every = config.sharpness_every
    if every is not None:
        if not (isinstance(every, int) and every >= 1):
            raise SizeError(f"sharpness interval must be a whole number of at least 1, got {every}")
        measurements = sharpness_measurements(config)
        _at_most(
            f"{measurements:,} sharpness measurements",
            measurements,
            MAX_SHARPNESS_MEASUREMENTS,
            ": measure less often",
        )
        history_bytes += measurements * runs * FLOAT
    _check_objective_options(config)
    _check_memory(simulation_bytes(config, runs) + history_bytes, memory_budget)
    _check_work(config, runs, config.iterations)


def check_range_test(
    config: SimulationConfig,
    min_lr: float,
    max_lr: float,
    iterations: int,
    *,
    memory_budget: int | None = None,
) -> None:
    """Refuse a range test of ``config``'s problem from ``min_lr`` to ``max_lr`` over
    ``iterations`` if it is past a limit or would not fit in memory (``config.lrs`` and
    ``config.iterations`` are ignored, as :class:`lrviz.rangetest.RangeTest` does)."""
    _at_most(
        f"--iterations {iterations:,}", iterations, MAX_RANGE_TEST_ITERATIONS, " for a range test"
    )
    low, high = RANGE_TEST_LR_BOUNDS
    for flag, lr in (("--min-lr", min_lr), ("--max-lr", max_lr)):
        if not low <= lr <= high:
            raise SizeError(
                f"{flag} {lr:g} is outside {low:g} .. {high:g}, the learning rates a range "
                "test can ramp through"
            )
    _check_objective_options(config)
    test = dataclasses.replace(config, iterations=iterations)
    curve = 3 * FLOAT * iterations  # the test's lr, loss and accuracy arrays
    _check_memory(simulation_bytes(test, runs=1) + curve, memory_budget)
    _check_work(test, 1, iterations)


def simulation_bytes(config: SimulationConfig, runs: int | None = None) -> int:
    """Estimated peak bytes of building and running ``config`` (with ``runs`` learning
    rates, default ``len(config.lrs)``): the objective's data and one evaluation's
    temporaries, the engine's (runs, dim) state, and one batch. Not the caller's history."""
    runs = len(config.lrs) if runs is None else runs
    dim, objective_bytes = _objective_footprint(config, runs)
    per_iteration = 3 * runs * FLOAT  # loss, lr, accuracy
    batch = 2 * min(BATCH_BYTES, config.iterations * per_iteration)  # working + all-runs copy
    return objective_bytes + ENGINE_ARRAYS * runs * dim * FLOAT + batch


def simulation_work(config: SimulationConfig, runs: int | None = None) -> float:
    """Estimated floating-point operations of building and running ``config`` to the end
    (no run diverging): iterations x runs x the cost of one run's iteration, plus building
    the objective. A model, good to a small factor: it is there to refuse the absurd."""
    runs = len(config.lrs) if runs is None else runs
    per_run, build = _objective_work(config)
    dim = _objective_footprint(config, 1)[0]
    engine = 20 * dim  # optimizer update, divergence test, recording
    sharpness = float(sharpness_measurements(config)) * 2 * SHARPNESS_PRODUCTS * per_run
    return float(config.iterations) * runs * (per_run + engine) + runs * sharpness + build


def sharpness_measurements(config: SimulationConfig) -> int:
    """How many times a simulation of ``config`` measures the sharpness (0: never)."""
    every = config.sharpness_every
    return 0 if every is None else -(-config.iterations // every)


def history_bytes(config: SimulationConfig, record_weights: bool = False) -> int:
    """Bytes of keeping every iteration of every run at full resolution: loss, lr and
    accuracy (and the weights, when recorded), what a history without a budget allocates."""
    dim = _objective_footprint(config, 1)[0] if record_weights else 0
    return config.iterations * len(config.lrs) * FLOAT * (3 + dim)


def memory_budget() -> int:
    """Half the machine's RAM: what one simulation may take without starving the rest."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return FALLBACK_MEMORY_BUDGET


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


# --- internals ----------------------------------------------------------------------------


def _at_most(subject: str, value: int, limit: int, context: str = "") -> None:
    if value > limit:
        raise SizeError(f"{subject}: more than the limit of {limit:,}{context}")


def _check_objective_options(config: SimulationConfig) -> None:
    """The options that size the objective, for the objectives that use them."""
    if config.objective == "quadratic":
        _at_most(f"--dim {config.dim:,}", config.dim, MAX_DIM)
    if config.objective in ("logreg", "mlp"):
        _at_most(f"--samples {config.samples:,}", config.samples, MAX_SAMPLES)
        _at_most(f"--features {config.features:,}", config.features, MAX_FEATURES)


def _check_memory(needed: int, budget: int | None) -> None:
    why = " (half this machine's RAM)" if budget is None else ""
    budget = memory_budget() if budget is None else budget
    if needed > budget:
        raise SizeError(
            f"this would need about {format_bytes(needed)} of memory, more than the "
            f"{format_bytes(budget)} allowed{why}; use fewer learning rates, a smaller "
            "dimension or fewer samples"
        )


def _check_work(config: SimulationConfig, runs: int, iterations: int) -> None:
    work = simulation_work(config, runs)
    if work > MAX_WORK:
        raise SizeError(
            f"{runs:,} run{'s' if runs > 1 else ''} x {iterations:,} iterations of "
            f"{config.objective} would take about {work:.0e} floating-point operations, more "
            f"than the limit of {MAX_WORK:.0e} (hours of computing); use fewer learning rates, "
            "iterations or dimensions"
        )


def _objective_work(config: SimulationConfig) -> tuple[float, float]:
    """(operations of one run's iteration, operations of building) of the objective."""
    name, dim = config.objective, _objective_footprint(config, 1)[0]
    batch = _batch(config)
    if name == "rosenbrock":
        return 20.0, 0.0
    if name == "quadratic":
        # (1, dim) x (dim, dim) per run; building: a QR and two products of dim x dim
        return 2.0 * dim * dim + 2.0 * dim, 4.0 * dim**3
    if name == "logreg":
        return 4.0 * batch * dim + 30.0 * batch, 0.0
    if name == "mlp":
        hidden, classes = _mlp_sizes()
        layers = config.features * hidden + hidden * classes
        return 6.0 * batch * layers + 30.0 * batch * (hidden + classes), 0.0
    return 50.0 * dim, 0.0


def _batch(config: SimulationConfig) -> int:
    if config.batch_size is None:
        return config.samples
    return min(config.samples, config.batch_size)


def _mlp_sizes() -> tuple[int, int]:
    """The MLP's hidden width and classes: the command line and the forms keep its defaults."""
    defaults = inspect.signature(MLP.__init__).parameters
    return defaults["hidden"].default, defaults["classes"].default


def _objective_footprint(config: SimulationConfig, runs: int) -> tuple[int, int]:
    """(dim, bytes) of ``config``'s objective: its number of parameters, and its data plus
    the temporaries of evaluating ``runs`` rows, from the configuration alone."""
    name = config.objective
    batch = _batch(config)
    if name == "rosenbrock":
        return 2, 0
    if name == "quadratic":
        dim = config.dim
        # Building draws a dim x dim normal matrix, factors it (q and r) and forms q diag q^T
        # and its symmetrized copy.
        return dim, FLOAT * (5 * dim * dim + 2 * runs * dim)
    if name == "logreg":
        dim = config.features + 1
        # The dataset (and its copies while it is made), and the (runs, batch) logits with
        # their elementwise temporaries.
        return dim, FLOAT * (3 * config.samples * dim + 8 * runs * batch)
    if name == "mlp":
        hidden, classes = _mlp_sizes()
        features = config.features
        dim = features * hidden + hidden + hidden * classes + classes
        teacher = 2 * features + 4  # the teacher network's width (make_teacher_dataset)
        data = config.samples * (features + 2 * teacher)
        # (runs, batch, hidden) activations and (runs, batch, classes) scores, with the
        # backward pass's copies.
        return dim, FLOAT * (data + runs * batch * (6 * hidden + 8 * classes))
    # An objective this module does not know (a formula, say): it is small to build, so build
    # it for its number of parameters, and allow a few (runs, dim) temporaries.
    dim = _built_objective_dim(config)
    return dim, 4 * FLOAT * runs * dim


def _built_objective_dim(config: SimulationConfig) -> int:
    options = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.name not in ("objective", "optimizer", "lrs", "iterations")
    }
    return int(make_objective(config.objective, **options).dim)
