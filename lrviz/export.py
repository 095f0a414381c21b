"""Take a chosen learning-rate range elsewhere: JSON, and code to paste into a training script.

The app and the command line call the same functions, so what a user copies is what the
tests check. Numbers are written the way a person would type them (``3e-3``, ``0.05``),
never ``0.0030000000000000001``.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from lrviz.lr_format import format_lr
from lrviz.lr_range import checked_range

#: Snippet keys, in the order the app lists them.
SNIPPETS = ("pytorch_onecycle", "pytorch_cyclic", "pytorch_constant", "keras", "fastai")
SNIPPET_TITLES = {
    "pytorch_onecycle": "PyTorch OneCycleLR",
    "pytorch_cyclic": "PyTorch CyclicLR",
    "pytorch_constant": "PyTorch constant lr",
    "keras": "Keras one-cycle-like schedule",
    "fastai": "fastai fit_one_cycle",
}


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
    checked_range(min_lr, max_lr)
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
    """Write ``text`` to ``path`` atomically (UTF-8, ``\n`` line ends): see
    :func:`save_bytes_atomic`; returns the path."""
    return save_bytes_atomic(path, text.encode("utf-8"))


#: A temporary of ours left behind by a killed process is removed once this old, even when
#: its process id cannot be checked (another host on a shared file system).
STALE_TEMPORARY_SECONDS = 24 * 3600


def save_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then
    ``os.replace``. A crash never leaves a half-written file; returns the path.

    The temporary is created with ``mkstemp`` (``O_EXCL``: a planted file or symlink of that
    name is never followed) and written through its descriptor only. It is named after the
    target and this process (``.NAME.lrviz-PID-XXXXXXXX.tmp``), so that later saves remove the
    temporaries of processes that were killed mid-write. An existing target keeps its
    permission bits; a new one gets the usual ``0666`` less the umask, not mkstemp's ``0600``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    _remove_stale_temporaries(folder, path.name)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.lrviz-{os.getpid()}-", suffix=".tmp", dir=folder
    )
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, _target_mode(path))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_folder(folder)
    return path


def _target_mode(path: Path) -> int:
    """The permission bits the written file should have."""
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system tells it (Linux), since
    setting it to read it races with other threads creating files."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Remove temporaries this function left for ``name`` in processes that died (SIGKILL,
    power loss): regular files of ours whose process is gone, or that are a day old."""
    prefix = f".{name}.lrviz-"
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        uid = os.getuid() if hasattr(os, "getuid") else st.st_uid
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            continue  # not a temporary we wrote: leave it alone
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        gone = pid_text.isdigit() and not _process_alive(int(pid_text))
        if gone or now - st.st_mtime > STALE_TEMPORARY_SECONDS:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return True
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    checked_range(min_lr, max_lr)
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


# --- data as CSV ----------------------------------------------------------------------------

#: What each run of a simulation is called in its CSV (``lr=0.003``): the run's base λ.
RUN_NAME = "lr={lr}"


def _cell(value: float) -> str:
    """A number as CSV text that reads back to the same float (``repr``); infinities as
    ``inf``/``-inf``; NaN (nothing recorded) as an empty cell."""
    value = float(value)
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def runs_csv(
    iterations: np.ndarray,
    lrs: np.ndarray,
    loss: np.ndarray,
    lr: np.ndarray | None = None,
    accuracy: np.ndarray | None = None,
) -> str:
    """Simulated runs as CSV in the shape of a Weights & Biases chart export, which
    :func:`lrviz.loaders.load` reads back as one run per λ (format ``wandb-csv``).

    Parameters
    ----------
    iterations : ndarray, shape (n,)
        The iteration of each row (the ``Step`` column).
    lrs : ndarray, shape (R,)
        Each run's base learning rate: run ``i`` is named ``lr=<lrs[i]>``.
    loss, lr, accuracy : ndarray, shape (n, R)
        Per iteration and run: the loss, the λ used (a schedule shows here) and, for a
        classifier, the accuracy. NaN (not recorded: the run had stopped) is an empty cell.

    Every field is quoted, as W&B writes them; numbers are written with ``repr``, so they read
    back to the very same floats.
    """
    x = np.asarray(iterations, dtype=np.float64).ravel()
    lrs = np.asarray(lrs, dtype=np.float64).ravel()
    columns: list[tuple[str, np.ndarray]] = []
    names = [RUN_NAME.format(lr=format_lr(v, 6)) for v in lrs]
    if len(set(names)) != len(names):  # two λ equal to 6 digits: tell them apart
        names = [f"{name} #{i + 1}" for i, name in enumerate(names)]
    metrics = [("loss", loss), ("lr", lr), ("accuracy", accuracy)]
    for i, name in enumerate(names):
        for metric, values in metrics:
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float64)
            if values.shape != (x.size, lrs.size):
                raise ValueError(
                    f"{metric}: expected shape ({x.size}, {lrs.size}), got {values.shape}"
                )
            columns.append((f"{name} - {metric}", values[:, i]))
    header = ",".join(_quoted(text) for text in ["Step", *(c for c, _ in columns)])
    lines = [header]
    for row in range(x.size):
        cells = [_cell(x[row]).removesuffix(".0")]
        cells += [_cell(values[row]) for _, values in columns]
        lines.append(",".join(f'"{c}"' for c in cells))
    return "\n".join(lines) + "\n"


def series_csv(series, x_name: str = "x", y_name: str = "y") -> str:
    """Curves as a long CSV table: ``series,<x_name>,<y_name>``, one row per point.

    ``series`` is an iterable of ``(name, x, y)``; points where x or y is NaN are left out
    (they are gaps in the curve, not data). Names and column titles are quoted only where
    CSV needs it.
    """
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["series", x_name, y_name])
    for name, x, y in series:
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"{name}: {x.size} x values but {y.size} y values")
        keep = ~(np.isnan(x) | np.isnan(y))
        for a, b in zip(x[keep], y[keep], strict=True):
            writer.writerow([name, _cell(a), _cell(b)])
    return out.getvalue()


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
