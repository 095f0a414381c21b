"""Geometry checks the UI tests share (scene or widget rectangles)."""

from __future__ import annotations


def inside(rect, outer, slack=1.0):
    """``rect`` lies within ``outer``, give or take ``slack`` pixels on each side."""
    return (
        rect.left() >= outer.left() - slack
        and rect.right() <= outer.right() + slack
        and rect.top() >= outer.top() - slack
        and rect.bottom() <= outer.bottom() + slack
    )
