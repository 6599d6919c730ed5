"""A criteria table as provinces publish it (xlsx, or a table in a Word .docx) → a rubric: ``cqdt rubric import``.

The table has the shape STT · chỉ số · điểm tối đa · cách tính điểm · tài liệu kiểm chứng · nguồn số liệu ·
đơn vị thẩm định, under a title block, with merged cells. Headers are found by name (any case, with or
without diacritics, with extra words); the hierarchy comes from the STT column (I, II / 1, 2 / 1.1 / a, b).
Every leaf indicator becomes ``self_scored``: the agency claims its points, 0 … max, with the evidence the
table asks for; a leaf of 0 points is collected, not scored. Letter rows written relative to the maximum
("1/2 điểm tối đa") are the scoring levels of the indicator above them, kept in its scoring text.

Nothing is returned unless the whole table reads: every fault is a :class:`~rubrics.errors.RubricError`
naming the sheet and cell, and the rubric is checked as any rubric file is (:func:`rubrics.loader.load_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from babel.numbers import NumberFormatError, parse_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined

from common.text import fold
from rubrics.compiled import CompiledRubric
from rubrics.errors import RubricError
from rubrics.formatting import vn_number
from rubrics.loader import load_file, load_text
from rubrics.table_sheets import TABLE_SUFFIXES, Sheet, read_sheets

HEADER_SEARCH = 30  # the header row is within the first rows, under the title block

# Each column, with the phrases (folded: no case, no diacritics) a header may say it with; earlier phrases
# are more telling. A header that names a score of its own (tự chấm, kết quả) is none of these.
COLUMNS: dict[str, tuple[str, ...]] = {
    "scoring": ("cach tinh diem", "phuong phap tinh diem", "cach cham", "phuong phap cham", "huong dan cham"),
    "verified_by": ("don vi tham dinh", "co quan tham dinh", "don vi danh gia", "tham dinh"),
    "data_source": ("nguon so lieu", "nguon du lieu"),
    "evidence": ("tai lieu kiem chung", "minh chung"),
    "max": ("diem toi da", "so diem toi da", "diem chuan", "diem"),
    "title": ("chi so thanh phan", "chi so", "tieu chi", "noi dung"),
    "stt": ("stt", "tt", "so thu tu"),
    "carry_forward": ("giu tu nam truoc", "giu nam truoc", "giu nhu nam truoc"),
}
NOT_CARRIED = ("khong", "no", "0")  # a carry_forward cell saying last year's answer is not to be kept
NOT_A_COLUMN = ("tu cham", "tu danh gia", "ket qua", "ghi chu", "diem dat", "diem tham dinh")
REQUIRED = ("stt", "title", "max")
TEXT_FIELDS = ("scoring", "evidence", "data_source", "verified_by")
FILLED_DOWN = frozenset(TEXT_FIELDS)  # a text merged over several rows belongs to each of them

ROMAN = re.compile(r"^[IVXLCD]+$")
CAPITAL = re.compile(r"^[A-H]$")
NUMBER = re.compile(r"^\d+$")
DOTTED = re.compile(r"^\d+(\.\d+)+$")
LETTER = re.compile(r"^[a-z]$")
NUMBERING = re.compile(r"^\(?\d+\)?$")  # the "(1) (2) (3)" row under a header
POINTS_IN_TITLE = re.compile(r"\s*\(\s*([\d.,]+)\s*(?:điểm|đ)\s*\)\s*$", re.IGNORECASE)
FRACTION = re.compile(r"(\d+)\s*/\s*(\d+)")

_env = Environment(
    loader=PackageLoader("rubrics", "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["vn"] = vn_number
_words = _env.get_template("table_import.vi.j2").module


@dataclass
class Row:
    """One item of the table: where it was read, what it says, and the items under it."""

    line: int
    stt: str
    code: str
    rank: int
    title: str
    points: Any
    cells: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)
    children: list[Row] = field(default_factory=list)
    levels: list[Row] = field(default_factory=list)  # letter rows relative to the max: scoring levels
    max: Decimal | None = None
    carry: str = ""  # the "giữ từ năm trước" cell: "Không" makes the question carry_forward: false


@dataclass(frozen=True)
class ImportedTable:
    yaml_text: str
    rubric: CompiledRubric
    sheet: str


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def column_of(header: str) -> tuple[str, int] | None:
    """The column a header names, with how telling the phrase is (higher is better)."""
    folded = fold(header)
    if not folded or any(bad in folded for bad in NOT_A_COLUMN):
        return None
    padded = f" {folded} "
    for name, phrases in COLUMNS.items():
        for n, phrase in enumerate(phrases):
            if f" {phrase} " in padded if name != "stt" else folded == phrase or folded.startswith(phrase + " "):
                return name, len(phrases) - n
    return None


def find_header(sheet: Sheet) -> tuple[int, int, dict[str, int]] | None:
    """The first and last header rows and the column of each field, or None when the sheet has no header."""
    for row in range(1, min(HEADER_SEARCH, len(sheet.values)) + 1):
        found = _columns(sheet, [row])
        if not all(name in found for name in REQUIRED):
            continue
        block = [row]
        stt_col = found["stt"]
        # a header on two rows: the STT cell merged down, the second row naming sub-columns ("Điểm" › "Tối đa")
        while sheet.header_value(block[-1] + 1, stt_col) == sheet.header_value(row, stt_col):
            block.append(block[-1] + 1)
        return row, block[-1], _columns(sheet, block)
    return None


def _columns(sheet: Sheet, rows: list[int]) -> dict[str, int]:
    best: dict[str, tuple[int, int]] = {}
    for col in range(1, sheet.width + 1):
        parts: list[str] = []
        for row in rows:
            text = text_of(sheet.header_value(row, col))
            if text and text not in parts:
                parts.append(text)
        match = column_of(" ".join(parts))
        if match is not None:
            name, strength = match
            if name not in best or strength > best[name][0]:
                best[name] = (strength, col)
    return {name: col for name, (_, col) in best.items()}


def vn_decimal(text: str) -> Decimal | None:
    """ "10,0" · "1.000" · "12.5" · "10 điểm" · "10đ" → a Decimal; None when it is not a number."""
    cleaned = re.sub(r"(?i)\s*(điểm|đ)\s*$", "", text.strip()).replace(" ", "").replace("\u00a0", "")
    if not cleaned or len(cleaned) > 20:
        return None
    try:
        return parse_decimal(cleaned, locale="vi", strict=True)
    except NumberFormatError:
        pass
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return Decimal(cleaned)
    return None


def read_points(value: Any, whole: Decimal | None, file: str, cell: str) -> Decimal | None:
    """The points a cell gives; ``whole`` is the max that "1/2 điểm tối đa" is a fraction of."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RubricError(file, cell, "table_points", value=value)
    if isinstance(value, int | float):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise RubricError(file, cell, "table_points", value=value) from None
        if number < 0:
            raise RubricError(file, cell, "table_points", value=value)
        return number
    text = text_of(value)
    folded = fold(text)
    if folded in ("khong tinh diem", "khong cham diem", "khong tinh", "0 diem"):
        return Decimal(0)
    if "toi da" in folded:
        if whole is None:
            raise RubricError(file, cell, "table_relative_points", value=text)
        fraction = FRACTION.search(text)
        if fraction:
            top, bottom = Decimal(fraction.group(1)), Decimal(fraction.group(2))
            if bottom == 0:
                raise RubricError(file, cell, "table_points", value=text)
            return whole * top / bottom
        if "½" in text:
            return whole / 2
        return whole
    number = vn_decimal(text)
    if number is None or number < 0:
        raise RubricError(file, cell, "table_points", value=text)
    return number


