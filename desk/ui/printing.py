"""Printing the PDFs the app makes (receipts, statements) on a workstation's printer.

Where CUPS is there (``lp`` on PATH: Linux, macOS) the PDF itself goes to the
spooler, so the printer gets vector text. Elsewhere (Windows) each page is rendered
with QtPdf and painted onto a ``QPrinter``. Every printing problem surfaces as
:class:`PrintError`, whose message can be shown to the user as it is.

The printer is per workstation: it lives in ``QSettings`` under ``printing/printer``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSettings, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter, QPrinterInfo

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

PRINTER_KEY = "printing/printer"
ROLL_WIDTH_MM = 80
LP_TIMEOUT_S = 30
MAX_RENDER_DPI = 300  # an A4 page at 300 dpi is already a 35 MB image
PAPERS = ("roll80", "letter", "a4")


class PrintError(Exception):
    """A printing problem, with a message fit for the user ("Printing failed: …")."""


def remembered_printer() -> str | None:
    """This workstation's printer, or None if none was picked yet."""
    name = QSettings().value(PRINTER_KEY)
    return name if isinstance(name, str) and name else None


def remember_printer(name: str) -> None:
    """Make ``name`` this workstation's printer (kept across restarts)."""
    settings = QSettings()
    settings.setValue(PRINTER_KEY, name)
    settings.sync()


def available_printers() -> list[str]:
    """The printers Qt sees. Empty on Linux without ``libcups2`` (Qt's CUPS plugin)."""
    return list(QPrinterInfo.availablePrinterNames())


def pick_printer(parent: QWidget | None) -> str | None:
    """Ask for a printer in the system print dialog (preselecting the remembered one).

    Returns the chosen name, which is then remembered, or None when cancelled.
    """
    printer = QPrinter()
    remembered = remembered_printer()
    if remembered and not QPrinterInfo.printerInfo(remembered).isNull():
        printer.setPrinterName(remembered)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Choose a printer")
    # Only a real printer will do: "print to file" has no name to remember.
    dialog.setOptions(QAbstractPrintDialog.PrintDialogOption.PrintShowPageSize)
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return None
    name = printer.printerName()
    if not name:
        return None
    remember_printer(name)
    return name


def print_pdf(pdf: bytes, printer: str, *, title: str, paper: str,
              roll_height_mm: float | None = None, copies: int = 1) -> None:
    """Send ``pdf`` to ``printer``, ``copies`` times, as a job called ``title``.

    ``paper`` is ``roll80`` (80 mm roll, cut at ``roll_height_mm``, measured from the
    PDF when None), ``letter`` or ``a4``. Returning means the spooler accepted the
    job, not that paper came out. Raises PrintError for every printing problem and
    ValueError for a bad ``paper`` or ``copies``.
    """
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; expected one of {PAPERS}")
    if copies < 1:
        raise ValueError(f"copies must be at least 1, not {copies}")
    if paper == "roll80" and roll_height_mm is None:
        roll_height_mm = _first_page_height_mm(pdf)
    lp = _lp_command()
    if lp is not None:
        _print_with_lp(lp, pdf, printer, title, _lp_media(paper, roll_height_mm), copies)
    elif _has_qtpdf():
        _print_with_qt(pdf, printer, title, _page_size(paper, roll_height_mm), copies)
    else:
        raise PrintError("Printing is not possible here: there is no CUPS 'lp' command and "
                         "no QtPdf (PySide6 6.12 or newer) to draw the pages. "
                         "Save the PDF and print it from a PDF viewer.")


def pdf_page_images(pdf: bytes, dpi: int) -> list[QImage]:
    """Every page of ``pdf`` drawn at ``dpi`` on white (RGB32, no transparency).

    Raises PrintError if QtPdf is missing (PySide6 below 6.12) or the PDF is unreadable.
    """
    document = _open_document(pdf)
    try:
        return [_render(document, page, dpi) for page in range(document.pageCount())]
    finally:
        document.close()


def _lp_command() -> str | None:
    return shutil.which("lp")


def _has_qtpdf() -> bool:
    try:
        import PySide6.QtPdf  # noqa: F401
    except ImportError:
        return False
    return True


def _first_page_height_mm(pdf: bytes) -> float:
    # reportlab writes page dictionaries uncompressed, so the MediaBox is plain text.
    number = rb"(-?\d+(?:\.\d*)?|-?\.\d+)"
    match = re.search(rb"/MediaBox\s*\[\s*" + rb"\s+".join([number] * 4) + rb"\s*\]", pdf)
    return 297.0 if match is None else (float(match[4]) - float(match[2])) / 72 * 25.4


