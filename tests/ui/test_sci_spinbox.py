from PySide6.QtCore import Qt

from ui.sci_spinbox import ScientificSpinBox


def test_shows_scientific_text_and_walks_one_two_five(qtbot):
    box = ScientificSpinBox(1e-4)
    qtbot.addWidget(box)
    assert box.text() == "1e-4"
    seen = []
    for _ in range(4):
        box.stepBy(1)
        seen.append(box.value())
    assert seen == [2e-4, 5e-4, 1e-3, 2e-3]
    box.stepBy(-2)
    assert abs(box.value() - 5e-4) < 1e-18


def test_typing_a_value(qtbot):
    box = ScientificSpinBox(1e-3)
    qtbot.addWidget(box)
    box.show()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "3e-5")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.value() == 3e-5
    assert box.text() == "3e-5"


def test_rejects_letters(qtbot):
    box = ScientificSpinBox(1e-3)
    qtbot.addWidget(box)
    state, *_ = box.validate("abc", 0)
    assert state.name == "Invalid"
    state, *_ = box.validate("1e-", 0)
    assert state.name == "Intermediate"
