"""A ready-to-run check of the suggestion: a few short trainings across the likely band.

:func:`check_script` writes a PyTorch, Lightning or Keras script that trains one short run
per λ (:func:`lrviz.suggest.refine.check_lrs`), each from the same initial weights, and logs
each run as a folder lrviz opens as a sweep::

    lrviz_check/lr_0.003/params.json    {"lr": 0.003}
    lrviz_check/lr_0.003/metrics.csv    step,loss,val_loss  (step 0: the untrained model)

Opening ``lrviz_check/`` (in the app, or ``lrviz suggest --refine lrviz_check/ CURVE``)
refines the suggestion to the measured best (:func:`lrviz.suggest.refine.measured_best_from_log`).
The user fills in three things, marked ``# <- yours``: the model, the optimizer and the data.
"""

from __future__ import annotations

from lrviz.export import format_lr

#: Targets, in the order the app lists them.
TARGETS = ("pytorch", "lightning", "keras")
TARGET_TITLES = {
    "pytorch": "PyTorch check runs",
    "lightning": "Lightning check runs",
    "keras": "Keras check runs",
}
DEFAULT_STEPS = 300
FOLDER = "lrviz_check"

_HEADER = '''"""lrviz check: {n} short trainings at learning rates across the likely band
{a} .. {b} (suggested {s}), logged where lrviz reads them.

Fill in the lines marked "# <- yours", run this script, then open the folder
{folder}/ in lrviz (or: lrviz suggest --refine {folder}/ YOUR_RANGE_TEST.csv)
to see the measured best learning rate.
"""

import csv
import json
import math
from pathlib import Path

LRS = [{lrs}]
STEPS = {steps}  # the budget you will train with: shorter runs favour another lr
EVAL_EVERY = max(STEPS // 10, 1)
OUT = Path("{folder}")


def log_run(lr, rows):
    """One folder per run: params.json and metrics.csv (step, loss, val_loss)."""
    run = OUT / f"lr_{{lr:g}}"
    run.mkdir(parents=True, exist_ok=True)
    (run / "params.json").write_text(json.dumps({{"lr": lr}}))
    with open(run / "metrics.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "val_loss"])
        writer.writerows(rows)
'''

_PYTORCH = """
import torch

loss_fn = torch.nn.CrossEntropyLoss()  # <- yours
train_loader = ...  # <- yours: a DataLoader of (x, y) batches
val_loader = ...  # <- yours


def make_model():
    return ...  # <- yours: a fresh model


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)  # <- yours: the optimizer you will train with


@torch.no_grad()
def val_loss(model):
    model.eval()
    total, count = 0.0, 0
    for x, y in val_loader:
        total += loss_fn(model(x), y).item() * len(y)
        count += len(y)
    model.train()
    return total / max(count, 1)


for lr in LRS:
    torch.manual_seed(0)  # the same initial weights and batch order for every run
    model = make_model()
    optimizer = make_optimizer(model.parameters(), lr)
    rows = [(0, "", val_loss(model))]
    step = 0
    while step < STEPS:
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if not math.isfinite(loss.item()):
                rows.append((step, "nan", "nan"))  # diverged: lrviz marks it
                step = STEPS
                break
            if step % EVAL_EVERY == 0 or step == STEPS:
                rows.append((step, loss.item(), val_loss(model)))
            if step >= STEPS:
                break
    log_run(lr, rows)
    print(f"lr {lr:g}: val loss {rows[-1][2]}")
"""

_LIGHTNING = '''
import lightning as L
import torch

train_loader = ...  # <- yours
val_loader = ...  # <- yours


def make_module(lr):
    return ...  # <- yours: your LightningModule, its configure_optimizers using this lr


class LogForLrviz(L.Callback):
    """Training loss every EVAL_EVERY steps, validation loss at each validation."""

    def __init__(self):
        self.rows, self.loss = [], float("nan")

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.loss = float(loss)
        if not math.isfinite(self.loss):
            self.rows.append((trainer.global_step, "nan", "nan"))
            trainer.should_stop = True

    def on_validation_end(self, trainer, module):
        value = trainer.callback_metrics.get("val_loss")  # log "val_loss" in validation_step
        if value is not None:
            self.rows.append((trainer.global_step, "" if trainer.global_step == 0 else self.loss,
                              float(value)))


for lr in LRS:
    L.seed_everything(0)  # the same initial weights and batch order for every run
    module = make_module(lr)
    callback = LogForLrviz()
    trainer = L.Trainer(max_steps=STEPS, val_check_interval=EVAL_EVERY, callbacks=[callback],
                        num_sanity_val_steps=0, logger=False, enable_checkpointing=False)
    trainer.validate(module, val_loader, verbose=False)  # step 0: the untrained model
    trainer.fit(module, train_loader, val_loader)
    log_run(lr, callback.rows)
'''

_KERAS = """
import keras

x_train, y_train = ..., ...  # <- yours
x_val, y_val = ..., ...  # <- yours
BATCH = 32  # <- yours


def make_model():
    return ...  # <- yours: a fresh, uncompiled model


class LogForLrviz(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rows, self.step = [], 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        loss = float((logs or {}).get("loss", float("nan")))
        if not math.isfinite(loss):
            self.rows.append((self.step, "nan", "nan"))
            self.model.stop_training = True
        elif self.step % EVAL_EVERY == 0 or self.step == STEPS:
            val = self.model.evaluate(x_val, y_val, batch_size=BATCH, verbose=0)
            val = val[0] if isinstance(val, list) else val
            self.rows.append((self.step, loss, float(val)))
        if self.step >= STEPS:
            self.model.stop_training = True


for lr in LRS:
    keras.utils.set_random_seed(0)  # the same initial weights and batch order for every run
    model = make_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),  # <- yours
                  loss="sparse_categorical_crossentropy")  # <- yours
    untrained = model.evaluate(x_val, y_val, batch_size=BATCH, verbose=0)
    callback = LogForLrviz()
    callback.rows.append((0, "", float(untrained[0] if isinstance(untrained, list) else untrained)))
    epochs = math.ceil(STEPS / math.ceil(len(x_train) / BATCH))
    model.fit(x_train, y_train, batch_size=BATCH, epochs=epochs, callbacks=[callback], verbose=0)
    log_run(lr, callback.rows)
"""

_BODIES = {"pytorch": _PYTORCH, "lightning": _LIGHTNING, "keras": _KERAS}


def check_script(
    lrs: list[float],
    target: str = "pytorch",
    *,
    suggested_lr: float | None = None,
    steps: int = DEFAULT_STEPS,
    folder: str = FOLDER,
) -> str:
    """The text of a check script for ``target`` that trains at ``lrs``."""
    if target not in _BODIES:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if len(lrs) < 2:
        raise ValueError("a check needs at least 2 learning rates")
    if not (isinstance(steps, int) and steps > 0):
        raise ValueError(f"steps must be a positive number, got {steps!r}")
    shown = [format_lr(v) for v in lrs]
    header = _HEADER.format(
        n=len(lrs),
        a=shown[0],
        b=shown[-1],
        s="-" if suggested_lr is None else format_lr(suggested_lr),
        lrs=", ".join(shown),
        steps=steps,
        folder=folder,
    )
    return header + _BODIES[target]