def classify(stt: str, last_capital: str | None = None) -> tuple[int, str] | None:
    """(rank, normalised STT) of a numbering: A → -1 (a pillar above the Roman groups); I → 0; 1 → 1; 1.1 → 2;
    1.1.1 → 3; a → 10. C and D are the capitals after B and C, Roman numerals otherwise."""
    mark = stt.strip().rstrip(".)").lstrip("(").strip()
    follows = last_capital is not None and len(mark) == 1 and ord(mark) == ord(last_capital) + 1
    if CAPITAL.match(mark) and (not ROMAN.match(mark) or follows):
        return -1, mark
    if ROMAN.match(mark):
        return 0, mark
    if NUMBER.match(mark):
        return 1, mark
    if DOTTED.match(mark):
        return 1 + mark.count("."), mark
    if LETTER.match(mark):
        return 10, mark
    return None


def read_rows(sheet: Sheet, header: int, columns: dict[str, int], file: str) -> tuple[list[Row], Row | None]:
    """The table's top-level items, each with its children, and the total row if the table has one."""
    top: list[Row] = []
    stack: list[Row] = []
    last: Row | None = None
    total: Row | None = None
    codes: set[str] = set()
    last_capital: str | None = None
    for line in range(header + 1, len(sheet.values) + 1):

        def value(name: str, line: int = line) -> Any:
            col = columns.get(name)
            return sheet.body_value(line, col, name in FILLED_DOWN) if col else None

        stt, title = text_of(value("stt")), text_of(value("title"))
        cells = {name: sheet.cell(line, col) for name, col in columns.items()}
        texts = {name: text_of(value(name)) for name in TEXT_FIELDS}
        points = value("max")
        if not stt and not title and points in (None, "") and not any(texts.values()):
            continue
        if NUMBERING.match(stt or "x") and NUMBERING.match(title or "x"):
            continue  # the column-number row
        if not stt:
            if fold(title).startswith("tong"):
                total = Row(line, "", "", -1, title, points, cells)
                continue
            if last is None or points not in (None, ""):
                raise RubricError(file, cells["stt"], "table_no_stt", title=title or text_of(points))
            _continue(last, title, texts)
            continue
        kind = classify(stt, last_capital)
        if kind is None:
            raise RubricError(file, cells["stt"], "table_stt", value=stt)
        rank, mark = kind
        if rank == -1:
            last_capital = mark
        while stack and stack[-1].rank >= rank:
            stack.pop()
        parent = stack[-1] if stack else None
        if rank == 10 and parent is None:
            raise RubricError(file, cells["stt"], "table_letter_first", value=stt)
        code = f"{parent.code}.{mark}" if rank == 10 or (mark in codes and parent) else mark
        if code in codes:
            raise RubricError(file, cells["stt"], "table_duplicate", value=stt)
        if not title:
            raise RubricError(file, cells["title"], "table_no_title", stt=stt)
        codes.add(code)
        row = Row(line, stt, code, rank, title, points, cells, {k: v for k, v in texts.items() if v})
        row.carry = text_of(value("carry_forward"))
        (parent.children if parent else top).append(row)
        stack.append(row)
        last = row
    return top, total


