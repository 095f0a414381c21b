"""Take a chosen learning-rate range elsewhere: JSON, and code to paste into a training script.

The app and the command line call the same functions, so what a user copies is what the
tests check. Numbers are written the way a person would type them (``3e-3``, ``0.05``),
never ``0.0030000000000000001``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: Snippet keys, in the order the app lists them.
SNIPPETS = ("pytorch_onecycle", "pytorch_cyclic", "pytorch_constant", "keras", "fastai")
SNIPPET_TITLES = {
    "pytorch_onecycle": "PyTorch OneCycleLR",
    "pytorch_cyclic": "PyTorch CyclicLR",
    "pytorch_constant": "PyTorch constant lr",
    "keras": "Keras one-cycle-like schedule",
    "fastai": "fastai fit_one_cycle",
}


def format_lr(value: float, digits: int = 3) -> str:
    """A learning rate as a short, valid Python/JSON-ish literal.

    Rounded to ``digits`` significant digits; plain decimals from 0.01 to below 1000
    (``0.05``, ``0.123``, ``2.5``), compact scientific notation otherwise (``3e-3``,
    ``1.25e-4``, ``1e+04`` becomes ``1e4``).

    Raises ValueError for a non-finite or non-positive value.
    """
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"a learning rate must be positive and finite, got {value!r}")
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = int(exponent)
    if -2 <= power < 3:
        text = f"{float(mantissa) * 10.0**power:.{max(digits - 1 - power, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return f"{mantissa}e{power}"


def _check_range(min_lr: float, max_lr: float) -> None:
    for name, value in (("min lr", min_lr), ("max lr", max_lr)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite, got {value!r}")
    if min_lr > max_lr:
        raise ValueError(f"min lr {format_lr(min_lr)} is above max lr {format_lr(max_lr)}")


def range_dict(
    min_lr: float,
    max_lr: float,
    suggested_lr: float | None = None,
    extra: Mapping | None = None,
) -> dict:
    """The chosen range as a JSON-ready dict (numbers rounded like :func:`format_lr`).

    ``extra`` entries (e.g. ``"source"``, ``"methods"``) are added as they are; they must be
    JSON-serialisable without NaN.
    """
    _check_range(min_lr, max_lr)
    out = {
        "min_lr": float(format_lr(min_lr)),
        "max_lr": float(format_lr(max_lr)),
        "suggested_lr": None if suggested_lr is None else float(format_lr(suggested_lr)),
    }
    if extra:
        out.update(extra)
    return out


def range_json(
    min_lr: float,
    max_lr: float,
    suggested_lr: float | None = None,
    extra: Mapping | None = None,
) -> str:
    """:func:`range_dict` as indented JSON text ending in a newline (never NaN)."""
    data = range_dict(min_lr, max_lr, suggested_lr, extra)
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def save_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, then
    ``os.replace``. A crash never leaves a half-written file; returns the path."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return path


def save_range_json(
    path: str | os.PathLike,
    min_lr: float,
    max_lr: float,
    suggested_lr: float | None = None,
    extra: Mapping | None = None,
) -> Path:
    """Save :func:`range_json` to ``path`` atomically."""
    return save_text_atomic(path, range_json(min_lr, max_lr, suggested_lr, extra))


#: lrviz's optimizer names -> (PyTorch constructor, Keras constructor), both with the
#: hyper-parameters lrviz's engine uses (PyTorch's defaults), so the exported code trains with
#: the optimizer the range test measured. None: the optimizer is unknown (a saved curve).
OPTIMIZER_CODE = {
    "sgd": (
        "torch.optim.SGD(model.parameters(), lr={lr})",
        "keras.optimizers.SGD(learning_rate={lr})",
    ),
    "momentum": (
        "torch.optim.SGD(model.parameters(), lr={lr}, momentum=0.9)",
        "keras.optimizers.SGD(learning_rate={lr}, momentum=0.9)",
    ),
    "nesterov": (
        "torch.optim.SGD(model.parameters(), lr={lr}, momentum=0.9, nesterov=True)",
        "keras.optimizers.SGD(learning_rate={lr}, momentum=0.9, nesterov=True)",
    ),
    "adam": (
        "torch.optim.Adam(model.parameters(), lr={lr})",
        "keras.optimizers.Adam(learning_rate={lr})",
    ),
}


def snippets(
    min_lr: float,
    max_lr: float,
    suggested_lr: float | None = None,
    optimizer: str | None = None,
) -> dict[str, str]:
    """Ready-to-paste code for the range ``[min_lr, max_lr]``, keyed as :data:`SNIPPETS`.

    Placeholders a user fills in are upper case (``EPOCHS``) or the usual names
    (``optimizer``, ``train_loader``, ``model``, ``learn``). ``suggested_lr`` is the constant
    lr (default: ``max_lr / 3``, the middle of Smith's range). ``optimizer`` is the one the
    range test used (a key of :data:`OPTIMIZER_CODE`): the code builds that optimizer, since
    a range measured with Adam says nothing about SGD. None (a saved curve): the code says to
    use the optimizer the test ran with.
    """
    _check_range(min_lr, max_lr)
    if optimizer not in OPTIMIZER_CODE:
        optimizer = None  # one without a PyTorch/Keras twin: say to use the tested one
    if suggested_lr is None:
        suggested_lr = max(min_lr, max_lr / 3.0)
    low, high, constant = format_lr(min_lr), format_lr(max_lr), format_lr(suggested_lr)
    div = format_lr(max(max_lr / min_lr, 1.0))
    header = f"# lrviz: range {low} .. {high}, suggested constant lr {constant}\n"
    if optimizer is None:
        unknown = "# the optimizer your range test ran with (the range is only valid for it)"
        torch_constant = (
            f"{unknown}:\noptimizer = torch.optim.SGD(model.parameters(), lr={constant})\n"
        )
        keras_schedule = f"{unknown}:\noptimizer = keras.optimizers.SGD(learning_rate=schedule)\n"
        keras_constant = f"# constant lr instead: learning_rate={constant}\n"
    else:
        torch_code, keras_code = OPTIMIZER_CODE[optimizer]
        tested = f"# {optimizer}, as in the range test\n"
        torch_constant = tested + f"optimizer = {torch_code.format(lr=constant)}\n"
        keras_schedule = tested + f"optimizer = {keras_code.format(lr='schedule')}\n"
        keras_constant = f"# constant lr instead: {keras_code.format(lr=constant)}\n"
    return {
        "pytorch_onecycle": header
        + "from torch.optim.lr_scheduler import OneCycleLR\n\n"
        + "scheduler = OneCycleLR(\n"
        + "    optimizer,\n"
        + f"    max_lr={high},\n"
        + "    epochs=EPOCHS,\n"
        + "    steps_per_epoch=len(train_loader),\n"
        + f"    div_factor={div},  # starts at max_lr / div_factor = {low}\n"
        + ")\n"
        + "# call scheduler.step() after every optimizer.step()\n",
        "pytorch_cyclic": header
        + "from torch.optim.lr_scheduler import CyclicLR\n\n"
        + "scheduler = CyclicLR(\n"
        + "    optimizer,\n"
        + f"    base_lr={low},\n"
        + f"    max_lr={high},\n"
        + "    step_size_up=4 * len(train_loader),  # half a cycle: 2-10 epochs (Smith)\n"
        + '    mode="triangular",\n'
        + "    cycle_momentum=False,  # True only with an optimizer that has momentum\n"
        + ")\n"
        + "# call scheduler.step() after every optimizer.step()\n",
        "pytorch_constant": header + "import torch\n\n" + torch_constant,
        "keras": header
        + "import keras\n\n"
        + "steps = EPOCHS * STEPS_PER_EPOCH\n"
        + "schedule = keras.optimizers.schedules.CosineDecay(\n"
        + f"    initial_learning_rate={low},\n"
        + f"    warmup_target={high},\n"
        + "    warmup_steps=int(0.3 * steps),\n"
        + "    decay_steps=steps - int(0.3 * steps),\n"
        + ")\n"
        + keras_schedule
        + keras_constant,
        "fastai": header
        + f"learn.fit_one_cycle(EPOCHS, lr_max={high}, div={div})\n"
        + f"# constant lr instead: learn.fit(EPOCHS, lr={constant})\n",
    }
