"""Printing receipts: through a real CUPS queue (cups-pdf), and the API around it.

The CUPS tests print to ``DESK_TEST_PDF`` (see ``tests/print_queue.py``) and read the
PDF cups-pdf writes back with poppler-utils. They skip only when CUPS cannot be set
up here (not root, packages missing); ``DESK_REQUIRE_CUPS=1`` turns that into a
failure. Other tests stand in for ``lp`` with a small shell script on PATH.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog

from desk.printing.receipt import render_receipt
from desk.printing.receipt_data import ClinicHeader, Payment, ReceiptData, ReceiptLine
from desk.ui import printing
from desk.ui.printing import PrintError
from tests.print_queue import Queue, cups_pdf_queue, why_unavailable

MM_PT = 72 / 25.4
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="fake lp is a shell script")
needs_qtpdf = pytest.mark.skipif(importlib.util.find_spec("PySide6.QtPdf") is None,
                                 reason="needs QtPdf (PySide6-Pdf 6.12, Python 3.12+)")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="needs poppler-utils (pdftotext, pdfinfo)")


def receipt(paper: str = "roll80") -> bytes:
    data = ReceiptData(
        ClinicHeader("Harbour Acupuncture", "12 Quay Street", "555 0100"), "Receipt", 42, 7,
        dt.datetime(2026, 3, 3, 10, 5), "Ana", "Bob Brown", 3,
        (ReceiptLine("Acupuncture 45", None, 1, "Acupuncture"),
         ReceiptLine("Herbal formula", 1800)),
        (Payment("card", 1800),), 1800, tokens_after={"Acupuncture": 4},
        credit_after_cents=1250, paper=paper)
    return render_receipt(data)


def two_pages() -> bytes:
    """Page 1 Letter with a black box, page 2 an 80 x 150 mm roll."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=LETTER)
    pdf.rect(100, 100, 200, 200, stroke=0, fill=1)
    pdf.showPage()
    pdf.setPageSize((80 * MM_PT, 150 * MM_PT))
    pdf.drawString(20, 20, "second page")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in out.splitlines())}


def page_size_pt(path: Path) -> tuple[float, float]:
    width, _, height = pdfinfo(path)["Page size"].split()[:3]
    return float(width), float(height)


@pytest.fixture(scope="session")
def queue() -> Queue:
    found = cups_pdf_queue()
    if found is None:
        if os.environ.get("DESK_REQUIRE_CUPS") == "1":
            pytest.fail(f"DESK_REQUIRE_CUPS=1 but {why_unavailable()}", pytrace=False)
        pytest.skip(why_unavailable())
    return found


@pytest.fixture
def token() -> Iterator[str]:
    """A unique job-title part; the PDFs cups-pdf made for it are deleted afterwards."""
    value = uuid.uuid4().hex[:12]
    yield value
    queue = cups_pdf_queue()
    if queue is not None:
        for path in queue.output_dir.glob(f"*{value}*.pdf"):
            path.unlink(missing_ok=True)


