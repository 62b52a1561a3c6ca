"""Households and merging duplicates from the patient window: link (sharing one wallet
or not), the move of own balances it needs, leave, stop sharing, rename; merge a
duplicate either way. Balances are read back to the cent, the schedule grid's icons
of both members show the shared wallet.

The clinic is the one in ``tests/ui/conftest.py``: Zoë 4 Acupuncture tokens (expiring
2026-05-31), Bob 12.50 credit, Cat owes 25.00, Dan nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QPoint

from desk.data.models import Appointment, Patient
from desk.services import households, patients, queries
from desk.services.appointments import book
from desk.services.wallet import adjust
from desk.ui.household_dialogs import HouseholdDialog, MergeDialog
from desk.ui.patient_window import patient_window_of
from tests.ui.conftest import TUESDAY, Clinic, at, choose, wait_loaded
from tests.ui.patient_helpers import (
    LEFT,
    counts,
    open_dialog,
    patient_window,
    pick_patient,
    press_ok,
    press_refused,
    type_into,
    wallet,
)

__all__ = ["patient_window"]   # the fixture, imported for this module's tests

SHARED = "\n(shared household wallet)"


def tick(qtbot: Any, box: Any) -> None:
    qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))


def household_dialog(qtbot: Any, window: Any) -> HouseholdDialog:
    return open_dialog(qtbot, window, window.act_household, HouseholdDialog)


def pick_other(qtbot: Any, dialog: HouseholdDialog, typed: str, name: str) -> None:
    """Pick the patient to link with and wait for what their household holds."""
    pick_patient(qtbot, dialog.search, typed, name)
    qtbot.waitUntil(lambda: dialog.other is not None, timeout=5000)


def icons_of(main: Any) -> dict[str, list[tuple[str, str]]]:
    return {b.patient_name: [(i.kind, i.tooltip) for i in b.icons]
            for b in main.view.grid.blocks.values()}


def test_sharing_a_wallet_needs_the_move_then_both_members_spend_it(
        patient_window: Any, make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    dialog = household_dialog(qtbot, window)
    pick_other(qtbot, dialog, "Bob", "Bob Brown")
    assert dialog.other_info.text() == ("Bob Brown is not in a household yet: a new one is "
                                        "made.")
    assert not dialog.form.isRowVisible(dialog.move_box)       # not sharing: nothing moves
    tick(qtbot, dialog.share)
    assert dialog.share.isChecked() and dialog.form.isRowVisible(dialog.move_box)
    assert dialog.move_text.text() == ("Joining the shared wallet needs them moved: Zoë Adams: "
                                       "4 Acupuncture tokens; Bob Brown: $12.50 credit.")
    qtbot.keyClicks(dialog.name, "Adams-Brown")
    before = counts()
    said = press_refused(qtbot, window, dialog)
    assert said.startswith("Zoë Adams has 4 Acupuncture tokens of their own; joining a shared "
                           "wallet would hide it. Move it into the household wallet (tick “Move")
    assert counts() == before
    assert Patient.get_by_id(clinic.zoe).household_id is None
    tick(qtbot, dialog.move_box)
    press_ok(qtbot, window, dialog)
    for pid in (clinic.zoe, clinic.bob):
        assert wallet(pid) == (1250, {"Acupuncture": 4})
    household = households.household_of(clinic.zoe)
    assert household is not None and household.shared_wallet
    assert (household.name, [m.name for m in household.members]) == (
        "Adams-Brown", ["Bob Brown", "Zoë Adams"])
    assert "Shared wallet of the Adams-Brown household, with Bob Brown" in window.header.text()
    assert "$12.50 credit" in window.header.text()
    bob = patient_window(clinic.bob)
    assert bob.balances.summary.text().endswith(
        "<b>Shared wallet of the Adams-Brown household, with Zoë Adams</b>")
    assert "Adams-Brown household · one shared wallet" in bob.profile.household.text()
    # The schedule grid shows the shared balance on both members' visits.
    main = make_window()
    icons = icons_of(main)
    tokens = ("ticket", "4 Acupuncture tokens; 4 expire 2026-05-31" + SHARED)
    credit = ("credit", "$12.50 credit" + SHARED)
    assert icons["Zoë Adams"] == [tokens, credit]
    assert icons["Bob Brown"][:2] == [tokens, credit]


def test_link_without_sharing_then_leave(patient_window: Any, clinic: Clinic,
                                         qtbot: Any) -> None:
    window = patient_window(clinic.dan)
    dialog = household_dialog(qtbot, window)
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Link with: choose a patient from the list (type a name or phone)")
    assert counts() == before
    pick_other(qtbot, dialog, "Cat", "Cat Diaz")
    assert dialog.name.placeholderText() == "Cat Diaz household"
    press_ok(qtbot, window, dialog)
    household = households.household_of(clinic.dan)
    assert household is not None and not household.shared_wallet
    assert household.name == "Cat Diaz household"
    assert wallet(clinic.dan) == (0, {}) and wallet(clinic.cat) == (-2500, {})
    assert window.profile.household.text() == ("Cat Diaz household · own wallets · with "
                                               "Cat Diaz")
    assert window.status.text() == "Dan Evans linked with Cat Diaz."

    dialog = household_dialog(qtbot, window)
    tick(qtbot, dialog.leave)
    press_ok(qtbot, window, dialog)
    assert households.household_of(clinic.dan) is None
    assert [m.name for m in households.household_of(clinic.cat).members] == ["Cat Diaz"]
    assert window.profile.household.text() == "Not in a household"


def test_stop_sharing_moves_the_shared_balance_to_the_member_chosen(
        patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    households.link(clinic.ctx, clinic.zoe, clinic.bob, shared_wallet=True, move_balance=True)
    window = patient_window(clinic.zoe)
    dialog = household_dialog(qtbot, window)
    assert dialog.toggle.text() == "&Stop sharing the wallet"
    assert dialog.holds_text.text() == ("The shared wallet holds $12.50 credit, 4 Acupuncture "
                                        "tokens: choose who receives it.")
    assert not dialog.share.isVisible()
    tick(qtbot, dialog.toggle)
    choose(qtbot, dialog.move_to, "Bob Brown")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.bob) == (1250, {"Acupuncture": 4})
    assert wallet(clinic.zoe) == (0, {})
    assert not households.household_of(clinic.zoe).shared_wallet
    assert "Shared wallet" not in window.header.text()


def test_rename_and_add_a_member(patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    households.link(clinic.ctx, clinic.bob, clinic.cat)
    window = patient_window(clinic.cat)
    dialog = household_dialog(qtbot, window)
    tick(qtbot, dialog.rename)
    type_into(qtbot, dialog.name, "")
    before = counts()
    assert press_refused(qtbot, window, dialog) == "Household name: is empty"
    assert counts() == before
    qtbot.keyClicks(dialog.name, "Brown-Diaz")
    press_ok(qtbot, window, dialog)
    assert households.household_of(clinic.cat).name == "Brown-Diaz"

    dialog = household_dialog(qtbot, window)
    assert dialog.add.isChecked()
    pick_other(qtbot, dialog, "Dan", "Dan Evans")
    press_ok(qtbot, window, dialog)
    assert [m.name for m in households.household_of(clinic.dan).members] == [
        "Bob Brown", "Cat Diaz", "Dan Evans"]


# -- merge ---------------------------------------------------------------------------------------

def duplicate_of_zoe(clinic: Clinic) -> tuple[int, int]:
    """"Zoe Adams" (no accent) entered again, with 10.00 credit and a Wednesday visit."""
    dup = patients.add_patient(clinic.ctx, "Zoe Adams", phone="555 0199",
                               email="zoe@example.org").id
    adjust(clinic.ctx, dup, reason="paid ahead", credit_cents=1000)
    visit = book(clinic.ctx, dup, clinic.msg, clinic.ben,
                 at(TUESDAY + dt.timedelta(days=1), 14)).appointment_id
    return dup, visit


def test_merge_a_duplicate_into_this_patient(patient_window: Any, clinic: Clinic,
                                             qtbot: Any) -> None:
    dup, visit = duplicate_of_zoe(clinic)
    their_txns = {t.id for t in queries.history(dup)}
    window = patient_window(clinic.zoe)
    asked: list[str] = []
    window.actions_.confirm = lambda _w, _t, text: asked.append(text) is None
    dialog = open_dialog(qtbot, window, window.act_merge, MergeDialog)
    pick_patient(qtbot, dialog.search, "Adams", "Zoë Adams")
    assert dialog.what.text() == "Choose another patient: this is Zoë Adams already."
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Duplicate: choose another patient than this one")
    pick_patient(qtbot, dialog.search, "0199", "Zoe Adams")
    qtbot.waitUntil(lambda: dialog.previews is not None, timeout=5000)
    assert dialog.what.text() == (
        f"Moves to Zoë Adams (#{clinic.zoe}): 1 visit, 1 upcoming, $10.00 credit. The 1 "
        f"transaction of #{dup} appears in its history. Zoe Adams (#{dup}) is kept, inactive, "
        "as merged.")
    assert press_refused(qtbot, window, dialog) == (
        "Reason: is required: say why (e.g. the same person entered twice)")
    assert counts() == before and asked == []
    qtbot.keyClicks(dialog.reason, "entered twice")
    press_ok(qtbot, window, dialog)
    assert asked == [f"Merge Zoe Adams (#{dup}) into Zoë Adams (#{clinic.zoe})?\n\nVisits, "
                     "balances and history move to the patient kept. This cannot be undone."]
    assert Appointment.get_by_id(visit).patient_id == clinic.zoe
    assert wallet(clinic.zoe) == (1000, {"Acupuncture": 4})
    row = Patient.get_by_id(dup)
    assert (row.merged_into_id, row.active) == (clinic.zoe, False)
    assert Patient.get_by_id(clinic.zoe).email == "zoe@example.org"    # filled from the dup
    history = {t.id for t in queries.history(clinic.zoe)}
    assert their_txns <= history
    assert window.patient_id == clinic.zoe
    assert f"Merged from: Zoe Adams (#{dup})" in window.profile.merged.text()
    assert len(window.visits.visits[id(window.visits.upcoming)]) == 2
    # The duplicate's own window says where it went and offers no money actions.
    gone = patient_window(dup)
    assert gone.banner_box.isVisible()
    assert not gone.act_adjust.isEnabled() and not gone.act_sell.isEnabled()
    qtbot.mouseClick(gone.open_kept, LEFT)
    qtbot.waitUntil(lambda: not gone.isVisible(), timeout=5000)
    assert patient_window_of(clinic.ctx, clinic.zoe) is window


def test_merge_keeping_the_other_shows_the_kept_patient(patient_window: Any, clinic: Clinic,
                                                        make_window: Any, qtbot: Any) -> None:
    main = make_window()
    window = patient_window(clinic.dan, main)
    dialog = open_dialog(qtbot, window, window.act_merge, MergeDialog)
    pick_patient(qtbot, dialog.search, "Cat", "Cat Diaz")
    qtbot.waitUntil(lambda: dialog.previews is not None, timeout=5000)
    tick(qtbot, dialog.keep_other)
    assert dialog.what.text().startswith(f"Moves to Cat Diaz (#{clinic.cat}): 1 visit, "
                                         "1 upcoming, no balance.")
    qtbot.keyClicks(dialog.reason, "same person")
    loads = main.loads
    press_ok(qtbot, window, dialog)
    assert window.patient_id == clinic.cat
    assert window.windowTitle() == f"Cat Diaz (#{clinic.cat}) — patient"
    assert patient_window_of(clinic.ctx, clinic.cat) is window
    assert patient_window_of(clinic.ctx, clinic.dan) is None
    assert Patient.get_by_id(clinic.dan).merged_into_id == clinic.cat
    assert wallet(clinic.cat) == (-2500, {})
    wait_loaded(qtbot, main, loads)
    names = {b.appointment_id: b.patient_name for b in main.view.grid.blocks.values()}
    assert names[clinic.visits["dan"]] == "Cat Diaz"
