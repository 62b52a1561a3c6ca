"""A read-only look at one patient from the schedule: profile, balances and recent
transactions (the full patient window with its actions is its own screen)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from desk.core.money import format_money
from desk.services import patients, queries
from desk.services.results import Balance
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive, error_text

RECENT = 15


@dataclass(frozen=True, slots=True)
class PatientSummary:
    info: patients.PatientInfo
    balance: Balance
    recent: list[queries.TxnView]


def load_summary(patient_id: int) -> PatientSummary:
    return PatientSummary(patients.get_patient(patient_id), queries.balance(patient_id),
                          queries.history(patient_id, limit=RECENT))



def summary_html(summary: PatientSummary, currency: str) -> str:
    info, bal = summary.info, summary.balance
    out = [f"<h2>{escape(info.name)}</h2><p>"]
    for label, value in (("Phone", info.phone), ("Email", info.email),
                         ("Born", info.dob.isoformat() if info.dob else ""),
                         ("Notes", info.notes)):
        if value:
            out.append(f"{label}: {escape(value)}<br>")
    out.append("</p><h3>Balance</h3><p>")
    if bal.credit_cents > 0:
        out.append(f"{format_money(bal.credit_cents, currency)} credit<br>")
    elif bal.credit_cents < 0:
        out.append(f"<b>Owes {format_money(-bal.credit_cents, currency)}</b><br>")
    else:
        out.append("No credit, owes nothing<br>")
    for kind, count in sorted(bal.tokens.items()):
        held = bal.held.get(kind, 0)
        expiry = bal.next_expiry.get(kind)
        extra = (f", {held} held" if held else "") + (f", next expiry {expiry}" if expiry else "")
        out.append(f"{count} {escape(kind)} token{'s' if count != 1 else ''}{extra}<br>")
    out.append("</p><h3>Recent transactions</h3><table cellspacing='4'>")
    for txn in summary.recent:
        money = format_money(txn.credit_change_cents, currency) if txn.credit_change_cents \
            else ""
        tokens = ", ".join(f"{n:+d} {k}" for k, n in txn.token_changes.items() if n)
        receipt = f"#{txn.receipt_no}" if txn.receipt_no else ""
        out.append(f"<tr><td>{txn.created_at:%Y-%m-%d}</td><td>{escape(txn.kind)}</td>"
                   f"<td>{escape(txn.memo)}</td><td>{money}</td><td>{escape(tokens)}</td>"
                   f"<td>{receipt}</td></tr>")
    if not summary.recent:
        out.append("<tr><td>None yet</td></tr>")
    out.append("</table>")
    return "".join(out)


class PatientSummaryDialog(QDialog):
    def __init__(self, tasks: Tasks, patient_id: int, currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Patient")
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("Patient details")
        self.browser.setText("Loading…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(560, 520)
        tasks.run(lambda: load_summary(patient_id),
                  lambda s: self._show(summary_html(s, currency), html=True),
                  lambda exc: self._show(error_text(exc), html=False))

    def _show(self, text: str, *, html: bool) -> None:
        if not alive(self.browser):  # closed before the worker answered
            return
        if html:
            self.browser.setHtml(text)
        else:
            self.browser.setText(text)