def _continue(row: Row, title: str, texts: dict[str, str]) -> None:
    """A row without STT under an item: more of its words (a description cut over several rows)."""
    if title:
        row.texts["scoring"] = "\n".join(filter(None, [row.texts.get("scoring"), title]))
    for name, text in texts.items():
        if text and text != row.texts.get(name):
            row.texts[name] = "\n".join(filter(None, [row.texts.get(name), text]))


def resolve_points(rows: list[Row], whole: Decimal | None, file: str) -> None:
    """Every item's max, top-down (a fraction is of the parent's max), then each group checked against the
    sum of its children; letter rows written relative to the max become the scoring levels of their parent."""
    for row in rows:
        found = POINTS_IN_TITLE.search(row.title)
        if row.points in (None, "") and found:
            row.points = found.group(1)
            row.title = row.title[: found.start()].strip()
        row.max = read_points(row.points, whole, file, row.cells["max"])
        if row.children and all(c.rank == 10 for c in row.children) and any(_relative(c.points) for c in row.children):
            row.levels, row.children = row.children, []
            for level in row.levels:
                level.max = read_points(level.points, row.max, file, level.cells["max"])
            continue
        resolve_points(row.children, row.max, file)
        if row.children:
            total = sum((c.max for c in row.children), Decimal(0))
            if row.max is None:
                row.max = total
            elif total != row.max:
                raise RubricError(file, row.cells["max"], "table_sum", stt=row.stt, expected=row.max, actual=total)
        elif row.max is None:
            raise RubricError(file, row.cells["max"], "table_no_points", stt=row.stt)


def _relative(points: Any) -> bool:
    return isinstance(points, str) and "toi da" in fold(points)


def question_id(code: str) -> str:
    return "diem_" + code.replace("-", "_")[:34]


def item_of(row: Row, sample: bool) -> dict[str, Any]:
    texts = dict(row.texts)
    if row.levels:
        lines = [str(_words.level(level.stt, level.title, level.max)).strip() for level in row.levels]
        texts["scoring"] = "\n".join(filter(None, [texts.get("scoring"), *lines]))
    item: dict[str, Any] = {"code": row.code, "title": row.title, "max": row.max}
    item.update((name, texts[name]) for name in TEXT_FIELDS if texts.get(name))
    if row.children:
        item["children"] = [item_of(child, sample) for child in row.children]
        return item
    if sample:
        item["sample"] = True
    evidence = "required" if texts.get("evidence") else "optional"
    qid = question_id(row.code)
    kept = {"carry_forward": False} if fold(row.carry) in NOT_CARRIED else {}
    if row.max == 0:
        text = str(_words.collected_text(row.title)).strip()
        item["questions"] = [{"id": qid, "type": "yes_no", "text": text, "evidence": evidence, **kept}]
        item["rule"] = {"type": "yes_no", "question": qid}
        return item
    question = {
        "id": qid,
        "type": "decimal",
        "text": str(_words.claim_text(row.title, row.max)).strip(),
        "hint": str(_words.claim_hint(row.max)).strip(),
        "min": Decimal(0),
        "max": row.max,
        "evidence": evidence,
        **kept,
    }
    item["questions"] = [question]
    item["rule"] = {"type": "self_scored", "question": qid}
    return item


