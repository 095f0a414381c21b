"""The Simulate form's schedule parameters (warm-up, decay, cycle): shown for the schedule
that uses them, explained, checked, kept in sessions, and the same λ as the command line
gives for the same parameters (a simulation run in the window against `lrviz schedule`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from test_tooltips import sentence_problem

from lrviz.cli import build_parser
from lrviz.commands.simulate import _schedule as cli_schedule
from lrviz.schedule_fields import FIELDS, fields_for
from lrviz.schedules import PEAK_PARAMETER, POLICIES

ITERATIONS = 240


def set_fields(form, policy: str, **values) -> None:
    form.schedule.setCurrentIndex(form.schedule.findData(policy))
    widgets = form.schedule_fields.widgets
    for name, value in values.items():
        widget = widgets[name]
        if hasattr(widget, "setChecked"):
            widget.setChecked(value)
        elif hasattr(widget, "findData"):
            widget.setCurrentIndex(widget.findData(value))
        else:
            widget.setValue(value)


def cli_args(policy: str, **values) -> list[str]:
    args = ["--schedule", policy, "--iterations", str(ITERATIONS)]
    for name, value in values.items():
        option = "--" + name.replace("_", "-")
        if name == "cycle_momentum":
            args += [] if value else ["--no-cycle-momentum"]
        elif name == "three_phase":
            args += [option] if value else []
        else:
            args += [option, str(value)]
    return args


# (policy, parameters set in the form and given to the command line)
CASES = [
    ("constant", {"warmup_steps": 30}),
    ("step", {"warmup_steps": 20, "warmup_start_factor": 0.1, "step_size": 50, "gamma": 0.5}),
    ("exponential", {"gamma": 0.99}),
    ("cosine", {"warmup_steps": 40, "total_steps": 150, "min_lr": 0.05}),
    ("cosine_restarts", {"restart_period": 30, "period_mult": 2, "min_lr": 0.01}),
    ("triangular", {"step_size": 40, "step_size_down": 20, "base_lr": 0.2}),
    ("triangular2", {"warmup_steps": 10, "step_size": 30, "base_lr": 0.05}),
    ("exp_range", {"step_size": 25, "base_lr": 0.1, "gamma": 0.995}),
    (
        "1cycle",
        {
            "warmup_steps": 12,
            "total_steps": 200,
            "pct_start": 0.25,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
            "anneal": "linear",
            "three_phase": True,
        },
    ),
]


@pytest.mark.parametrize(("policy", "values"), CASES, ids=[c[0] for c in CASES])
def test_the_form_builds_the_schedule_the_command_line_builds(qtbot, policy, values):
    from ui.forms.simulate_form import SimulateForm

    form = SimulateForm()
    qtbot.addWidget(form)
    form.iterations.setValue(ITERATIONS)
    set_fields(form, policy, **values)
    args = build_parser().parse_args(["simulate", *cli_args(policy, **values)])
    assert form.config().schedule == cli_schedule(args)


@pytest.mark.parametrize(
    ("policy", "values"), [CASES[1], CASES[5], CASES[8]], ids=["step", "triangular", "1cycle"]
)
def test_a_run_in_the_window_follows_lrviz_schedule(qtbot, window, capsys, policy, values):
    """The λ each simulated run used, as the window's store keeps it, is the λ `lrviz
    schedule --json` prints for the same parameters, scaled to the run's own λ (its peak)."""
    from lrviz.cli import main as cli

    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.lr_min.setValue(1e-3)
    form.lr_max.setValue(1e-2)
    form.lr_count.setValue(3)
    form.iterations.setValue(ITERATIONS)
    set_fields(form, policy, **values)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    store = window.runner.store
    peak = "--" + PEAK_PARAMETER[policy].replace("_", "-")
    options = cli_args(policy, **values)[4:]
    argv = [
        "schedule",
        "--policy",
        policy,
        "--iterations",
        str(ITERATIONS),
        peak,
        "1",
        "--json",
        *options,
    ]
    capsys.readouterr()
    assert cli(argv) == 0
    printed = np.array(json.loads(capsys.readouterr().out)["lr"])
    used = store.lr[: store.rows]
    assert used.shape == (ITERATIONS, 3)  # every iteration of the three runs, kept
    assert np.ptp(printed) > 0  # a schedule that moves λ, not a constant
    np.testing.assert_allclose(
        used, printed[store.history_x().astype(int)][:, None] * store.lrs, rtol=1e-12
    )


def test_each_schedule_shows_its_own_rows_each_with_a_one_sentence_tooltip(qtbot, window):
    form = window.simulate_form
    window.controls.setCurrentWidget(form)
    rows = form.schedule_fields
    for policy in POLICIES:
        set_fields(form, policy, warmup_steps=10)
        shown = {n for n, w in rows.widgets.items() if w.isVisibleTo(form)}
        assert shown == {f.name for f in fields_for(policy)}, policy
        for name in shown:
            tip = rows.widgets[name].toolTip()
            assert sentence_problem(tip) is None, (policy, name, tip)
    # From × shapes a warm-up: hidden without one
    set_fields(form, "cosine", warmup_steps=0)
    assert not rows.widgets["warmup_start_factor"].isVisibleTo(form)
    assert rows.widgets["total_steps"].isVisibleTo(form)
    # an optimizer that picks its own λ has no schedule, nor its rows
    form.optimizer.setCurrentIndex(form.optimizer.findData("dog"))
    assert not any(w.isVisibleTo(form) for w in rows.widgets.values())


def test_every_field_tooltip_is_one_sentence():
    for field in FIELDS:
        assert sentence_problem(field.tip) is None, field


def test_a_warm_up_longer_than_the_run_is_refused_with_the_form_s_words(qtbot, window):
    form = window.simulate_form
    form.iterations.setValue(100)
    set_fields(form, "cosine", warmup_steps=100)
    started = []
    window.runner.state_changed.connect(started.append)
    qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    assert "“Warm-up” (100 steps) leaves no iterations" in form.message.text()
    assert "running" not in started
    set_fields(form, "step", warmup_steps=0, step_size=0)  # auto again
    assert form.config().schedule["step_size"] == 34  # a third of the run


def test_auto_fields_keep_the_run_fitted_schedule(qtbot, window):
    """Left at auto, the form gives the schedule it gave before it had these rows."""
    from lrviz.schedules import schedule_for_run

    form = window.simulate_form
    form.iterations.setValue(300)
    for policy in POLICIES:
        set_fields(form, policy)
        fitted = schedule_for_run(policy, 300)
        schedule = form.config().schedule
        if fitted is None:
            assert schedule is None
            continue
        assert schedule == {"warmup_steps": 0, "warmup_start_factor": 0.0, **fitted}


def test_sessions_keep_the_schedule_fields(qtbot):
    from ui.forms.simulate_form import SimulateForm

    form = SimulateForm()
    qtbot.addWidget(form)
    set_fields(form, "1cycle", **CASES[8][1], cycle_momentum=False, base_momentum=0.8)
    state = json.loads(json.dumps(form.get_state()))  # as a session file keeps it
    assert state["schedule_warmup_steps"] == 12 and state["schedule_anneal"] == "linear"
    again = SimulateForm()
    qtbot.addWidget(again)
    again.set_state(state)
    assert again.config().schedule == form.config().schedule
    assert again.config().schedule["cycle_momentum"] is False


def test_a_config_shown_in_the_form_runs_as_it_was(qtbot):
    """set_config (the demo, the examples, a session's run) shows a schedule's parameters."""
    from lrviz.simulation_config import SimulationConfig
    from ui.forms.simulate_form import SimulateForm

    spec = {
        "policy": "exp_range",
        "warmup_steps": 5,
        "warmup_start_factor": 0.2,
        "base_lr": 0.1,
        "step_size": 25,
        "gamma": 0.995,
    }
    form = SimulateForm()
    qtbot.addWidget(form)
    form.set_config(SimulationConfig(lrs=np.array([0.1]), iterations=200, schedule=spec))
    assert form.config().schedule == spec


def test_the_schedule_names_promise_no_numbers_the_rows_may_change(qtbot):
    """The list read "step decay (÷10 twice)" and "exponential decay (to 1 %)": true only
    of the fitted values, wrong once γ or the step is set in the rows below."""
    from lrviz.schedules import POLICY_LABELS

    for policy, label in POLICY_LABELS.items():
        # (digits of a policy's own name, triangular2 and 1cycle, say no numbers)
        assert not any(ch.isdigit() for ch in label.replace(policy, "")), label
