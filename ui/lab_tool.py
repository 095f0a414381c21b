"""The Lab tool: its tab's presets become simulations, shown one plot per run on the loss
surface with a caption each.

Handed the tab host (it adds the Lab tab) and the loss-surface panel; it asks the window to
run a configuration through ``run_requested`` and never reaches into the window. The window
starts a run synchronously (its runner emits ``started`` before ``start`` returns), so the
captions set after the request belong to that run.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget

from lrviz.lab_presets import lab_preset

from .forms.lab_form import LabForm
from .panels.loss_surface import LossSurfacePanel


class LabTool(QObject):
    """Signals: ``run_requested(SimulationConfig)``, ``wants_panel()``."""

    run_requested = Signal(object)
    wants_panel = Signal()

    def __init__(
        self, controls: QTabWidget, surface: LossSurfacePanel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.surface = surface
        self.tab = LabForm()
        controls.setTabToolTip(
            controls.addTab(self.tab, "Lab"),
            "Watch λ walk a loss surface: presets that each show one thing λ does.",
        )
        self.tab.preset_requested.connect(self.run_preset)
        self.preset = None

    def run_preset(self, key: str) -> None:
        """Run the Lab preset ``key`` and show it side by side, captioned."""
        preset = lab_preset(key)
        self.preset = preset
        self.tab.show_description(f"<b>{preset.title}</b>: {preset.description}")
        self.run_requested.emit(preset.config)
        if self.surface.store is not None:
            self.surface.set_captions(list(preset.captions))
            self.surface.set_side_by_side(preset.side_by_side)
        self.wants_panel.emit()


def screenshot_view(window, ready, paths) -> None:
    """``--view lab``: the Lab tab's "Effect of the learning rate", four λ side by side on
    the surface; ready once the runs have finished and the surface is drawn under them."""
    from PySide6.QtCore import QTimer

    tool = window.lab_tool
    surface = tool.surface

    def finished() -> None:
        if surface.surface is not None:
            ready()
        else:  # the surface is still being computed
            surface.surfaces.computed.connect(lambda *_result: ready())

    window.controls.setCurrentWidget(tool.tab)
    window.simulation_finished.connect(finished)
    QTimer.singleShot(0, lambda: tool.run_preset("effect-of-lr"))