def title_block(sheet: Sheet, header: int) -> list[str]:
    """The lines above the header (province, decision, title), each once."""
    lines: list[str] = [line for line in sheet.preamble if line]
    for row in range(1, header):
        for col in range(1, sheet.width + 1):
            text = text_of(sheet.header_value(row, col))
            if text and text not in lines:
                lines.append(text)
    return lines


def slug(text: str) -> str:
    folded = "-".join(fold(text).split())[:40].strip("-")
    return folded if folded and folded[0].isalpha() else f"bang-{folded}"[:40].strip("-")


class _Dumper(yaml.SafeDumper):
    """YAML as an author writes it: numbers plain, Vietnamese as is, long texts as blocks, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    tag = "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(str, _text)


def import_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    level: str | None = None,
    rubric_id: str | None = None,
    sample: bool = False,
) -> ImportedTable:
    """Read a criteria table; the rubric it gives, with its YAML text. Raises :class:`RubricError`.
    ``sample`` marks the rubric and each indicator as a sample, for a table that is not the official one."""
    path = Path(path)
    file = str(path)
    sheets = read_sheets(path, file, lambda n: str(_words.word_table(n)).strip())
    names = [candidate.title for candidate in sheets]
    if sheet is not None and sheet not in names:
        raise RubricError(file, sheet, "table_no_sheet", sheets=names)
    found = None
    for candidate in sheets:
        if sheet is not None and candidate.title != sheet:
            continue
        header = find_header(candidate)
        if header is not None:
            found = candidate, *header
            break
    if found is None:
        raise RubricError(file, sheet, "table_no_header", sheets=[sheet] if sheet else names)
    table, first_header, header_row, columns = found
    rows, total_row = read_rows(table, header_row, columns, file)
    if not rows:
        raise RubricError(file, table.cell(header_row + 1, columns["stt"]), "table_empty")
    resolve_points(rows, None, file)
    total = sum((r.max for r in rows), Decimal(0))
    if total_row is not None:
        stated = read_points(total_row.points, None, file, total_row.cells["max"])
        if stated is not None and stated != total:
            raise RubricError(file, total_row.cells["max"], "table_total", expected=stated, actual=total)
    lines = title_block(table, first_header)
    level = level or level_of(lines)
    data = {
        "id": rubric_id or slug(path.stem),
        "version": "1",
        "family": rubric_id or slug(path.stem),
        "title": _title(lines) or path.stem,
        "level": level,
        "level_name": str(_words.level_name(level)).strip(),
        "source": _source(lines) or str(_words.source(path.name, table.title)).strip(),
        "sample": sample,
        "max": total,
        "groups": [item_of(r, sample) for r in rows],
    }
    head = str(_words.header(path.name, table.title, len(rows))).strip()
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)
    text = "\n".join(f"# {line}".rstrip() for line in head.splitlines()) + "\n" + body
    return ImportedTable(text, load_text(text, file), table.title)


def _title(lines: list[str]) -> str | None:
    wanted = ("chi so", "tieu chi", "bang", "phieu", "danh gia")
    return next((line for line in lines if any(w in fold(line) for w in wanted)), lines[0] if lines else None)


# how a table's title names its level, folded: "BỘ CHỈ SỐ … CẤP XÃ", "CÁC PHÒNG, BAN", "CÁC SỞ, BAN, NGÀNH"
LEVEL_WORDS = (
    (re.compile(r"\bcap (xa|phuong)\b|\b(xa phuong|phuong xa)\b"), "xa"),
    (re.compile(r"\bcap (huyen|quan)\b"), "huyen"),
    (re.compile(r"\bcap phong\b|\bphong ban\b"), "phong"),
    (re.compile(r"\bcap so\b|\bso ban nganh\b"), "so"),
    (re.compile(r"\bcap tinh\b"), "tinh"),
)


def level_of(lines: list[str]) -> str:
    """The level the title block names (a province's table says "… CẤP XÃ" or "… các sở, ban, ngành"); a
    department's ("so") when it names none."""
    for line in lines:
        folded = fold(line)
        for pattern, level in LEVEL_WORDS:
            if pattern.search(folded):
                return level
    return "so"


def _source(lines: list[str]) -> str | None:
    wanted = ("quyet dinh", "kem theo", "van ban", "cong van")
    return next((line.strip("()") for line in lines if any(w in fold(line) for w in wanted)), None)


def load_source(path: str | Path, level: str | None = None) -> CompiledRubric:
    """A rubric file, or a criteria table read as ``cqdt rubric import`` reads it (for ``level``)."""
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        return import_table(path, level=level).rubric
    return load_file(path)
