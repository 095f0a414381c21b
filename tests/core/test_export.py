"""Export of a chosen range: readable numbers, JSON, atomic saves, code snippets."""

from __future__ import annotations

import ast
import json
import os

import pytest

from lrviz.export import (
    SNIPPET_TITLES,
    SNIPPETS,
    format_lr,
    range_dict,
    range_json,
    save_text_atomic,
    snippets,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3e-3, "3e-3"),
        (0.0030000000001, "3e-3"),
        (0.00299999999, "3e-3"),
        (1.25e-4, "1.25e-4"),
        (1e-7, "1e-7"),
        (0.05, "0.05"),
        (0.123456, "0.123"),
        (0.01, "0.01"),
        (0.00999, "9.99e-3"),
        (0.009999, "0.01"),
        (1.0, "1"),
        (2.5, "2.5"),
        (10.0, "10"),
        (999.9, "1e3"),
        (12345.0, "1.23e4"),
    ],
)
def test_format_lr_is_readable(value, text):
    assert format_lr(value) == text
    assert float(text) == pytest.approx(value, rel=5e-3)
    assert ast.literal_eval(text) == float(text)  # a valid Python literal


@pytest.mark.parametrize("bad", [0.0, -1e-3, float("nan"), float("inf")])
def test_format_lr_rejects_non_lrs(bad):
    with pytest.raises(ValueError):
        format_lr(bad)


def test_range_json_is_rounded_and_never_nan():
    text = range_json(0.0007500000001, 0.0030000000001, 0.0015, extra={"source": "a.csv"})
    data = json.loads(text)
    assert data == {
        "min_lr": 7.5e-4,
        "max_lr": 3e-3,
        "suggested_lr": 1.5e-3,
        "source": "a.csv",
    }
    assert text.endswith("\n")
    assert range_dict(1e-4, 1e-2)["suggested_lr"] is None
    with pytest.raises(ValueError):
        range_json(1e-3, 1e-2, extra={"bad": float("nan")})


@pytest.mark.parametrize(("low", "high"), [(1e-2, 1e-3), (0.0, 1e-3), (1e-3, float("nan"))])
def test_bad_ranges_raise_value_error(low, high):
    with pytest.raises(ValueError):
        range_dict(low, high)
    with pytest.raises(ValueError):
        snippets(low, high)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "range.json"
    path.write_text("old contents")
    save_text_atomic(path, range_json(1e-4, 3e-3, 1e-3))
    assert json.loads(path.read_text())["max_lr"] == 3e-3
    assert os.listdir(tmp_path) == ["range.json"]


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "range.json"
    path.write_text("old contents")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_text_atomic(path, "new contents")
    assert path.read_text() == "old contents"
    assert os.listdir(tmp_path) == ["range.json"]


@pytest.fixture(scope="module")
def code() -> dict[str, str]:
    return snippets(7.5e-4, 0.0030000000001, 1.5e-3)


def test_every_snippet_is_there_and_titled(code):
    assert list(code) == list(SNIPPETS)
    assert set(SNIPPET_TITLES) == set(SNIPPETS)


@pytest.mark.parametrize("key", SNIPPETS)
def test_snippets_are_valid_python(key, code):
    compile(code[key], f"<{key}>", "exec")


def test_snippets_carry_the_range_in_readable_numbers(code):
    for text in code.values():
        assert "0.0030000000001" not in text and "e-04" not in text
    assert "OneCycleLR(" in code["pytorch_onecycle"]
    assert "max_lr=3e-3" in code["pytorch_onecycle"]
    assert "div_factor=4" in code["pytorch_onecycle"]  # starts at max / 4 = 7.5e-4
    assert "CyclicLR(" in code["pytorch_cyclic"]
    assert "base_lr=7.5e-4" in code["pytorch_cyclic"] and "max_lr=3e-3" in code["pytorch_cyclic"]
    assert "lr=1.5e-3" in code["pytorch_constant"]
    assert "keras.optimizers.schedules.CosineDecay(" in code["keras"]
    assert "initial_learning_rate=7.5e-4" in code["keras"] and "warmup_target=3e-3" in code["keras"]
    assert "learn.fit_one_cycle(EPOCHS, lr_max=3e-3" in code["fastai"]


def test_snippet_calls_use_the_libraries_keyword_names(code):
    """Each scheduler call passes the range through the keywords its library defines."""
    expected = {
        "pytorch_onecycle": ("OneCycleLR", {"max_lr", "epochs", "steps_per_epoch", "div_factor"}),
        "pytorch_cyclic": ("CyclicLR", {"base_lr", "max_lr", "step_size_up", "mode"}),
        "keras": ("CosineDecay", {"initial_learning_rate", "warmup_target", "warmup_steps"}),
        "fastai": ("fit_one_cycle", {"lr_max", "div"}),
    }
    for key, (function, keywords) in expected.items():
        calls = [
            node
            for node in ast.walk(ast.parse(code[key]))
            if isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == function
        ]
        assert len(calls) == 1, key
        assert keywords <= {k.arg for k in calls[0].keywords}, key


def test_the_default_constant_lr_is_a_third_of_the_max():
    assert "lr=1e-3" in snippets(1e-4, 3e-3)["pytorch_constant"]


@pytest.mark.parametrize(
    ("optimizer", "torch_code", "keras_code"),
    [
        ("adam", "torch.optim.Adam(model.parameters(), lr=1e-3)", "keras.optimizers.Adam("),
        ("sgd", "torch.optim.SGD(model.parameters(), lr=1e-3)\n", "keras.optimizers.SGD("),
        ("nesterov", "momentum=0.9, nesterov=True", "nesterov=True"),
    ],
)
def test_snippets_build_the_optimizer_the_range_test_used(optimizer, torch_code, keras_code):
    """Issue 8, defect 9: after an Adam range test the constant-lr snippet built SGD."""
    code = snippets(1e-4, 3e-3, 1e-3, optimizer=optimizer)
    assert torch_code in code["pytorch_constant"]
    assert keras_code in code["keras"]
    other = "Adam" if optimizer != "adam" else "SGD"
    assert other not in code["pytorch_constant"] and other not in code["keras"]


def test_snippets_of_a_saved_curve_say_to_use_the_tested_optimizer():
    code = snippets(1e-4, 3e-3, 1e-3)
    assert "the optimizer your range test ran with" in code["pytorch_constant"]
    assert "the optimizer your range test ran with" in code["keras"]
    for text in code.values():
        compile(text.replace("EPOCHS", "1").replace("STEPS_PER_EPOCH", "1"), "s.py", "exec")
