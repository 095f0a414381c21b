"""Which tool's layers a shared panel shows: switching tools swaps layers, never mixes them.

The loss vs λ panel is shared: the simulation draws one point per run, the range test its
curve, markers, bands and legend, and opened logs their sweep points. A range test and a
simulation on one plot read as one thing that is neither (their axes and legends differ), so
the range test's layer is *exclusive*: showing it hides the others, and showing another hides
it. Layers that are meant to be compared (a simulation and a log sweep) coexist, each with its
own legend.

Each owner registers a ``set_visible(bool)`` that also keeps its own on/off control (a
checkbox, the Sources tick) in step, so what the controls say is what the plot shows.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


class LayerSwitch(QObject):
    """Owners of a shared panel's layers, and which of them are shown.

    Signals
    -------
    changed(str)   the owner that was just shown
    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._owners: dict[str, tuple[Callable[[bool], None], bool]] = {}
        self.shown: set[str] = set()

    def register(
        self, owner: str, set_visible: Callable[[bool], None], exclusive=False, shown=True
    ) -> None:
        """Add an owner; ``shown`` says whether its layer is visible now."""
        self._owners[owner] = (set_visible, exclusive)
        if shown:
            self.shown.add(owner)

    def show(self, owner: str) -> None:
        """Show ``owner``'s layer; hide the layers it cannot share the panel with."""
        set_visible, exclusive = self._owners[owner]
        for other, (hide, other_exclusive) in self._owners.items():
            if other != owner and (exclusive or other_exclusive) and other in self.shown:
                self.shown.discard(other)
                hide(False)
        self.shown.add(owner)
        set_visible(True)
        self.changed.emit(owner)

    def hide(self, owner: str) -> None:
        if owner in self.shown:
            self.shown.discard(owner)
            self._owners[owner][0](False)

    def set_shown(self, owner: str, on: bool) -> None:
        """Follow a user's toggle of ``owner``'s control."""
        if on:
            self.show(owner)
        else:
            self.hide(owner)
