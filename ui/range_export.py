"""A tool's chosen λ range as code or JSON, on the clipboard or in a file.

The range test and the search export the same way (the range, the best λ inside it, the
optimizer the code should use, the JSON's extra keys) and report the same messages; only
where the message shows, the title of the dialog and the file's default name differ.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from lrviz import export

from .dialogs.json_path import ask_json_path


def range_code(
    rng: tuple[float, float] | None,
    best_lr: float | None,
    target: str,
    optimizer: str | None,
    extra: Callable[[], dict],
) -> str:
    """Export text of the range ``rng`` for ``target`` ("json" or a snippet of
    :func:`lrviz.export.snippets`), naming ``best_lr`` when it lies inside the range; empty
    without a range. ``extra()`` gives the JSON's extra keys."""
    if rng is None:
        return ""
    if best_lr is not None and not rng[0] <= best_lr <= rng[1]:
        best_lr = None  # a constant λ outside the chosen range would contradict it
    if target == "json":
        return export.range_json(*rng, best_lr, extra=extra())
    return export.snippets(*rng, best_lr, optimizer=optimizer)[target]


class RangeExporter:
    """Copy a tool's export text, save its JSON (atomically), or ask where to save it.

    ``code(target)`` is the tool's text (None: the target chosen on its form);
    ``target_title()`` names the chosen target; ``report(message, error)`` shows a line
    where the tool shows its messages; ``missing`` says what to do first when there is
    nothing to export yet; ``title`` is the save dialog's.
    """

    def __init__(
        self,
        host: QWidget,
        code: Callable[[str | None], str],
        target_title: Callable[[], str],
        report: Callable[[str, bool], None],
        missing: str,
        title: str,
    ) -> None:
        self.host = host
        self.code = code
        self.target_title = target_title
        self.report = report
        self.missing = missing
        self.title = title
        self.last_dir: Path | None = None  # where the last JSON went: the next one too

    def copy(self) -> str:
        """Put the chosen target's text on the clipboard and return it ("" if none yet)."""
        text = self.code(None)
        if not text:
            self.report(self.missing, True)
            return ""
        QGuiApplication.clipboard().setText(text)
        self.report(f"Copied {self.target_title()}.", False)
        return text

    def save(self, path: str | Path) -> Path:
        """Write the JSON to ``path`` atomically (temporary file, then rename)."""
        saved = export.save_text_atomic(path, self.code("json"))
        self.last_dir = saved.parent
        self.report(f"Saved {saved.name}", False)
        return saved

    def save_dialog(self, ready: bool, default_name: str, save) -> Path | None:
        """Ask where to save (in the last folder, as ``default_name``), then ``save(path)``
        (the tool's checks, then :meth:`save`); a failure is reported, never raised."""
        if not ready:
            self.report(self.missing, True)
            return None
        folder = self.last_dir or Path.home()
        path = ask_json_path(self.host, self.title, folder / default_name)
        if path is None:
            return None
        try:
            return save(path)
        except (OSError, ValueError) as exc:
            self.report(f"Could not save: {exc}", True)
            return None
