"""The empty criteria table ``cqdt rubric template`` writes, in the shape :mod:`rubrics.table_import` reads.

Its words (title block, header, one example row per kind) are in ``templates/table_template.vi.j2``.
Every cell is written as text, so nothing in the workbook is a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

WIDTHS = (8, 50, 12, 40, 40, 24, 24, 14)

_env = Environment(loader=PackageLoader("rubrics", "templates"), undefined=StrictUndefined, autoescape=False)


def template_content() -> dict:
    return yaml.safe_load(_env.get_template("table_template.vi.j2").render())


def write_template(target: str | Path | BinaryIO) -> None:
    content = template_content()
    workbook = Workbook()
    ws = workbook.active
    ws.title = "Bảng tiêu chí"
    columns = len(content["header"])
    last = chr(ord("A") + columns - 1)
    for line in content["title"]:
        ws.append([line])
        ws.merge_cells(f"A{ws.max_row}:{last}{ws.max_row}")
        ws.cell(ws.max_row, 1).alignment = Alignment(horizontal="center")
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append(content["header"])
    header = ws.max_row
    for cell in ws[header]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in content["rows"]:
        ws.append([value or None for value in row])
        for cell in ws[ws.max_row]:
            cell.data_type = "s"
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for n, width in enumerate(WIDTHS[:columns]):
        ws.column_dimensions[chr(ord("A") + n)].width = width
    ws.freeze_panes = f"A{header + 1}"
    workbook.save(target)
