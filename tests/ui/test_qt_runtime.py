"""Guards against known-bad Qt bindings (PySide6 6.12.0 leaks a reference per emit)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    number = Signal(int)


def test_emitting_signals_keeps_reference_counts_steady() -> None:
    # With PySide6 6.12.0 every emit drops a reference to True; after a few thousand emits
    # (minutes of upload progress) Python aborts with "bool_dealloc". pyproject excludes it.
    emitter = _Emitter()
    received: list[int] = []
    emitter.bare.connect(lambda: received.append(0))
    emitter.number.connect(received.append)
    before = sys.getrefcount(True)
    for value in range(200):
        emitter.bare.emit()
        emitter.number.emit(value)
    assert len(received) == 400
    assert abs(sys.getrefcount(True) - before) < 10