@pytest.fixture
def no_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the Windows path: no CUPS ``lp``, pages drawn with QtPdf on a QPrinter."""
    monkeypatch.setattr(printing, "_lp_command", lambda: None)


@pytest.fixture
def saved_printer() -> Iterator[None]:
    """Put the remembered printer back as it was."""
    before = QSettings().value(printing.PRINTER_KEY)
    yield
    settings = QSettings()
    if before is None:
        settings.remove(printing.PRINTER_KEY)
    else:
        settings.setValue(printing.PRINTER_KEY, before)
    settings.sync()


@needs_poppler
def test_a_roll_receipt_comes_out_of_cups_as_text_on_80_mm_paper(
        qapp: QApplication, queue: Queue, token: str) -> None:
    pdf = receipt("roll80")
    height_mm = 93.4
    printing.print_pdf(pdf, queue.name, title=f"Receipt 42 {token}", paper="roll80",
                       roll_height_mm=height_mm)
    printed = queue.wait_for_pdf(token)
    text = text_of(printed)
    for expected in ("Harbour Acupuncture", "Receipt #42", "Patient: Bob Brown",
                     "1 Acupuncture token", "Total", "Card", "$18.00", "$12.50",
                     "Transaction 7"):
        assert expected in text
    info = pdfinfo(printed)
    assert info["Pages"] == "1"
    width, height = page_size_pt(printed)
    assert width == pytest.approx(80 * MM_PT, abs=1)       # ghostscript rounds to 1 pt
    assert height == pytest.approx(94 * MM_PT, abs=1)      # 93.4 mm rounded up


@needs_poppler
def test_a_letter_statement_comes_out_on_letter_paper(
        qapp: QApplication, queue: Queue, token: str) -> None:
    # Copies are not checked here: CUPS leaves them to the driver and cups-pdf writes
    # one file whatever the count (the fake-lp test below checks ``-n``).
    printing.print_pdf(receipt("letter"), queue.name, title=f"Statement {token}",
                       paper="letter")
    printed = queue.wait_for_pdf(token)
    assert pdfinfo(printed)["Pages"] == "1"
    assert page_size_pt(printed) == pytest.approx((612, 792), abs=1)
    assert text_of(printed).count("$18.00") == 3        # the line, the total, the card


@needs_poppler
@needs_qtpdf
def test_without_lp_the_pages_are_drawn_on_a_qprinter(
        qapp: QApplication, queue: Queue, token: str, no_lp: None) -> None:
    printing.print_pdf(receipt("roll80"), queue.name, title=f"Receipt {token}",
                       paper="roll80", roll_height_mm=120)
    printed = queue.wait_for_pdf(token)
    assert pdfinfo(printed)["Pages"] == "1"
    assert page_size_pt(printed) == pytest.approx((80 * MM_PT, 120 * MM_PT), abs=1)
    images = subprocess.run(["pdfimages", "-list", str(printed)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    assert len(images) == 1                             # one picture of the page


@pytest.mark.parametrize("path", ["lp", "qt"])
def test_a_missing_printer_is_named_in_the_error(
        qapp: QApplication, request: pytest.FixtureRequest, path: str) -> None:
    if path == "lp":
        request.getfixturevalue("queue")                # lp needs a running scheduler
    elif importlib.util.find_spec("PySide6.QtPdf") is None:
        pytest.skip("needs QtPdf (PySide6-Pdf 6.12, Python 3.12+)")
    else:
        request.getfixturevalue("no_lp")
    with pytest.raises(PrintError) as caught:
        printing.print_pdf(receipt(), "DESK_NO_SUCH_PRINTER", title="Receipt", paper="roll80")
    assert str(caught.value) == "The printer 'DESK_NO_SUCH_PRINTER' is not available"


def fake_cups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lp_body: str) -> Path:
    """``lp`` and ``lpstat`` scripts first on PATH; lpstat knows the queue "Front"."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"lp": lp_body, "lpstat": 'echo Front\necho "Front/draft"\n'}.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