def _lp_media(paper: str, roll_height_mm: float | None) -> str:
    if paper == "roll80":
        return f"Custom.{ROLL_WIDTH_MM}x{math.ceil(roll_height_mm or 297)}mm"
    return "Letter" if paper == "letter" else "A4"


def _print_with_lp(lp: str, pdf: bytes, printer: str, title: str, media: str,
                   copies: int) -> None:
    command = [lp, "-d", printer, "-t", title, "-n", str(copies), "-o", f"media={media}", "-"]
    try:
        done = subprocess.run(command, input=pdf, capture_output=True, timeout=LP_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        raise PrintError(f"Printing failed: the print system did not answer within "
                         f"{LP_TIMEOUT_S} s") from None
    except OSError as exc:
        raise PrintError(f"Printing failed: could not run {lp}: {exc.strerror}") from exc
    if done.returncode == 0:
        return
    known = _cups_destinations()
    if known is not None and printer not in known:
        raise PrintError(f"The printer '{printer}' is not available")
    said = done.stderr.decode(errors="replace").strip() or f"lp exited with {done.returncode}"
    raise PrintError(f"Printing failed: {said.removeprefix('lp: ')}")


def _cups_destinations() -> set[str] | None:
    """CUPS queue names (``lpstat -e``), or None when they cannot be listed."""
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return None
    try:
        done = subprocess.run([lpstat, "-e"], capture_output=True, text=True,
                              timeout=LP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return {line.split("/")[0] for line in done.stdout.split()}


def _page_size(paper: str, roll_height_mm: float | None) -> QPageSize:
    if paper == "roll80":
        height = math.ceil(roll_height_mm or 297)
        return QPageSize(QSizeF(ROLL_WIDTH_MM, height), QPageSize.Unit.Millimeter,
                         f"Roll {ROLL_WIDTH_MM} x {height} mm",
                         QPageSize.SizeMatchPolicy.ExactMatch)
    return QPageSize(QPageSize.PageSizeId.Letter if paper == "letter" else
                     QPageSize.PageSizeId.A4)


def _print_with_qt(pdf: bytes, name: str, title: str, page_size: QPageSize,
                   copies: int) -> None:
    """Rasterise each page with QtPdf onto a QPrinter (the Windows way)."""
    if QPrinterInfo.printerInfo(name).isNull():
        raise PrintError(f"The printer '{name}' is not available")
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPrinterName(name)
    if printer.printerName() != name:  # Qt silently falls back to another printer
        raise PrintError(f"The printer '{name}' is not available")
    printer.setDocName(title)
    printer.setCopyCount(copies)
    printer.setFullPage(True)
    printer.setPageLayout(QPageLayout(page_size, QPageLayout.Orientation.Portrait,
                                      QMarginsF(0, 0, 0, 0)))
    dpi = min(printer.resolution(), MAX_RENDER_DPI)
    document = _open_document(pdf)
    painter = QPainter()
    try:
        if not painter.begin(printer):
            raise PrintError(f"Printing failed: could not start a print job on '{name}'")
        try:
            for page in range(document.pageCount()):
                if page and not printer.newPage():
                    raise PrintError(f"Printing failed: '{name}' refused page {page + 1}")
                painter.drawImage(printer.pageRect(QPrinter.Unit.DevicePixel),
                                  _render(document, page, dpi))
        except BaseException:
            printer.abort()
            painter.end()
            raise
        if not painter.end():
            raise PrintError(f"Printing failed: '{name}' did not take the job")
    finally:
        document.close()


def _open_document(pdf: bytes) -> Any:
    """A loaded QPdfDocument (reading a copy of ``pdf`` from a buffer it owns)."""
    try:
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        raise PrintError("Showing PDF pages needs QtPdf (PySide6 6.12 or newer, "
                         "Python 3.12+)") from None
    document = QPdfDocument()
    buffer = QBuffer(document)
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        raise PrintError(f"The PDF could not be read ({document.error().name})")
    return document


def _render(document: Any, page: int, dpi: int) -> QImage:
    # QtPdf leaves the paper transparent; printers and previews want it white.
    points = document.pagePointSize(page)
    image = document.render(page, QSize(max(1, round(points.width() * dpi / 72)),
                                        max(1, round(points.height() * dpi / 72))))
    flat = QImage(image.size(), QImage.Format.Format_RGB32)
    flat.fill(QColor(Qt.GlobalColor.white))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat
