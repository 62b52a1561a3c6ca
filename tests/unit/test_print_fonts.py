"""Font fallback in PDFs: accents and € from DejaVu Sans, CJK names from WenQuanYi."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from desk.printing import fonts
from desk.printing.receipt import render_receipt
from desk.printing.receipt_data import ClinicHeader, Payment, ReceiptData, ReceiptLine


def test_text_is_cut_into_runs_by_the_font_that_has_each_character() -> None:
    regular, bold = fonts.register()
    assert fonts.runs("Zoë €12", regular) == [(regular, "Zoë €12")]
    assert fonts.runs("김민준 (山田太郎)", bold) == [
        (fonts.CJK, "김민준"), (bold, " ("), (fonts.CJK, "山田太郎"), (bold, ")")]
    assert fonts.runs("", regular) == []
    assert fonts.width("山田", regular, 10) > 0
    assert fonts.markup("A<b> 李娜", regular) == (
        f'A&lt;b&gt; <font name="{fonts.CJK}">李娜</font>')


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_receipt_prints_accents_euro_and_cjk_names(tmp_path: Path) -> None:
    data = ReceiptData(
        ClinicHeader("Clínica Zoë 診所", "1 Rue de l'Église", currency="EUR"), "Receipt", 42, 7,
        dt.datetime(2026, 11, 23, 10, 5), "Ana", "김민준 (山田太郎)", 3,
        (ReceiptLine("Acupuncture 60", None, 1, "Acupuncture"),
         ReceiptLine("Herbal formula", 1800)),
        (Payment("card", 1800),), 1800, tokens_after={"Acupuncture": 4}, credit_after_cents=1250)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_receipt(data))
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Clínica Zoë 診所" in text
    assert "Patient: 김민준 (山田太郎)" in text
    assert "€18.00" in text
    assert "€12.50" in text
    fonts_used = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                                check=True).stdout
    rows = fonts_used.splitlines()[2:]
    assert len(rows) == 3                               # DejaVu regular, bold, CJK
    assert all(" yes yes yes " in row for row in rows)  # each embedded and subset
