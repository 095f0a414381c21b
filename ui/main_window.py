"""The main window: composition and wiring only. Panels and forms live in their own files."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QTabWidget,
    QWidget,
)

from lrviz import __version__
from lrviz.engine_process import RemoteSimulation
from lrviz.errors import LrvizError
from lrviz.simulation_config import SimulationConfig
from lrviz.theory import theory_lrs

from .forms.inspect_form import InspectForm
from .forms.simulate_form import SimulateForm
from .lesson_tool import LessonTool
from .log_library import LogLibrary
from .log_view import LogView
from .log_window_actions import LogActions
from .paint_stagger import PaintStagger
from .panels.layers import LayerSwitch
from .panels.lesson_view import LessonView
from .panels.loss_surface import LossSurfacePanel
from .panels.loss_vs_lr import LossVsLrPanel
from .panels.run_curves import LossVsIterationPanel, LrVsIterationPanel
from .panels.run_highlight import RunHighlight
from .panels.sharpness import SharpnessPanel
from .panels.sources import SourcesPanel
from .simulation_runner import SimulationRunner
from .task_layouts import TaskLayouts
from .tool_tabs import compact_tabs
from .tooltips import DockTips, explain_qt_buttons

#: The timer draws one panel a tick (see redraw): the loss panel every other tick.
REDRAW_INTERVAL_MS = 13  # batches only mark data dirty; this timer draws
MAX_REDRAW_INTERVAL_MS = 1000


def demo_config() -> SimulationConfig:
    """Twenty-four λ on an elongated quadratic bowl: the small ones crawl, the ones above
    2/L = 0.2 explode, and a band just below 0.2 wins."""
    return SimulationConfig(
        objective="quadratic",
        optimizer="sgd",
        lrs=np.geomspace(1e-3, 1.0, 24),
        iterations=300,
        dim=20,
        curvature=10.0,
        condition=50.0,
        seed=0,
    )


def initial_side_widths(window_width: int) -> tuple[int, int]:
    """(Sources, Controls) dock widths for a window this wide: narrow windows give the plots
    their room; wide ones give the forms and the suggestion's explanation room to read
    (at 1920 px a 340 px Controls dock wrapped every sentence of the suggestion's why)."""
    sources = int(min(max(0.11 * window_width, 160), 240))
    controls = int(min(max(0.21 * window_width, 300), 440))
    return sources, controls


class MainWindow(QMainWindow):
    """Plots in the centre (dockable), controls on the right, progress in the status bar."""

    simulation_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"lrviz {__version__} — see and choose learning rates")
        self.resize(1400, 860)

        self.runner = SimulationRunner(self)
        self.loss_vs_iteration = LossVsIterationPanel()
        self.loss_vs_lr = LossVsLrPanel()
        # Who draws on the shared loss vs λ panel: one tool's layer at a time where mixing
        # would mislead (the range test), side by side where comparing is the point.
        self.loss_vs_lr_layers = LayerSwitch(self)
        self.loss_vs_lr_layers.register("simulation", self._show_simulation_layer)
        self.lr_vs_iteration = LrVsIterationPanel()
        # A run hovered on one panel is drawn wider on both run panels and ringed on loss vs λ.
        self.highlight = RunHighlight(
            (self.loss_vs_iteration, self.lr_vs_iteration), self.loss_vs_lr, self
        )
        self.loss_surface = LossSurfacePanel()  # shown for 2-D problems
        self.sharpness = SharpnessPanel()
        self.lesson_view = LessonView()
        self.simulate_form = SimulateForm()

        # Plots are docks of an inner window, so they rearrange among themselves while the
        # sources (left) and controls (right) keep their places.
        self.plot_area = QMainWindow()
        self.plot_area.setDockNestingEnabled(True)
        self.plot_area.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.plot_docks = {
            "loss_vs_iteration": self._plot_dock(
                self.loss_vs_iteration,
                "Loss vs iteration",
                Qt.DockWidgetArea.TopDockWidgetArea,
                "Each run's loss at each step, coloured by its λ from small (dark) to large.",
            ),
            "loss_vs_lr": self._plot_dock(
                self.loss_vs_lr,
                "Loss vs λ",
                Qt.DockWidgetArea.TopDockWidgetArea,
                "Each run's loss at its λ, or a range test's loss as λ grows: where λ is best.",
            ),
            "lr_vs_iteration": self._plot_dock(
                self.lr_vs_iteration,
                "λ vs iteration",
                Qt.DockWidgetArea.BottomDockWidgetArea,
                "The learning rate each run used at each step: its schedule.",
            ),
            "loss_surface": self._plot_dock(
                self.loss_surface,
                "Loss surface",
                Qt.DockWidgetArea.TopDockWidgetArea,
                "The loss over two parameters, with the path each run takes across it.",
            ),
            "sharpness": self._plot_dock(
                self.sharpness,
                "Sharpness",
                Qt.DockWidgetArea.BottomDockWidgetArea,
                "Each run's sharpness against 2/λ, above which gradient descent turns unstable.",
            ),
            "lesson": self._plot_dock(
                self.lesson_view,
                "Dog lesson",
                Qt.DockWidgetArea.TopDockWidgetArea,
                "What three models with different λ have learned from the animals seen so far.",
            ),
        }
        self.plot_area.splitDockWidget(
            self.plot_docks["loss_vs_iteration"],
            self.plot_docks["loss_vs_lr"],
            Qt.Orientation.Horizontal,
        )
        # The lesson's view belongs to its tab (TaskLayouts shows it there), the sharpness to
        # runs that measure it: hidden in the first layout, whose size sets the window's.
        for name in ("lesson", "sharpness"):
            self.plot_docks[name].hide()
        self.setCentralWidget(self.plot_area)

        self.library = LogLibrary(self)
        self.inspect_form = InspectForm()
        self.sources = SourcesPanel(self.library)
        self.sources_dock = QDockWidget("Sources", self)
        self.sources_dock.setObjectName("sources")
        self.sources_dock.setWhatsThis(
            "The runs shown: the simulation and every opened log, each in its colour."
        )
        self.sources_dock.setWidget(self.sources)
        self.sources_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sources_dock)
        self.resizeDocks([self.sources_dock], [190], Qt.Orientation.Horizontal)

        self.controls = QTabWidget()
        compact_tabs(self.controls)
        self.controls.setTabToolTip(
            self.controls.addTab(self.simulate_form, "Simulate"),
            "Simulate gradient descent at many λ at once: see which crawl, converge or explode.",
        )
        self.controls.setTabToolTip(
            self.controls.addTab(self.inspect_form, "Inspect"),
            "Read training logs: overlay and smooth runs, and watch those still training.",
        )
        self.controls.setMinimumWidth(300)
        # Six tools' tabs fit the 300 px of a 1024-pixel window only with slim tabs and a
        # shorter label or two (ui.tool_tabs; otherwise the last hide behind scroll arrows).
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls")
        self.controls_dock.setWhatsThis(
            "The tools: simulate, inspect logs, range test, lab, lesson and search."
        )
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)
        self.resizeDocks([self.controls_dock], [330], Qt.Orientation.Horizontal)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.status_text = QLabel("Ready")
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.progress.hide()  # until a simulation, a range test or loading uses it

        self._pending_progress: tuple[int, int, float] | None = None
        self._awaiting_paint: dict = {}  # panel -> its paint count when it last drew
        self._next_panel = 0  # the timer draws one panel a tick, in turn
        self._loss_turn = True  # the loss panel draws every other tick
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(lambda: self.redraw(drop_unpainted=True))
        self.redraw_timer.start()

        self._wire()
        self._install_range_tools()
        self._install_lab()
        self.lesson_tool = LessonTool(self.lesson_view, self.controls, self, self.statusBar(), self)
        self.lesson_tool.wants_view.connect(lambda: self._raise_dock("lesson"))
        self.log_view = LogView(
            self.library,
            self.inspect_form,
            self.loss_vs_iteration,
            self.lr_vs_iteration,
            self.loss_vs_lr,
            range_tool=self.range_tool,
            layers=self.loss_vs_lr_layers,
            parent=self,
        )
        self.log_view.wants_loss_vs_lr.connect(lambda: self._raise_dock("loss_vs_lr"))
        file_menu = self.menuBar().addMenu("&File")
        self.log_actions = LogActions(
            self.library,
            file_menu,
            self.sources,
            self.inspect_form,
            self.status_text,
            self.progress,
            self,
            shown_suggestion=lambda: self.range_tool.suggestion,
            parent=self,
        )
        # A big log derived on a worker shows progress as its loading does.
        self.log_view.busy.connect(self.log_actions.show_drawing)
        self.log_view.failed.connect(self.log_actions.report_failure)
        self._layout_paints = PaintStagger(self)
        self.log_actions.logs_opened.connect(self._focus_on_logs)
        self.sources.simulation_toggled.connect(self.set_simulation_visible)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.setToolTip("Close lrviz, asking first if the session has unsaved changes.")
        quit_action.triggered.connect(self.close)
        view_menu = self.menuBar().addMenu("&View")
        for dock in (*self.plot_docks.values(), self.sources_dock, self.controls_dock):
            view_menu.addAction(dock.toggleViewAction())
        # Each task its plot layout (the main plot gets the room), switched with its tab.
        self.task_layouts = TaskLayouts(self.plot_area, self.plot_docks)
        self.task_layouts.on_demand["sharpness"] = False  # until a run measures it
        self.controls.currentChanged.connect(self._apply_task_layout)
        self.setAcceptDrops(True)
        self._install_desktop()
        self._install_search_tool()
        for dock in (self.sources_dock, self.controls_dock):
            dock.toggleViewAction().setToolTip(f"Show or hide the {dock.windowTitle()} panel.")
        # Qt's own buttons and the tabs of stacked docks (ui.tooltips)
        explain_qt_buttons(self)
        self.dock_tips = [DockTips(self.plot_area), DockTips(self)]
        self.desktop.add_tool_switches(self.controls)
        # Dock sizes only stick once the window has a layout: apply them when first shown.
        QTimer.singleShot(0, self._initial_dock_sizes)

    def _initial_dock_sizes(self) -> None:
        sources, controls = initial_side_widths(self.width())
        self.resizeDocks([self.sources_dock], [sources], Qt.Orientation.Horizontal)
        self.resizeDocks([self.controls_dock], [controls], Qt.Orientation.Horizontal)
        self.task_layouts.task = None
        self._apply_task_layout()
        if not getattr(self, "_layout_restored", False):
            self._layout_restored = True
            self.desktop.restore_layout()  # the layout of the last run, over the defaults

    def _apply_task_layout(self, *_args) -> None:
        widget = self.controls.currentWidget()
        task = {
            self.simulate_form: "simulate",
            self.inspect_form: "inspect",
            getattr(self.range_tool, "tab", None): "range test",
            getattr(getattr(self, "lab_tool", None), "tab", None): "lab",
            getattr(getattr(self, "search_tool", None), "tab", None): "search",
            self.lesson_tool.tab: "lesson",
        }.get(widget)
        if task is not None:
            self.task_layouts.apply(task)
            store = self.runner.store
            if task != "lab" and (store is None or store.trajectories is None):
                self.plot_docks["loss_surface"].hide()  # not a 2-D problem

    # --- composition ----------------------------------------------------------------------
    def _plot_dock(
        self, panel: QWidget, title: str, area: Qt.DockWidgetArea, description: str
    ) -> QDockWidget:
        """A dock of the plot area; ``description`` (one sentence) shows over its title bar
        and its tab (ui.tooltips.DockTips)."""
        dock = QDockWidget(title, self.plot_area)
        dock.setWhatsThis(description)
        dock.setObjectName(title)
        dock.setWidget(panel)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        dock.toggleViewAction().setText(f"Show {title}")
        dock.toggleViewAction().setToolTip(f"Show or hide the {title} panel.")
        self.plot_area.addDockWidget(area, dock)
        return dock

    def _wire(self) -> None:
        form, runner = self.simulate_form, self.runner
        form.run_requested.connect(self.start_simulation)
        form.pause_requested.connect(runner.pause)
        form.resume_requested.connect(runner.resume)
        form.stop_requested.connect(runner.stop)
        runner.started.connect(self._on_started)
        runner.progressed.connect(self._on_progress)
        runner.state_changed.connect(self._on_state)
        runner.failed.connect(self._on_failed)

    def _install_range_tools(self) -> None:
        """The Range test tab, the chosen-λ region on the loss vs λ panel, and its export."""
        from .range_tool import RangeTool

        self.range_tool = RangeTool(
            self.loss_vs_lr, self.controls, self.statusBar(), self, self.loss_vs_lr_layers, self
        )
        self.range_tool.wants_panel.connect(lambda: self._raise_dock("loss_vs_lr"))
        self.range_tool.progressed.connect(self._on_range_test_progress)

    def _install_desktop(self) -> None:
        """Sessions, exports, menus and toolbar, theme, preferences and help (ui.desktop)."""
        from .desktop import install_desktop

        self.desktop = install_desktop(self)
        self.session = self.desktop.session

    def _install_lab(self) -> None:
        """The Lab tab: its presets run as simulations, one plot per run on the surface."""
        from .lab_tool import LabTool

        self.lab_tool = LabTool(self.controls, self.loss_surface, self)
        self.lab_tool.run_requested.connect(self.start_simulation)
        self.lab_tool.wants_panel.connect(lambda: self._raise_dock("loss_surface"))

    def _install_search_tool(self) -> None:
        """The Search tab: a coarse-to-fine λ search, an exclusive layer on loss vs λ, its
        runs on loss vs iteration; it offers to search the problem a range test just ran."""
        from .search_tool import SearchTool

        self.search_tool = SearchTool(
            self.loss_vs_lr, self.loss_vs_iteration, self.controls, self.statusBar(), self,
            self.loss_vs_lr_layers, self,
        )  # fmt: skip
        self.search_tool.wants_panel.connect(lambda: self._raise_dock("loss_vs_lr"))
        self.search_tool.progressed.connect(self._on_range_test_progress)
        self.range_tool.test_finished.connect(
            lambda _result: self.search_tool.adopt(self.range_tool.settings)
        )
        self.session.add("search", self.search_tool)
        self.desktop.menus.add_tool(
            self.search_tool.tab, self.search_tool.form.run_button.click,
            self.search_tool.stop_search, "search",
        )  # fmt: skip
        self.desktop.menus.action(
            "&Run", "Run s&earch\tCtrl+G", self.search_tool.form.run_button.click,
            tip="Run the Search tab's coarse-to-fine search for λ.", key="Run search",
        )  # fmt: skip

    def _on_range_test_progress(self, done: int, total: int) -> None:
        self.progress.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _simulation_panels(self) -> tuple:
        """The panels that draw the simulation's RunStore."""
        return (self.loss_vs_iteration, self.loss_vs_lr, self.lr_vs_iteration, self.sharpness)

    def _raise_dock(self, name: str) -> None:
        dock = self.plot_docks[name]
        dock.show()
        dock.raise_()

    # --- actions --------------------------------------------------------------------------
    def start_simulation(self, config: SimulationConfig) -> None:
        try:
            self.runner.start(config)
        except (ValueError, LrvizError) as exc:  # a bad config, or one past the size limits
            self.simulate_form.show_error(str(exc))

    def start_demo(self) -> None:
        config = demo_config()
        self.simulate_form.set_config(config)
        self.start_simulation(config)

    def redraw(self, drop_unpainted: bool = False) -> None:
        """Draw whatever changed since the last draw (the timer calls it with
        ``drop_unpainted``; a direct call always draws, every panel).

        The timer draws one panel a tick (the loss panel every other tick, the others in
        turn between: see _turns): refreshing and painting three panels at once was one
        stall of their summed cost (100-300 ms on the loaded 2-core machine).
        It is paced on what a frame really costs (updating the curves plus painting them):
        drawing takes at most a fifth of the time while the engine shares this process's
        interpreter lock, half when it runs in its own process; and a frame is dropped while
        the previous one has not been painted yet (napari's idea), so slow paints never
        queue up behind each other."""
        panels = (*self._simulation_panels(), self.loss_surface)
        waiting = any(p.graphics.paints == seen for p, seen in self._awaiting_paint.items())
        if drop_unpainted and waiting:
            visible = [p for p in self._awaiting_paint if p.graphics.isVisible()]
            if visible and self.isVisible():
                return  # the last frame is still waiting for its paint
        started = time.perf_counter()
        self._show_progress()
        self._awaiting_paint = {}
        if drop_unpainted:
            panels = self._turns(panels)
        for panel in panels:
            if panel.refresh():
                self._awaiting_paint[panel] = panel.graphics.paints
                if drop_unpainted:
                    self._took_turn(panel, panels)
                    break
        if self._awaiting_paint:
            paint = sum(p.graphics.paint_seconds for p in self._awaiting_paint)
            cost_ms = 1000.0 * (time.perf_counter() - started + paint)
            share = 2 if isinstance(self.runner.simulation, RemoteSimulation) else 5
            interval = int(min(MAX_REDRAW_INTERVAL_MS, max(REDRAW_INTERVAL_MS, share * cost_ms)))
            self.redraw_timer.setInterval(interval)

    def _turns(self, panels: tuple) -> tuple:
        """The order in which this tick offers the panels a draw: every other tick the loss
        panel first (the one a user watches, issue 9's 20 Hz), in between the next of the
        others in turn (one panel in three left the loss panel a third of the ticks)."""
        loss, others = panels[0], panels[1:]
        first = self._next_panel % len(others)
        others = others[first:] + others[:first]
        return (loss, *others) if self._loss_turn else (*others, loss)

    def _took_turn(self, panel, turns: tuple) -> None:
        if panel is self.loss_vs_iteration:
            self._loss_turn = False
        else:
            self._loss_turn = True
            others = [p for p in turns if p is not self.loss_vs_iteration]
            self._next_panel += others.index(panel) + 1

    def open_paths(self, paths) -> None:
        """Open logs (files or folders) or a session (``.lrviz``); the sources list and the
        panels follow."""
        paths = [str(p) for p in paths]
        sessions = [p for p in paths if p.lower().endswith(".lrviz")]
        self.log_actions.open_paths([p for p in paths if p not in sessions])
        if sessions:
            self.session.open(sessions[-1])

    def _focus_on_logs(self) -> None:
        """The user opened their own logs: they are the subject, the demo steps aside."""
        # The logs' layout resizes every plot: painted one per turn, not all with the switch
        # (as a 10M-point log arrived, the switch and three panels' paints froze it ~60 ms).
        self._layout_paints.stagger(
            [p.graphics for p in (self.loss_vs_iteration, self.lr_vs_iteration, self.loss_vs_lr)]
        )
        self.sources.simulation_item.setCheckState(0, Qt.CheckState.Unchecked)
        self.runner.stop()
        self.controls.setCurrentWidget(self.inspect_form)

    def set_simulation_visible(self, visible: bool) -> None:
        """The Sources tick of the simulation: every panel, and the loss vs λ layer."""
        for panel in (self.loss_vs_iteration, self.lr_vs_iteration):
            panel.set_simulation_visible(visible)
        self.loss_vs_lr_layers.set_shown("simulation", visible)

    def _show_simulation_layer(self, visible: bool) -> None:
        """The simulation's points on loss vs λ (the range test hides them there only)."""
        self.loss_vs_lr.set_simulation_visible(visible)
        if visible:
            self.loss_vs_lr.plot.getViewBox().enableAutoRange()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # --- runner events --------------------------------------------------------------------
    def _on_started(self, store) -> None:
        for panel in self._simulation_panels():
            panel.set_store(store)
        # The sharpness, or the λ each optimizer chose, tells such a run's story: room for it.
        measured = store.sharpness is not None
        self.task_layouts.on_demand["sharpness"] = measured
        if not measured:
            self.plot_docks["sharpness"].hide()
        story = "sharpness" if measured else None
        if store.optimizers is not None:
            story = story or "lr_vs_iteration"
        if story is not None and self.task_layouts.task == "simulate":
            sharpness = self.plot_docks["sharpness"]
            if story == "sharpness" and not sharpness.isVisible():
                self.plot_area.tabifyDockWidget(self.plot_docks["lr_vs_iteration"], sharpness)
            self._raise_dock(story)
            docks = [self.plot_docks["loss_vs_iteration"], self.plot_docks[story]]
            height = self.plot_area.height()
            self.plot_area.resizeDocks(docks, [height // 2, height // 2], Qt.Orientation.Vertical)
        # A new simulation is the subject now: its points replace a range test's layer
        # (unless the Sources list hides the simulation: then the panel shows neither).
        if self.sources.simulation_item.checkState(0) == Qt.CheckState.Checked:
            self.loss_vs_lr_layers.show("simulation")
        else:
            self.loss_vs_lr_layers.hide("range test")
        self.progress.setRange(0, store.capacity)
        self.progress.setValue(0)
        self.progress.show()
        config = self.runner.config
        objective = self.runner.simulation.objective
        theory = theory_lrs(objective, config.optimizer, config.schedule)
        self.loss_vs_lr.set_theory(theory.lines() if theory else None)
        self._show_loss_surface(store, objective)
        optimizer = config.optimizer if config.optimizers is None else "each its own optimizer"
        self.sources.simulation_item.setText(
            0, f"Simulation · {config.objective}, {optimizer}, {store.runs} λ"
        )

    def _show_loss_surface(self, store, objective) -> None:
        """A 2-D problem's runs walk its surface (the dock comes forward); others hide it."""
        dock = self.plot_docks["loss_surface"]
        if store.trajectories is None:
            dock.hide()
            return
        self.loss_surface.show_run(store, objective)
        if self.task_layouts.task in ("simulate", "lab", None):
            self._raise_dock("loss_surface")

    def _on_progress(self, done: int, total: int, rate: float) -> None:
        # Batches can arrive hundreds of times a second; the status bar follows the timer.
        self._pending_progress = (done, total, rate)

    def _show_progress(self) -> None:
        if self._pending_progress is None or self.runner.state not in ("running", "paused"):
            return  # once a run ends, its summary stays in the status bar
        (done, total, rate), self._pending_progress = self._pending_progress, None
        self.progress.setValue(done)
        store = self.runner.store
        diverged = int(np.count_nonzero(store.diverged_at >= 0)) if store is not None else 0
        speed = f" · {rate:,.0f} it/s" if rate > 0 and self.runner.state == "running" else ""
        paused = " · paused" if self.runner.state == "paused" else ""
        self.status_text.setText(
            f"iteration {done:,} of {total:,}{speed} · {store.runs} runs · {diverged} diverged"
            f"{paused}"
        )

    def _on_state(self, state: str) -> None:
        self.simulate_form.set_run_state(state)
        # While a run streams, its curves are stroked off the GUI thread; otherwise exactly.
        for panel in (self.loss_vs_iteration, self.lr_vs_iteration, self.loss_vs_lr):
            panel.set_streaming(state == "running")
        if state in ("finished", "stopped"):
            self.redraw()
            store = self.runner.store
            if store is not None:
                self._summarise(store, state)
        if state == "paused" and not self.status_text.text().endswith(" · paused"):
            # A batch still in flight updates the line later; it keeps the word (see above).
            self.status_text.setText(self.status_text.text() + " · paused")
        if state == "finished":
            self.progress.setValue(self.progress.maximum())
            self.simulation_finished.emit()

    def _summarise(self, store, state: str) -> None:
        diverged = int(np.count_nonzero(store.diverged_at >= 0))
        best = store.best_loss()
        ok = np.isfinite(best) & (store.diverged_at < 0)
        text = f"{'Finished' if state == 'finished' else 'Stopped'} at iteration {store.count:,}"
        text += f" · {diverged} of {store.runs} runs diverged"
        if ok.any():
            i = int(np.argmin(np.where(ok, store.final_loss(), np.inf)))
            if store.optimizers is None:
                text += f" · lowest final loss at λ = {store.lrs[i]:.3g}"
            else:
                text += f" · lowest final loss: {store.names[i]}"
        clipped = store.clipped_names()
        if clipped:
            text += f" · λ clipped by the guard: {', '.join(clipped)}"
        self.status_text.setText(text)

    def _on_failed(self, message: str) -> None:
        self.simulate_form.show_error(message)
        self.status_text.setText(f"Simulation failed: {message}")

    def closeEvent(self, event) -> None:
        if not self.session.confirm_close():
            event.ignore()
            return
        self.desktop.save_preferences()
        self.redraw_timer.stop()
        self.range_tool.shutdown()
        self.loss_surface.shutdown()
        self.simulate_form.shutdown()
        self.search_tool.shutdown()
        self.runner.shutdown()
        for panel in (self.loss_vs_iteration, self.lr_vs_iteration):
            panel.set_streaming(False)  # ends the stroking threads
        self.library.shutdown()
        self.log_view.shutdown()
        super().closeEvent(event)
