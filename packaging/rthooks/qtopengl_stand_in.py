"""Runtime hook of the bundle (packaging/lrviz.spec): a stand-in for ``PySide6.QtOpenGL``.

Qt's OpenGL binding is 8.5 MB. pyqtgraph imports it by name when it loads, but uses it only to
draw through OpenGL, which lrviz never turns on; so the bundle leaves it out and this module
takes its place. Anything that does reach for it gets an AttributeError saying why.
"""

import sys
import types


class _LeftOut(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"PySide6.QtOpenGL.{name}: Qt's OpenGL module is not in lrviz's bundle "
            "(lrviz draws without OpenGL)"
        )


sys.modules.setdefault("PySide6.QtOpenGL", _LeftOut("PySide6.QtOpenGL"))
