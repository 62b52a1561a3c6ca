"""The receipt preview (QtPdf) with Print and Save as PDF (SPEC §7).

Printing goes to the printer this workstation remembers (the system print dialog
picks and remembers it); a failed print is reported and never touches the ledger.
Where QtPdf is missing (PySide6 below 6.12, i.e. Python 3.11) the preview offers
to open the PDF in the system's viewer instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desk.ui import printing
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive, error_text


def receipts_dir() -> Path:
    return Path(platformdirs.user_data_dir("desk", appauthor=False)) / "receipts"


def send_to_printer(pdf: bytes, title: str, paper: str, parent: QWidget | None,
                    spooler: Tasks, done: Callable[[str, bool], None], *, ask: bool) -> None:
    """Print on this workstation's printer (asking for one first when ``ask`` or when
    none is remembered). The job is handed over on ``spooler``, a worker of its own,
    so a slow or hung print queue never freezes the window or delays database work.
    ``done(message, printed)`` follows on the GUI thread; nothing when cancelled."""
    name = printing.remembered_printer()
    if ask or not name:
        name = printing.pick_printer(parent)
        if name is None:
            return
    chosen = name

    def failed(exc: BaseException) -> None:
        if not isinstance(exc, printing.PrintError):
            exc = printing.PrintError(error_text(exc))
        QMessageBox.warning(parent, "Printing failed",
                            f"{exc}\n\nNothing else changed: the visit and the payment are "
                            "saved. Print the receipt again later from the visit's menu.")
        done(f"Printing failed: {exc}", False)

    # A roll's length is read from the PDF by print_pdf.
    spooler.run(lambda: printing.print_pdf(pdf, chosen, title=title, paper=paper),
                lambda _none: done(f"{title} sent to {chosen}.", True), failed)


class ReceiptPreview(QDialog):
    """Shows one receipt (or statement) PDF with Print, Save as PDF and Close."""

    def __init__(self, pdf: bytes, title: str, paper: str, file_stem: str, spooler: Tasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spooler = spooler
        self.setWindowTitle(title)
        self.pdf, self.title, self.paper, self.file_stem = pdf, title, paper, file_stem
        self.said = ""                      # what happened, for the window's status bar
        self.viewer = self._viewer()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.print_button = buttons.addButton("Print…", QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.setDefault(True)
        self.save_button = buttons.addButton("Save as PDF…",
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.clicked.connect(self.print_)
        self.save_button.clicked.connect(self.save_as)
        if isinstance(self.viewer, QLabel):  # no QtPdf: the system's viewer instead
            viewer = buttons.addButton("Open in PDF viewer",
                                       QDialogButtonBox.ButtonRole.ActionRole)
            viewer.clicked.connect(self.open_externally)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(buttons)
        self.resize(460 if paper == "roll80" else 720, 760)

    def _viewer(self) -> QWidget:
        try:
            from PySide6.QtPdf import QPdfDocument
            from PySide6.QtPdfWidgets import QPdfView
        except ImportError:
            label = QLabel("This preview needs PySide6 6.12 (Python 3.12 or newer). "
                           "Use Save as PDF, or open the receipt in your PDF viewer.", self)
            label.setWordWrap(True)
            return label
        self._bytes = QByteArray(self.pdf)
        self._buffer = QBuffer(self._bytes, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document: Any = QPdfDocument(self)
        self.document.load(self._buffer)
        view = QPdfView(self)
        view.setDocument(self.document)
        view.setPageMode(QPdfView.PageMode.MultiPage)
        view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        view.setAccessibleName("Receipt preview")
        return view

    def print_(self) -> None:
        send_to_printer(self.pdf, self.title, self.paper, self, self.spooler, self._printed,
                        ask=True)

    def _printed(self, said: str, printed: bool) -> None:
        if alive(self):
            self.said = said
            if printed:
                self.accept()

    def save_as(self) -> None:
        folder = receipts_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self, "Save as PDF",
                                              str(folder / f"{self.file_stem}.pdf"),
                                              "PDF files (*.pdf)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        try:
            path.write_bytes(self.pdf)
        except OSError as exc:
            QMessageBox.warning(self, "Save as PDF", f"Could not write {path}: {exc.strerror}")
            return
        self.said = f"Saved {path}."

    def open_externally(self) -> None:
        folder = receipts_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.file_stem}.pdf"
        path.write_bytes(self.pdf)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
