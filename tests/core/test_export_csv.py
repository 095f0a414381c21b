"""Data exported as CSV reads back: simulated runs through lrviz's own loader, panel curves
through the csv module."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz import export
from lrviz.loaders import load
from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig


def _simulated(config: SimulationConfig) -> RunStore:
    simulation = config.build()
    store = RunStore(config.lrs, config.iterations, simulation.objective.has_accuracy)
    for batch in simulation.run(batch_iterations=64):
        store.append(batch)
    return store


@pytest.mark.parametrize(
    "config",
    [
        # some runs diverge (λ above 2/L = 0.2): their rows stop there
        SimulationConfig(objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 6), iterations=80),
        # a classifier: accuracy too; a schedule: λ changes per step
        SimulationConfig(
            objective="mlp",
            optimizer="adam",
            lrs=np.array([1e-3, 3e-3]),
            iterations=40,
            batch_size=32,
            schedule={"policy": "cosine", "total_steps": 40},
        ),
    ],
)
def test_simulated_runs_read_back_through_the_loader(tmp_path, config):
    store = _simulated(config)
    text = export.runs_csv(store.history_x(), store.lrs, store.loss, store.lr, store.accuracy)
    path = export.save_text_atomic(tmp_path / "runs.csv", text)
    data = load(path)
    assert data.format == "wandb-csv"
    assert [run.name for run in data.runs] == [f"lr={export.format_lr(v, 6)}" for v in store.lrs]
    for i, run in enumerate(data.runs):
        loss, lr = run.find("loss"), run.find("lr")
        recorded = ~np.isnan(store.loss[:, i])
        # parsed values: exactly the floats that were written
        np.testing.assert_array_equal(loss.x, store.history_x()[recorded])
        np.testing.assert_array_equal(loss.y, store.loss[recorded, i])
        np.testing.assert_array_equal(lr.y, store.lr[~np.isnan(store.lr[:, i]), i])
        if store.accuracy is not None:
            np.testing.assert_array_equal(run.get("accuracy").y, store.accuracy[recorded, i])
    for i in np.flatnonzero(store.diverged_at >= 0):
        # a diverged run's curve ends where it diverged, as the app drew it
        assert data.runs[i].find("loss").x[-1] == store.diverged_at[i]


def test_runs_csv_checks_shapes_and_names_equal_lrs_apart():
    with pytest.raises(ValueError, match=r"loss: expected shape \(3, 2\)"):
        export.runs_csv(np.arange(3), [0.1, 0.2], np.zeros((2, 3)))
    text = export.runs_csv(np.arange(2), [0.1, 0.1], np.zeros((2, 2)))
    assert '"lr=0.1 #1 - loss","lr=0.1 #2 - loss"' in text.splitlines()[0]


def test_series_csv_reads_back_with_the_csv_module():
    text = export.series_csv(
        [
            ('run "a", first', [1, 2, 3], [0.5, np.nan, np.inf]),
            ("λ = 1e-3", np.array([10.0]), np.array([1e-300])),
        ],
        "iteration",
        "loss",
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["series", "iteration", "loss"]
    assert rows[1:] == [
        ['run "a", first', "1.0", "0.5"],
        ['run "a", first', "3.0", "inf"],
        ["λ = 1e-3", "10.0", "1e-300"],
    ]
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        export.series_csv([("a", [1, 2], [1])])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30).map(
        np.array
    )
)
def test_every_float_survives_the_runs_csv(values):
    loss = values.reshape(-1, 1)
    text = export.runs_csv(np.arange(values.size), [0.01], loss)
    rows = list(csv.reader(io.StringIO(text)))
    back = np.array([float(r[1]) if r[1] else np.nan for r in rows[1:]])
    np.testing.assert_array_equal(back, values)
