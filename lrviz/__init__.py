"""lrviz core: pure numpy. Never imports Qt, pyqtgraph or ``ui``."""

__version__ = "0.1.0"
