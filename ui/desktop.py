"""What makes the window a desktop app: sessions, exports, the menus and toolbar, the
theme, preferences that outlive it, help.

:func:`install_desktop` is the window's composition of these, kept out of
``main_window.py`` so that the window stays wiring of its tools: it is called once at the
end of ``MainWindow.__init__`` and is handed the window it composes.

Preferences (``ui.settings``: plain strings and numbers in ``lrviz.json``) are the window's
geometry and dock layout, each task's plot layout, the theme, the default smoothing and the
last folders of the file dialogs; the recent files and stores are the log actions' list.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from . import settings, theme
from .exports import PanelExports
from .menus import DesktopMenus
from .session import SessionManager

#: settings keys (values are plain strings and numbers)
GEOMETRY = "window.geometry"
WINDOW_STATE = "window.state"
LAYOUTS = "window.task_layouts"  # "task=base64;task=base64"
THEME = "theme"
SMOOTHING = "inspect.smoothing"
SESSION_FOLDER = "folder.sessions"
EXPORT_FOLDER = "folder.exports"
#: Read and write the preferences. Screenshots switch it off: the same picture on every
#: machine, whatever its user last did.
USE_PREFERENCES = True


class Desktop(QObject):
    """The window's sessions, exports, menus, theme and preferences (see the module)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        w = window
        self.session = SessionManager(
            w.library, w.log_actions.open_paths, w.controls, w.status_text.setText, w
        )
        # Sessions join the logs and stores in File ▸ Open recent.
        self.session.opened.connect(self._remember)
        self.session.saved.connect(self._remember)
        w.log_actions.session_requested.connect(self.session.open)
        for name, part in (
            ("sources", w.sources),
            ("simulate", w.simulate_form),
            ("simulation", w.runner),
            ("range test", w.range_tool),
            ("inspect", w.inspect_form),
            ("loss vs iteration", w.loss_vs_iteration),
            ("λ vs iteration", w.lr_vs_iteration),
            ("loss vs λ", w.loss_vs_lr),
            ("sharpness", w.sharpness),
            ("loss surface", w.loss_surface),
        ):
            self.session.add(name, part)
        self.exports = PanelExports(w, w.status_text.setText, lambda: w.runner.store, self)
        for dock in w.plot_docks.values():
            self.exports.add_panel(dock.windowTitle(), dock.widget())
        self.menus = DesktopMenus(w, w.controls, self)
        self._default_state = None
        self._build_menus()
        self._restore_preferences()

    # --- menus ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w, m, tool = self.window, self.menus, self.window.range_tool
        file_menu = m.menu("&File", tip="Open and save logs, stores, sessions and exports.")
        close_all = next(
            (a for a in file_menu.actions() if a.text().replace("&", "") == "Close all logs"),
            None,
        )
        open_log = next(
            (a for a in file_menu.actions() if a.shortcut() == QKeySequence.StandardKey.Open), None
        )
        if open_log is not None:
            m.set_icon(open_log, "open-log")
            m.toolbar.addAction(open_log)
        quit_action = next(
            (a for a in file_menu.actions() if a.text().replace("&", "") == "Quit"), None
        )
        if quit_action is not None:
            # Some desktops define no Quit key (the offscreen platform, some Linux themes).
            quit_action.setShortcuts(
                QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")]
            )
            self.menus.actions["Quit"] = quit_action
        before = close_all
        file_menu.insertSeparator(before) if before is not None else file_menu.addSeparator()
        m.action(
            file_menu,
            "Open &session…",
            self.session.open_dialog,
            tip="Open a saved session (.lrviz): its logs, simulation, range and settings.",
            icon="open-session",
            toolbar=True,
            before=before,
        )
        m.action(
            file_menu,
            "&Save session",
            self.session.save_dialog,
            QKeySequence.StandardKey.Save,
            tip=(
                "Save the logs, the simulation, the chosen range and the panels' settings as a "
                "session."
            ),
            icon="save",
            toolbar=True,
            before=before,
        )
        m.action(
            file_menu,
            "Save session &as…",
            lambda: self.session.save_dialog(ask=True),
            tip="Save the session to a new file.",
            before=before,
        )
        file_menu.insertSeparator(before) if before is not None else file_menu.addSeparator()
        m.toolbar.addSeparator()
        m.action(
            file_menu,
            "&Export panel…",
            self.exports.export_dialog,
            "Ctrl+E",
            tip="Save the panel last clicked as PNG, SVG or its data as CSV.",
            icon="export",
            toolbar=True,
            before=before,
        )
        export_menu = QMenu_for(file_menu, "Export", before)
        export_menu.menuAction().setToolTip("Save one panel, or the simulated runs, to a file.")
        for name in self.exports.panels:
            m.action(
                export_menu,
                f"{name}…",
                lambda n=name: self.exports.export_dialog(n),
                tip=f"Save the {name} panel as PNG, SVG or its data as CSV.",
                key=f"export {name}",
            )
        export_menu.addSeparator()
        m.action(
            export_menu,
            "Simulated runs as CSV…",
            self.exports.export_simulation_dialog,
            tip="Save every simulated run per iteration (loss, λ) in a CSV that lrviz opens again.",
            key="export simulation",
        )

        edit = m.menu("&Edit", tip="Undo edits of the range, copy pictures and code.")
        m.adopt(edit, tool.undo_action, icon="undo", toolbar=False, key="Undo")
        m.adopt(edit, tool.redo_action, icon="redo", toolbar=False, key="Redo")
        edit.addSeparator()
        m.action(
            edit,
            "&Copy panel image",
            self.exports.copy_current,
            tip="Put the picture of the panel last clicked on the clipboard.",
            icon="copy-image",
            toolbar=True,
        )
        m.action(
            edit,
            "Copy range &code\tCtrl+Shift+C",
            tool.copy_code,
            tip="Copy the code of the chosen λ range for your training script (Range test tab).",
            key="Copy range code",
        )
        m.action(
            edit,
            "&Reset range to the suggestion\tCtrl+Shift+R",
            tool.reset_range,
            tip="Go back to the recommended range, as one undo step.",
            key="Reset range",
        )
        m.toolbar.addSeparator()

        view = m.menu("&View", tip="Which panels show, their axes, the theme and the layout.")
        view.addSeparator()
        # Each axis switch is a menu action in step with its panel's check box.
        for box, text, keys, tip in (
            (
                w.loss_vs_iteration.log_y,
                "&Logarithmic loss axis",
                "Ctrl+L",
                "Draw loss vs iteration on a logarithmic axis.",
            ),
            (
                w.lr_vs_iteration.log_y,
                "Logarithmic &λ axis",
                "Ctrl+Shift+L",
                "Draw λ vs iteration on a logarithmic axis (off: a warmup from 0 shows whole).",
            ),
        ):
            action = m.action(view, text, None, keys, tip=tip, checkable=True)
            action.setChecked(box.isChecked())
            action.toggled.connect(box.setChecked)
            box.toggled.connect(action.setChecked)
        theme_menu = view.addMenu("&Theme")
        theme_menu.setToolTipsVisible(True)
        theme_menu.menuAction().setToolTip("Light or dark colours for the window and its plots.")
        choices = []
        for name, label, tip in (
            ("system", "Follow the &system", "Follow the desktop's light or dark setting."),
            ("light", "&Light", "Dark text on light backgrounds, plots included."),
            ("dark", "&Dark", "Light text on dark backgrounds, plots included."),
        ):
            a = m.action(
                theme_menu,
                label,
                None,
                tip=tip,
                checkable=True,
                key=f"theme {name}",
            )
            a.toggled.connect(lambda on, n=name: on and self.set_theme(n))
            choices.append(a)
        self._theme_actions = dict(zip(("system", "light", "dark"), choices, strict=True))
        m.exclusive_group(choices)
        view.addAction(m.toolbar.toggleViewAction())
        m.toolbar.toggleViewAction().setText("Show &toolbar")
        m.toolbar.toggleViewAction().setToolTip("Show or hide the toolbar.")
        view.addSeparator()
        m.action(
            view,
            "&Reset layout",
            self.reset_layout,
            tip="Put the docks and plots back where they start.",
        )

        run = m.menu("&Run", tip="Run and stop the tools: simulation, range test, search.")
        m.action(
            run,
            "&Run",
            m.run_current,
            "F5",
            tip="Run the tool shown: simulate, range test, search, or reload the logs.",
            icon="run",
            toolbar=True,
        )
        m.action(
            run,
            "&Pause or resume",
            w.simulate_form.pause_button.click,
            "Ctrl+P",
            tip="Pause or resume the simulation.",
            icon="pause",
            toolbar=True,
            key="Pause",
        )
        m.action(
            run,
            "&Stop",
            m.stop_all,
            "Esc",
            tip="Stop what runs: the simulation, the range test or the search.",
            icon="stop",
            toolbar=True,
        )
        run.addSeparator()
        m.action(
            run,
            "Run &simulation",
            w.simulate_form.run_button.click,
            "Ctrl+R",
            tip="Run the Simulate tab's simulation.",
        )
        m.action(
            run,
            "Run range &test\tCtrl+T",
            tool._run_clicked,
            tip="Run the Range test tab's test.",
            key="Run range test",
        )
        m.action(
            run,
            "Stop range test\tShift+Esc",
            tool.stop_test,
            tip="Stop the range test; the suggestions read the curve so far.",
            key="Stop range test",
        )
        m.add_tool(w.simulate_form, w.simulate_form.run_button.click, w.runner.stop, "simulate")
        m.add_tool(tool.tab, tool._run_clicked, tool.stop_test, "range test")
        m.add_tool(w.inspect_form, self._reload_logs, None, "inspect")
        m.toolbar.addSeparator()
        m.toolbar.addAction(tool.undo_action)
        m.toolbar.addAction(tool.redo_action)
        m.toolbar.addSeparator()

        help_menu = m.menu("&Help", tip="The guide to choosing λ, the shortcuts and the versions.")
        m.action(
            help_menu,
            "&Guide: choosing λ",
            self.show_guide,
            QKeySequence.StandardKey.HelpContents,
            tip="How to choose a learning rate with lrviz, with pictures.",
            icon="guide",
            toolbar=True,
            key="Guide",
        )
        m.action(
            help_menu,
            "&Keyboard shortcuts",
            self.show_shortcuts,
            tip="List every keyboard shortcut of the window.",
        )
        help_menu.addSeparator()
        m.action(
            help_menu,
            "&About lrviz",
            self.show_about,
            tip="The version of lrviz and the licences of what it is built on.",
        )
        m.action(help_menu, "About &Qt", QApplication.aboutQt, tip="The version of Qt in use.")

    @staticmethod
    def _remember(path: str) -> None:
        try:
            settings.remember_paths([path])
        except OSError:
            pass  # a read-only config folder: the session itself was opened or saved

    def add_tool_switches(self, tabs) -> None:
        """View ▸ Tools: Ctrl+1 … Ctrl+N bring each tool's tab forward (once every tool has
        added its tab); the tabs get their short labels and tooltips (ui.tool_tabs)."""
        from .tool_tabs import fit_tool_tabs, tool_name

        menu = self.menus.menu("&View").addMenu("T&ools")
        menu.setToolTipsVisible(True)
        menu.menuAction().setToolTip("Bring a tool's tab forward, each with its own key.")
        keys = {}
        for i in range(tabs.count()):
            name = tool_name(tabs, i)
            key = f"Ctrl+{i + 1}" if i < 9 else None
            action = self.menus.action(
                menu,
                f"&{i + 1} {name}" if key else name,
                lambda i=i: tabs.setCurrentIndex(i),
                key,
                tip=f"Show the {name} tool.",
                key=f"tool {name}",
            )
            keys[i] = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        fit_tool_tabs(tabs, lambda i: keys.get(i, ""))

    def _reload_logs(self) -> None:
        for log in list(self.window.library.logs):
            self.window.library.reload(log, full=True)

    # --- help -----------------------------------------------------------------------------
    def show_guide(self):
        from .help import GuideWindow

        guide = getattr(self, "guide", None)
        if guide is None:
            guide = self.guide = GuideWindow(self.window)
        if guide.isVisible():
            guide.raise_()  # already open, maybe behind the window
        else:
            guide.show()
        return guide

    def show_about(self) -> None:
        from .help import show_about

        show_about(self.window)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) of every menu entry with keys, in the menus' order, then
        the window's other actions (it listed only those made here: Ctrl+O was missing)."""
        rows: list[tuple[str, str]] = []
        seen: set[int] = set()

        def add(action) -> None:
            if id(action) in seen or action.isSeparator():
                return
            seen.add(id(action))
            text, _, typed_keys = action.text().partition("\t")
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys or typed_keys:
                rows.append((keys or typed_keys, text.replace("&", "").rstrip("…")))

        def visit(menu) -> None:
            for action in menu.actions():
                if action.menu() is not None:
                    visit(action.menu())
                else:
                    add(action)

        for top in self.window.menuBar().actions():
            if top.menu() is not None:
                visit(top.menu())
        for action in self.menus.actions.values():
            add(action)
        return rows

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        rows = "".join(
            f"<tr><td>{keys}&nbsp;&nbsp;</td><td>{what}</td></tr>"
            for keys, what in self.shortcut_rows()
        )
        QMessageBox.information(self.window, "Keyboard shortcuts", f"<table>{rows}</table>")

    # --- theme ----------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        """Apply theme ``name`` (system, light, dark), remember it, recolour the plots."""
        theme.apply_theme(name, [self.window])
        settings.set_value(THEME, name)
        action = self._theme_actions.get(name)
        if action is not None and not action.isChecked():
            action.setChecked(True)
        self.menus.refresh_icons()
        self.window.library.recolor()
        self.window.lesson_tool.recolor()
        for panel in (
            self.window.loss_vs_iteration,
            self.window.loss_vs_lr,
            self.window.lr_vs_iteration,
        ):
            if panel.store is not None:
                panel.set_store(panel.store)
        # Its runs keep their colours; only the labels' backing and the message change (a
        # new store would reset the view the user zoomed into).
        self.window.sharpness.restyle()
        self.window.redraw()

    # --- preferences ----------------------------------------------------------------------
    def _restore_preferences(self) -> None:
        w = self.window
        if not USE_PREFERENCES:
            theme.apply_theme("system", [w])
            w.lesson_tool.recolor()
            return
        name = settings.value(THEME, "system")
        name = name if name in theme.THEMES else "system"
        theme.apply_theme(name, [w])
        w.lesson_tool.recolor()  # its models' colours were picked before the theme was
        chosen = self._theme_actions[name]
        chosen.blockSignals(True)  # applied already; checking it must not store it again
        chosen.setChecked(True)
        chosen.blockSignals(False)
        self.menus.refresh_icons()
        smoothing = settings.value(SMOOTHING)
        if isinstance(smoothing, (int, float)) and 0 <= smoothing < 1:
            w.inspect_form.set_smoothing(float(smoothing))
        for key, target in ((SESSION_FOLDER, self.session), (EXPORT_FOLDER, self.exports)):
            folder = settings.value(key)
            if isinstance(folder, str) and folder:
                from pathlib import Path

                target.last_folder = Path(folder)
        geometry = _bytes(settings.value(GEOMETRY))
        if geometry is not None:
            w.restoreGeometry(geometry)
        layouts = settings.value(LAYOUTS)
        if isinstance(layouts, str):
            for part in layouts.split(";"):
                task, _, data = part.partition("=")
                state = _bytes(data)
                if task and state is not None:
                    w.task_layouts.restore_state(task, state)
        self.session.mark_clean()

    def restore_layout(self) -> None:
        """The window's saved dock layout (called once the default layout is in place)."""
        w = self.window
        self._default_state = w.saveState()
        self._default_plots = w.plot_area.saveState()
        state = _bytes(settings.value(WINDOW_STATE)) if USE_PREFERENCES else None
        if state is not None:
            w.restoreState(state)

    def reset_layout(self) -> None:
        """Docks and plots back to where they start; the saved layout is forgotten."""
        w = self.window
        if self._default_state is not None:
            w.restoreState(self._default_state)
        w.sources_dock.show()
        w.controls_dock.show()
        self.menus.toolbar.show()
        w.task_layouts.reset()
        w._initial_dock_sizes()
        for key in (WINDOW_STATE, LAYOUTS):
            settings.set_value(key, "")
        w.status_text.setText("Layout reset")

    def save_preferences(self) -> None:
        """Remember the window for next time (called when it closes)."""
        if not USE_PREFERENCES:
            return
        w = self.window
        w.task_layouts.remember_current()
        layouts = ";".join(
            f"{task}={_text(state)}" for task, state in w.task_layouts.saved_states().items()
        )
        values = {
            GEOMETRY: _text(w.saveGeometry()),
            WINDOW_STATE: _text(w.saveState()),
            LAYOUTS: layouts,
            SMOOTHING: round(w.inspect_form.smoothing, 3),
        }
        if self.session.last_folder is not None:
            values[SESSION_FOLDER] = str(self.session.last_folder)
        if self.exports.last_folder is not None:
            values[EXPORT_FOLDER] = str(self.exports.last_folder)
        try:
            for key, value in values.items():
                settings.set_value(key, value)
        except OSError:
            pass  # preferences are a convenience: a read-only config folder loses nothing else


def install_desktop(window) -> Desktop:
    return Desktop(window)


def QMenu_for(menu, title: str, before):
    sub = menu.addMenu(title) if before is None else None
    if sub is None:
        from PySide6.QtWidgets import QMenu

        sub = QMenu(title, menu)
        menu.insertMenu(before, sub)
    sub.setToolTipsVisible(True)
    return sub


def _text(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")


def _bytes(text) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    data = QByteArray.fromBase64(text.encode("ascii", "ignore"))
    return data if not data.isEmpty() else None
