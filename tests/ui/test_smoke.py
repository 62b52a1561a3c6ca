from __future__ import annotations

from typing import Any

from tests.ui.conftest import Clinic


def test_window_shows_tuesday(make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    grid = window.view.grid
    assert [c.title for c in grid.columns] == ["Ann Lee", "Ben Okafor"]
    assert set(grid.blocks) == set(clinic.visits.values())
    kinds = {b.patient_name: [i.kind for i in b.icons] for b in grid.blocks.values()}
    assert kinds == {"Zoë Adams": ["ticket"], "Bob Brown": ["credit", "warning"],
                     "Cat Diaz": ["owes", "warning"], "Dan Evans": ["warning"]}
