"""Ledger rows written as CSV or XLSX files.

Files are written whole and atomically, owner-only: a ledger carries residents'
names and reports, and a failed write must leave nothing half-written behind.
"""
from __future__ import annotations

import csv
import io
import os
from datetime import datetime
from pathlib import Path
from typing import IO, Sequence

from bot.ledger.cells import clean_text, csv_cell, looks_like_formula
from bot.ledger.rows import HEADERS, LedgerRow

# XLSX column widths in Excel characters, one per HEADERS column; CJK glyphs are two wide.
WIDTHS = (7, 17, 10, 6, 24, 12, 14, 10, 10, 8, 17, 17, 22, 8, 60)
assert len(WIDTHS) == len(HEADERS)


def _write_csv_rows(rows: Sequence[LedgerRow], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row.values()])


def csv_bytes(rows: Sequence[LedgerRow]) -> bytes:
    """UTF-8 with a byte-order mark: without it Excel on Windows reads GBK and garbles."""
    buffer = io.StringIO(newline="")
    _write_csv_rows(rows, buffer)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: Sequence[LedgerRow], title: str = "台账") -> bytes:
    """Header row frozen and bold, widths set, times as real dates. Write-only mode
    streams rows: a city's year of cases stays fast and small in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])  # Excel's limit for a sheet name
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(rows) + 1}"
    bold = Font(bold=True)

    def header(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        return cell

    ws.append([header(h) for h in HEADERS])
    for row in rows:
        cells: list[object] = []
        for value in row.values():
            # Plain values are cheap; only cells that need a format or a fix get a cell object.
            if isinstance(value, str):
                value = clean_text(value)
                if looks_like_formula(value):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"  # resident text, never a formula
                    value = cell
            elif isinstance(value, datetime):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                value = cell
            cells.append(value)
        ws.append(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_csv(rows: Sequence[LedgerRow], path: Path) -> None:
    write_file(path, csv_bytes(rows))


def write_xlsx(rows: Sequence[LedgerRow], path: Path, title: str = "台账") -> None:
    # Built in memory, then written in one go: a failed write (no such directory, disk
    # full) leaves no half-written file and no half-closed workbook behind.
    write_file(path, xlsx_bytes(rows, title))


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a temporary file renamed over it), readable
    by the owner only."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "是一个目录", str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
