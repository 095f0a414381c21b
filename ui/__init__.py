"""lrviz views: PySide6 + pyqtgraph. Imports lrviz; lrviz never imports this package."""
