"""A streaming panel draws its curves from an incrementally mapped envelope
(lrviz.envelope.EnvelopeView): frame by frame, the curves, their bounds and the × marks are
what re-deriving every curve from the envelope draws."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig
from ui.panels.run_curves import LossVsIterationPanel, LrVsIterationPanel
from ui.panels.run_paths import RunPaths


def _reference(panel, store):
    """The curves as drawn before: every run's envelope curve through display_values and
    RunPaths.set_data (log10, non-positive values at the floor or gaps, flat stretches
    dropped)."""
    envelope = panel.envelope(store)
    runs = np.arange(store.runs)
    x, ys = envelope.curves(runs)
    floor = panel._floor(store, ys)
    if floor is not None:
        # the smallest positive loss of all, bucket maxima included: Envelope.min_positive
        # reads the minima only, and missed a bucket's 1e-323 beside its exact 0
        with np.errstate(invalid="ignore"):
            floor = float(ys[np.isfinite(ys) & (ys > 0)].min())
    paths = RunPaths()
    paths.setLogMode(False, panel.paths.log_y)
    paths.set_runs([None] * store.runs, store.names)
    paths.set_data(runs, x, panel.display_values(ys, floor))
    marks = []
    for i in np.flatnonzero((store.diverged_at >= 0) & (store.diverged_at < store.count)):
        y = panel.display_values(ys[i], floor)
        ok = np.flatnonzero(np.isfinite(y) & (x <= store.diverged_at[i]))
        if ok.size:
            marks.append((x[ok[-1]], y[ok[-1]]))
    return paths, marks


@pytest.mark.parametrize(
    ("panel_type", "log_y", "schedule"),
    [
        (LossVsIterationPanel, True, None),
        (LossVsIterationPanel, False, None),
        (LrVsIterationPanel, True, {"policy": "cosine", "total_steps": 1500}),
    ],
)
def test_streamed_curves_are_the_envelopes_curves_frame_by_frame(
    qtbot, panel_type, log_y, schedule
):
    # λ = 0.1 = 1/L reaches a loss of exactly 0 (drawn at the floor); λ > 0.2 diverges
    # (its ×); the cosine's λ reaches 0 at iteration 1500 (a gap on the log axis); 5,000
    # iterations merge the envelope's buckets three times.
    config = SimulationConfig(
        objective="quadratic",
        lrs=np.array([1e-3, 0.01, 0.05, 0.1, 0.19, 0.25, 0.4]),
        iterations=5000,
        dim=2,
        condition=1.0,
        curvature=10.0,
        schedule=schedule,
    )
    store = RunStore(config.lrs, config.iterations, envelopes=True)
    panel = panel_type()
    qtbot.addWidget(panel)
    if panel_type is LossVsIterationPanel:
        panel.log_y.setChecked(log_y)
    panel.set_store(store)
    panel.set_streaming(True)
    frames = 0
    for batch in config.build().run(batch_iterations=317, batch_seconds=1e9):
        store.append(batch)
        assert panel.refresh()
        frames += 1
        reference, marks = _reference(panel, store)
        for i in range(store.runs):
            x, y = panel.curves[i].getData()
            ex, ey = reference.curve(i)
            np.testing.assert_array_equal(x, ex)
            np.testing.assert_allclose(y, ey, rtol=1e-12, atol=0)
        np.testing.assert_allclose(panel.paths._bounds, reference._bounds, rtol=1e-12)
        mx, my = panel.diverged_marks.getData()
        got = sorted(zip(mx, 10.0**my if panel.paths.log_y else my, strict=True))
        assert len(got) == len(marks)
        np.testing.assert_allclose(
            np.array(got).reshape(-1, 2), np.array(sorted(marks)).reshape(-1, 2), rtol=1e-9
        )
    panel.set_streaming(False)
    assert frames == 16 and store.diverged_at[-1] >= 0
    assert panel.envelope(store).bucket == 8  # merged three times


@pytest.mark.parametrize("log_y", [True, False])
def test_stroking_only_what_changed_draws_the_pixels_of_stroking_every_curve_whole(
    qtbot, monkeypatch, log_y
):
    """The stroking thread stroked every curve whole, every frame (~100 ms at 256 runs); it
    keeps a picture of the envelope's frozen columns and strokes only the rest: frame by
    frame, through bucket merges, diverged runs, zeros at the floor and new columns joining
    the picture, the image is the one stroking every curve whole gives."""
    from PySide6.QtGui import QTransform

    from ui.panels import curve_raster

    monkeypatch.setattr(curve_raster, "EXTEND_COLUMNS", 16)  # many joins in a short run
    config = SimulationConfig(
        objective="quadratic",
        lrs=np.array([1e-3, 0.01, 0.05, 0.1, 0.19, 0.25, 0.4]),
        iterations=6000,
        dim=2,
        condition=1.0,
        curvature=10.0,
    )
    store = RunStore(config.lrs, config.iterations, envelopes=True)
    panel = LossVsIterationPanel()
    qtbot.addWidget(panel)
    panel.log_y.setChecked(log_y)
    panel.set_store(store)
    frames = []

    class Raster:  # the frames the item asks for, stroked here instead
        busy = False

        def request(self, frame):
            frames.append(frame)

    panel.paths._raster = Raster()
    width, height = 640, 360
    if log_y:  # view units: log10 of the loss, from 1e-12 (and the floor) to 1e3
        transform = QTransform(width / 6000, 0, 0, -height / 15, 0, height * 3 / 15)
    else:
        transform = QTransform(width / 6000, 0, 0, -height / 60, 0, height)
    picture = curve_raster.FrozenPicture()
    compared = joined = 0
    for batch in config.build().run(batch_iterations=37, batch_seconds=1e9):
        store.append(batch)
        assert panel.refresh()
        panel.paths._ask(("view", store.version), transform, width, height, 1.0, False)
        frame = frames[-1]
        before = picture.columns
        got = picture.stroke(frame)
        joined += picture.columns > before > 0
        whole = curve_raster.stroke(frame)
        differ = np.count_nonzero((_argb(got) != _argb(whole)).any(axis=2))
        # the same picture but for a stray pixel at some of the joins, where a piece's end
        # and the path through it step a pixel apart (Qt's cosmetic lines): 3 at most here,
        # of 230,000; they go with the picture at the next merge
        assert differ <= 4, f"frame {compared}: {differ} pixels differ"
        compared += 1
    assert compared == 163 and joined >= 20
    assert panel.envelope(store).bucket >= 4  # merged on the way


def _argb(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return np.array(image.constBits(), dtype=np.uint8).reshape(image.height(), image.width(), 4)


def test_a_streaming_frame_is_painted_once(qtbot):
    """A streaming refresh told the view of the curves' new bounds and repainted, and the
    paint asked for the new image; the image's arrival repainted again: two paints of the
    whole plot a frame. Within the steady extent the view already fits, a refresh asks for
    the image at once and the plot is painted when it arrives."""
    from PySide6.QtWidgets import QApplication

    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.15, 16), iterations=4000, dim=5
    )
    store = RunStore(config.lrs, config.iterations, envelopes=True)
    panel = LossVsIterationPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_store(store)
    panel.set_streaming(True)
    paths, graphics = panel.paths, panel.graphics
    changes = []
    panel.plot.getViewBox().sigRangeChanged.connect(lambda *_: changes.append(1))
    frames = paints = 0
    for batch in config.build().run(batch_iterations=40, batch_seconds=1e9):
        store.append(batch)
        if store.count == 400:  # the view has settled on its steady range: count from here
            paints, changes[:] = graphics.paints, []
        if not panel.refresh():
            continue
        frames += store.count > 400
        qtbot.waitUntil(  # the image of this frame shown, nothing else asked for
            lambda: (
                paths._image is not None
                and paths._image[0].key[-1] == paths._version
                and paths._asked is None
            ),
            timeout=10_000,
        )
        QApplication.processEvents()  # its paint
    painted = graphics.paints - paints
    panel.set_streaming(False)
    assert frames == 90 and len(changes) <= 10
    # one paint a frame (two before), and a few more where the steady range moved
    assert painted <= frames + 3 * len(changes)
