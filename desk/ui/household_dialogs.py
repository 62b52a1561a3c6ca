"""The patient window's household and merge dialogs: link with another patient (one
shared wallet or not), add a member, rename, start or stop sharing, leave; merge a
duplicate into the patient kept. What a change would move is read on the worker and
shown before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from desk.core.errors import BadInput
from desk.services import households, merge
from desk.services.context import Ctx
from desk.services.patient_previews import (
    HouseholdPreview,
    MergePreview,
    household_preview,
    merge_preview,
)
from desk.services.patients import PatientInfo
from desk.services.wallet_moves import WalletContents
from desk.ui.action_dialog import ActionDialog, reason_of
from desk.ui.booking_dialog import PatientSearch
from desk.ui.patient_tabs import household_name
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive, error_text, set_error

Confirm = Callable[[QWidget, str, str], bool]
#: The services' refusals name the CLI's options; the dialog names its own boxes.
GUI_WORDS = {"(--move-balance)": "(tick “Move … into the household wallet”)",
             "(--move-to)": "(choose who receives it)"}


def gui_words(text: str) -> str:
    for option, words in GUI_WORDS.items():
        text = text.replace(option, words)
    return text


def moves_text(wallets: list[tuple[str, WalletContents]], currency: str) -> str:
    """"Zoë Adams: 4 Acupuncture tokens; Bob Brown: $12.50 credit" (empty ones left out)."""
    return "; ".join(f"{name}: {w.describe(currency)}" for name, w in wallets if not w.empty)


class HouseholdDialog(ActionDialog):
    """Link a patient who has no household with another patient; or, for a member,
    add a member, rename, start or stop sharing the wallet, or leave."""

    def __init__(self, ctx: Ctx, tasks: Tasks, preview: HouseholdPreview, currency: str,
                 confirm: Confirm, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Household", "Apply", parent)
        self.preview, self.currency, self.confirm = preview, currency, confirm
        self.other: HouseholdPreview | None = None      # the patient picked in the search
        self.said = ""
        self._built = False
        me = preview.patient
        self.search = PatientSearch(tasks, self)
        self.search.results.currentItemChanged.connect(lambda *_: self._picked())
        self.other_info = QLabel(self)
        self.other_info.setWordWrap(True)
        self.other_info.setAccessibleName("Picked patient's household")
        self.move_box = QCheckBox("Move their own balances into the household wallet", self)
        self.move_box.setAccessibleName("Move balances into the household wallet")
        self.move_text = QLabel(self)
        self.move_text.setWordWrap(True)
        self.share = QCheckBox("Share one wallet (every member spends the same balance)",
                               self)
        self.share.setAccessibleName("Share one wallet")
        self.share.toggled.connect(lambda _on: self.refresh())
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Household name")
        self.name.setMaxLength(200)
        household = preview.household
        if household is None:
            self.search.edit.setAccessibleName("Link with")
            self.ok.setText("Link")
            self.heading.setText(f"<b>{escape(me.name)}</b> (#{me.id}) is not in a household. "
                                 "Link them with a family member:")
            self.form.addRow("&Link with", self.search)
            self.form.addRow("", self.other_info)
            self.form.addRow("Household &name", self.name)
            self.form.addRow("", self.share)
        else:
            self._member_options(household.name, household.shared_wallet)
        self.form.addRow("", self.move_box)
        self.form.addRow("", self.move_text)
        self.setMinimumWidth(560)
        self._built = True
        self.refresh()

    def _member_options(self, name: str, shared: bool) -> None:
        household = self.preview.household
        assert household is not None
        me = self.preview.patient
        others = [escape(m.name) for m in household.members if m.id != me.id]
        wallet = "share one wallet" if shared else "each keep their own wallet"
        self.heading.setText(
            f"<b>{escape(me.name)}</b> (#{me.id}) is in the "
            f"<b>{escape(household_name(name))}</b>"
            + (f" with {', '.join(others)}" if others else " (its only member)")
            + f"; members {wallet}.")
        self.options = QButtonGroup(self)
        self.add = QRadioButton("&Add a member:", self)
        self.rename = QRadioButton("&Rename the household to:", self)
        self.toggle = QRadioButton("&Stop sharing the wallet" if shared
                                   else "S&tart sharing one wallet", self)
        self.leave = QRadioButton(f"{me.name} &leaves the household", self)
        for button in (self.add, self.rename, self.toggle, self.leave):
            self.options.addButton(button)
            button.toggled.connect(lambda _on: self.refresh())
        self.search.edit.setAccessibleName("Member to add")
        self.name.setText(name)
        self.move_to = QComboBox(self)
        self.move_to.setAccessibleName("Move the shared balance to")
        for pid, member in self.preview.members():
            self.move_to.addItem(member, pid)
        self.move_to.setCurrentIndex(max(self.move_to.findData(me.id), 0))
        self.holds_text = QLabel(self)
        self.holds_text.setWordWrap(True)
        self.holds_text.setAccessibleName("What the shared wallet holds")
        self.share.hide()                 # a member's household exists: the option below
        self.form.addRow(self.add, self.search)
        self.form.addRow("", self.other_info)
        self.form.addRow(self.rename, self.name)
        self.form.addRow(self.toggle)
        self.form.addRow("", self.holds_text)
        self.form.addRow("Move the shared balance to", self.move_to)
        self.form.addRow(self.leave)
        self.add.setChecked(True)

    # -- what would move ------------------------------------------------------------------

    def _picked(self) -> None:
        info = self.search.patient
        self.other = None
        self.refresh()
        if info is None:
            return
        pid = info.id
        self.tasks.run(lambda: household_preview(pid),
                       lambda found: self._other_loaded(pid, found),
                       lambda exc: set_error(self.other_info, error_text(exc))
                       if alive(self) else None)

    def _other_loaded(self, pid: int, found: HouseholdPreview) -> None:
        if alive(self) and self.search.patient is not None and self.search.patient.id == pid:
            self.other = found
            self.refresh()

    def _joining(self) -> list[tuple[str, WalletContents]]:
        """The own wallets that would move into a shared wallet by what is chosen now."""
        pre, other = self.preview, self.other
        household = pre.household
        if household is None:
            if other is None:
                return []
            theirs = other.household
            if theirs is not None and theirs.shared_wallet:
                return [(pre.patient.name, pre.own[pre.patient.id])]
            if not self.share.isChecked():
                return []
            return [(pre.patient.name, pre.own[pre.patient.id]),
                    *((name, other.own[pid]) for pid, name in other.members())]
        if self._chosen(self.add):
            if other is None or not household.shared_wallet:
                return []
            return [(other.patient.name, other.own[other.patient.id])]
        if self._chosen(self.toggle) and not household.shared_wallet:
            return [(name, pre.own[pid]) for pid, name in pre.members()]
        return []

    def _chosen(self, option: QRadioButton) -> bool:
        return self.preview.household is not None and option.isChecked()

    def refresh(self) -> None:
        if not self._built:
            return
        pre, other = self.preview, self.other
        household = pre.household
        if other is not None:
            theirs = other.household
            if theirs is None:
                text = f"{other.patient.name} is not in a household yet: a new one is made."
            else:
                text = (f"{other.patient.name} is in the {household_name(theirs.name)} ("
                        + ("one shared wallet" if theirs.shared_wallet else "own wallets")
                        + ").")
            self.other_info.setText(text)
        else:
            self.other_info.setText("")
        self.form.setRowVisible(self.other_info, bool(self.other_info.text()))
        if household is None:
            theirs = other.household if other is not None else None
            self.form.setRowVisible(self.name, theirs is None)
            if other is not None and theirs is None:
                self.name.setPlaceholderText(f"{other.patient.name} household")
            self.share.setEnabled(not (theirs is not None and theirs.shared_wallet))
            if theirs is not None and theirs.shared_wallet:
                self.share.setChecked(True)
        else:
            self.search.setEnabled(self.add.isChecked())
            self.name.setEnabled(self.rename.isChecked())
            empty = pre.shared is None or pre.shared.empty
            self.form.setRowVisible(self.move_to, household.shared_wallet and not empty)
            self.form.setRowVisible(self.holds_text, household.shared_wallet and not empty)
            self.move_to.setEnabled(self.toggle.isChecked())
            if pre.shared is not None and not empty:
                self.holds_text.setText(
                    f"The shared wallet holds {pre.shared.describe(self.currency)}: choose "
                    "who receives it." + (" Sharing can stop once those visits are checked "
                                          "in or cancelled." if pre.shared.open_holds else ""))
        joining = [(n, w) for n, w in self._joining() if not w.empty]
        self.form.setRowVisible(self.move_box, bool(joining))
        self.form.setRowVisible(self.move_text, bool(joining))
        if joining:
            self.move_box.setText("Move " + ("my balance" if len(joining) == 1 and joining[0][0]
                                         == pre.patient.name else "their own balances")
                              + " into the household wallet")
            self.move_text.setText("Joining the shared wallet needs them moved: "
                                   + moves_text(joining, self.currency) + ".")

    # -- saving ---------------------------------------------------------------------------

    def call(self) -> Callable[[], Any] | None:
        ctx, key, me = self.ctx, self.key, self.preview.patient
        household = self.preview.household
        move = self.move_box.isChecked() and self.form.isRowVisible(self.move_box)
        if household is None or self.add.isChecked():
            other = self.search.patient
            if other is None:
                field = "Link with" if household is None else "Add a member"
                raise BadInput(field, "choose a patient from the list (type a name or phone)")
            if other.id == me.id:
                raise BadInput("Link with", "choose another patient")
            if household is None:
                share = self.share.isChecked()
                name = self.name.text() if self.name.text().strip() else None
                self.said = f"{me.name} linked with {other.name}."
                return lambda: households.link(ctx, me.id, other.id, shared_wallet=share,
                                               move_balance=move, name=name, idem_key=key)
            self.said = f"{other.name} joined the {household_name(household.name)}."
            return lambda: households.link(ctx, other.id, me.id, move_balance=move,
                                           idem_key=key)
        hid = household.id
        if self.rename.isChecked():
            name = self.name.text()
            self.said = "Household renamed."
            return lambda: households.rename(ctx, hid, name)
        if self.toggle.isChecked():
            shared = not household.shared_wallet
            to = self.move_to.currentData() if self.form.isRowVisible(self.move_to) else None
            self.said = "The household now shares one wallet." if shared else \
                "The household members now keep their own wallets."
            return lambda: households.set_shared_wallet(ctx, hid, shared, move_balance=move,
                                                        move_to=to, idem_key=key)
        if not self.confirm(self, "Leave household",
                            f"Take {me.name} out of the {household_name(household.name)}?"):
            return None
        self.said = f"{me.name} left the {household_name(household.name)}."
        return lambda: households.unlink(ctx, me.id)

    def _save_failed(self, exc: BaseException) -> None:
        super()._save_failed(exc)
        set_error(self.message, gui_words(self.message.text()))


class MergeDialog(ActionDialog):
    """Merge a duplicate (chosen by search) into one of the two, with a reason and a
    last confirmation; ``outcome`` is the ``MergeResult``."""

    def __init__(self, ctx: Ctx, tasks: Tasks, me: PatientInfo, currency: str,
                 confirm: Confirm, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Merge duplicate", "Merge…", parent)
        self.me, self.currency, self.confirm = me, currency, confirm
        self.previews: tuple[MergePreview, MergePreview] | None = None
        self.heading.setText(f"Merge a duplicate record of <b>{escape(me.name)}</b> "
                             f"(#{me.id}): the same person entered twice. Visits, balances "
                             "and history move to the patient kept; the other record stays, "
                             "inactive, pointing at it.")
        self.search = PatientSearch(tasks, self)
        self.search.edit.setAccessibleName("Duplicate")
        self.search.results.currentItemChanged.connect(lambda *_: self._picked())
        self.keep_me = QRadioButton(self)
        self.keep_other = QRadioButton(self)
        self.keep_me.setChecked(True)
        for button in (self.keep_me, self.keep_other):
            button.setAccessibleName("Patient kept")
            button.toggled.connect(lambda _on: self.refresh())
        self.what = QLabel(self)
        self.what.setWordWrap(True)
        self.what.setAccessibleName("What moves")
        self.reason = self.line_edit("Reason", "e.g. entered twice at the desk (required)")
        self.reason.setMaxLength(500)
        self.form.addRow("&Duplicate", self.search)
        self.form.addRow("&Keep", self.keep_me)
        self.form.addRow("", self.keep_other)
        self.form.addRow("", self.what)
        self.form.addRow("&Reason", self.reason)
        self.setMinimumWidth(560)
        self._built = True
        self.refresh()

    def _picked(self) -> None:
        info = self.search.patient
        self.previews = None
        self.refresh()
        if info is None or info.id == self.me.id:
            return
        me, other, now = self.me.id, info.id, self.ctx.local_now()
        self.tasks.run(lambda: (merge_preview(me, other, now), merge_preview(other, me, now)),
                       lambda found: self._loaded(other, found),
                       lambda exc: set_error(self.what, error_text(exc)) if alive(self)
                       else None)

    def _loaded(self, other: int, found: tuple[MergePreview, MergePreview]) -> None:
        if alive(self) and self.search.patient is not None and self.search.patient.id == other:
            self.previews = found
            self.refresh()

    def chosen(self) -> MergePreview | None:
        if self.previews is None:
            return None
        return self.previews[0] if self.keep_me.isChecked() else self.previews[1]

    def refresh(self) -> None:
        other = self.search.patient
        if other is None or other.id == self.me.id:
            self.keep_me.setText(f"{self.me.name} (#{self.me.id})")
            self.keep_other.setText("the duplicate")
            self.keep_other.setEnabled(False)
            set_error(self.what, "" if other is None else "Choose another patient: this is "
                      f"{self.me.name} already.")
            return
        self.keep_me.setText(f"{self.me.name} (#{self.me.id}), merge {other.name} "
                             f"(#{other.id}) into it")
        self.keep_other.setText(f"{other.name} (#{other.id}), merge {self.me.name} "
                                f"(#{self.me.id}) into it")
        self.keep_other.setEnabled(True)
        preview = self.chosen()
        if preview is None:
            set_error(self.what, "Reading what would move…")
            return
        set_error(self.what, "")
        self.what.setText(self._moves(preview))

    def _moves(self, p: MergePreview) -> str:
        keep, drop = f"{escape(p.keep.name)} (#{p.keep.id})", f"#{p.drop.id}"
        upcoming = f", {p.upcoming} upcoming" if p.upcoming else ""
        parts = [f"{p.visits} visit{'s' if p.visits != 1 else ''}{upcoming}"]
        if p.memberships:
            parts.append(f"{p.memberships} membership{'s' if p.memberships != 1 else ''}")
        parts.append(escape(p.wallet.describe(self.currency)) if not p.wallet.empty
                     else "no balance")
        n = p.transactions
        history = (f"{drop} has no transactions." if not n else
                   f"The {n} transaction{'s' if n != 1 else ''} of {drop} "
                   f"{'appears' if n == 1 else 'appear'} in its history.")
        text = (f"Moves to {keep}: {', '.join(parts)}. {history} "
                f"{escape(p.drop.name)} ({drop}) is kept, inactive, as merged.")
        if p.shared_household:
            text += (f"<br><b style='color:#b3261e'>{escape(p.drop.name)} spends the shared "
                     f"wallet of the {escape(household_name(p.shared_household))}: take "
                     "them out of the household first.</b>")
        return text

    def call(self) -> Callable[[], Any] | None:
        other = self.search.patient
        if other is None:
            raise BadInput("Duplicate", "choose the duplicate from the list (type a name "
                           "or phone)")
        if other.id == self.me.id:
            raise BadInput("Duplicate", "choose another patient than this one")
        preview = self.chosen()
        if preview is None:
            raise BadInput("Duplicate", "wait a moment: what would move is being read")
        why = reason_of(self.reason, "say why (e.g. the same person entered twice)")
        keep, drop = preview.keep, preview.drop
        if not self.confirm(self, "Merge duplicate",
                            f"Merge {drop.name} (#{drop.id}) into {keep.name} (#{keep.id})?\n\n"
                            "Visits, balances and history move to the patient kept. This "
                            "cannot be undone."):
            return None
        ctx, key = self.ctx, self.key
        return lambda: merge.merge_patients(ctx, keep.id, drop.id, why, idem_key=key)