@POSIX_ONLY
def test_lp_gets_the_pdf_title_copies_and_roll_media(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cups(tmp_path, monkeypatch,
              f'printf "%s\\n" "$@" > {tmp_path}/args\ncat > {tmp_path}/stdin\n')
    pdf = receipt()
    printing.print_pdf(pdf, "Front", title="Receipt 42", paper="roll80", roll_height_mm=80.2,
                       copies=3)
    args = (tmp_path / "args").read_text().splitlines()
    assert args == ["-d", "Front", "-t", "Receipt 42", "-n", "3", "-o",
                    "media=Custom.80x81mm", "-"]
    assert (tmp_path / "stdin").read_bytes() == pdf
    printing.print_pdf(pdf, "Front", title="Statement", paper="a4")
    assert "media=A4" in (tmp_path / "args").read_text().splitlines()
    printing.print_pdf(pdf, "Front", title="Receipt", paper="roll80")   # height from the PDF
    media = (tmp_path / "args").read_text().splitlines()[7]
    assert media.startswith("media=Custom.80x") and media.endswith("mm")


@POSIX_ONLY
def test_lp_failures_carry_lps_own_words(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cups(tmp_path, monkeypatch,
              'echo \'lp: Destination "Front" is not accepting jobs.\' >&2\nexit 1\n')
    with pytest.raises(PrintError, match='^Printing failed: Destination "Front" is not '
                       r'accepting jobs\.$'):
        printing.print_pdf(receipt(), "Front", title="Receipt", paper="roll80")
    with pytest.raises(PrintError, match=r"^The printer 'Back' is not available$"):
        printing.print_pdf(receipt(), "Back", title="Receipt", paper="roll80")


@POSIX_ONLY
def test_a_hung_spooler_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cups(tmp_path, monkeypatch, "exec sleep 10\n")
    monkeypatch.setattr(printing, "LP_TIMEOUT_S", 0.3)
    with pytest.raises(PrintError, match=r"did not answer within 0\.3 s"):
        printing.print_pdf(receipt(), "Front", title="Receipt", paper="roll80")


def test_no_lp_and_no_qtpdf_says_printing_is_impossible(
        qapp: QApplication, no_lp: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtPdf", None)   # import now fails
    with pytest.raises(PrintError, match="no CUPS 'lp' command and no QtPdf"):
        printing.print_pdf(receipt(), "Front", title="Receipt", paper="roll80")
    with pytest.raises(PrintError, match="needs QtPdf"):
        printing.pdf_page_images(receipt(), 72)


def test_bad_arguments_are_caller_errors(qapp: QApplication) -> None:
    with pytest.raises(ValueError, match="unknown paper"):
        printing.print_pdf(receipt(), "Front", title="Receipt", paper="A5")
    with pytest.raises(ValueError, match="copies"):
        printing.print_pdf(receipt(), "Front", title="Receipt", paper="a4", copies=0)


def test_the_printer_is_remembered_in_qsettings(qapp: QApplication,
                                                saved_printer: None) -> None:
    QSettings().remove(printing.PRINTER_KEY)
    assert printing.remembered_printer() is None
    printing.remember_printer("Front desk HP")
    assert printing.remembered_printer() == "Front desk HP"
    assert QSettings().value("printing/printer") == "Front desk HP"


@needs_qtpdf
def test_page_images_are_white_backed_and_shaped_like_the_pages(qapp: QApplication) -> None:
    letter, roll = printing.pdf_page_images(two_pages(), 36)
    assert (letter.width(), letter.height()) == (306, 396)
    assert (roll.width(), roll.height()) == (round(80 * MM_PT / 2), round(150 * MM_PT / 2))
    for image in (letter, roll):
        assert not image.hasAlphaChannel()
        assert image.pixelColor(1, 1) == QColor("white")
    assert letter.pixelColor(100, 396 - 100).lightness() < 20   # the black box
    pdf = receipt()
    [page] = printing.pdf_page_images(pdf, 100)
    assert page.format() == QImage.Format.Format_RGB32
    assert page.width() == round(80 / 25.4 * 100)
    assert page.width() / page.height() == pytest.approx(
        80 / printing._first_page_height_mm(pdf), rel=0.01)


@needs_qtpdf
def test_page_images_of_a_broken_pdf_raise_print_error(qapp: QApplication) -> None:
    with pytest.raises(PrintError, match="could not be read"):
        printing.pdf_page_images(b"%PDF-1.4 not really", 72)


def close_print_dialog(accept: bool, seen: list[str]) -> None:
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, QDialog):
        QTimer.singleShot(20, lambda: close_print_dialog(accept, seen))
        return
    seen.append(dialog.windowTitle())
    dialog.accept() if accept else dialog.reject()


@pytest.mark.parametrize("accept", [True, False])
def test_pick_printer_offers_the_remembered_printer(
        qapp: QApplication, queue: Queue, saved_printer: None, accept: bool) -> None:
    printing.remember_printer(queue.name)
    assert queue.name in printing.available_printers()
    seen: list[str] = []
    QTimer.singleShot(0, lambda: close_print_dialog(accept, seen))
    picked = printing.pick_printer(None)
    assert seen == ["Choose a printer"]
    assert picked == (queue.name if accept else None)
    assert printing.remembered_printer() == queue.name


def test_queue_setup_is_idempotent(queue: Queue) -> None:
    cups_pdf_queue.cache_clear()                        # set up again, as a second worker
    assert cups_pdf_queue() == queue


@needs_poppler
@needs_qtpdf
def test_the_preview_prints_on_its_own_worker_and_closes(
        qtbot: Any, queue: Queue, token: str, saved_printer: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Print… in the receipt preview: the chosen printer is remembered, the job goes
    to the spooler worker (the window keeps running), and the preview closes saying
    where the receipt went."""
    from desk.ui.receipt_preview import ReceiptPreview
    from desk.ui.tasks import Tasks

    monkeypatch.setattr(printing, "pick_printer",
                        lambda _parent: (printing.remember_printer(queue.name), queue.name)[1])
    spooler = Tasks()
    title = f"Receipt 42 {token}"
    preview = ReceiptPreview(receipt(), title, "roll80", "receipt-42", spooler)
    qtbot.addWidget(preview)
    preview.show()
    preview.print_button.click()
    qtbot.waitUntil(lambda: preview.result() == QDialog.DialogCode.Accepted, timeout=10_000)
    assert preview.said == f"{title} sent to {queue.name}."
    assert printing.remembered_printer() == queue.name
    printed = text_of(queue.wait_for_pdf(token))
    assert "Harbour Acupuncture" in printed
    assert "Herbal formula" in printed
    spooler.close()
