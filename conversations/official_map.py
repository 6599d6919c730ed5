"""A province's agency list from the official administrative map (the ``vietnam-provinces`` package).

Two maps: ``2025``, the two-tier map in force since July 2025 (34 provinces, each with its communes,
wards and special zones: xã, phường, đặc khu), and ``2024``, the map before it (63 provinces, their
districts: quận, huyện, thị xã, thành phố, and their communes: xã, phường, thị trấn). The package's
top-level classes hold the 2025 map; its ``legacy`` module, in the releases that have one (2026.1 and
later, which need Python 3.12), the 2024 map.

Every division becomes one agency row in the importer's columns: its official code (a commune's five
digits, a district's three, zero-padded as the statistics office writes them), the name of its People's
Committee as officials write it ("UBND Phường Hà Tu", "UBND Thành phố Hạ Long"), the campaign level
(``xa`` for a commune or ward, ``huyen`` for a district) and, on the 2024 map, a commune's district as
its parent. Contacts stay empty for the office to fill in. Nothing here touches a database or Telegram.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any, BinaryIO

import xlsxwriter

from common.errors import Refused
from storage.agency_import import COLUMNS

MAPS = ("2025", "2024")
WARD_LEVEL = "xa"
DISTRICT_LEVEL = "huyen"
LEVELS = {"2025": (WARD_LEVEL,), "2024": (DISTRICT_LEVEL, WARD_LEVEL)}
AGENCY_PREFIX = "UBND"
CLOSEST = 5
# Words a province's name may begin with, as people write it; dropped before names are compared.
PROVINCE_PREFIXES = ("tinh ", "thanh pho ", "tp ")


@dataclass(frozen=True)
class Division:
    """One division as the map lists it, with the agency row it becomes."""

    code: str
    name: str  # the division's own name: "Phường Hà Tu"
    division_type: str  # "phường", "xã", "đặc khu", "huyện", "thành phố", …
    level: str  # the campaign level: "xa" or "huyen"
    parent_code: str | None = None

    @property
    def agency_name(self) -> str:
        return f"{AGENCY_PREFIX} {self.name}"

    def row(self) -> dict[str, str]:
        """The importer's columns, contacts empty."""
        values = {"code": self.code, "name": self.agency_name, "level": self.level, "parent_code": self.parent_code}
        return {column: values.get(column) or "" for column in COLUMNS}


@dataclass(frozen=True)
class Province:
    code: str
    name: str  # as the map names it: "Quảng Ninh" (2025), "Tỉnh Quảng Ninh" (2024)


@dataclass(frozen=True)
class MapListing:
    map: str
    province: Province
    levels: tuple[str, ...]
    divisions: tuple[Division, ...]

    def counts(self) -> dict[str, int]:
        """How many divisions of each type, in the order they first appear (districts before communes)."""
        return dict(Counter(d.division_type for d in self.divisions))

    def rows(self) -> list[dict[str, str]]:
        return [d.row() for d in self.divisions]

    def as_dict(self) -> dict[str, Any]:
        return {
            "map": self.map,
            "province": asdict(self.province),
            "levels": list(self.levels),
            "counts": self.counts(),
            "rows": self.rows(),
        }


# -- the package ----------------------------------------------------------------


def package_version() -> str:
    try:
        return version("vietnam-provinces")
    except PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "?"


def _module(map_: str):
    """The package module holding one map: the top level for 2025, ``legacy`` for 2024."""
    if map_ not in MAPS:
        raise Refused("map_unknown", map=map_, maps=list(MAPS))
    try:
        return import_module("vietnam_provinces" if map_ == "2025" else "vietnam_provinces.legacy")
    except ImportError:
        raise Refused("map_unavailable", map=map_, version=package_version()) from None


def available_maps() -> list[str]:
    """The maps the installed package has."""
    found = []
    for map_ in MAPS:
        try:
            _module(map_)
        except Refused:
            continue
        found.append(map_)
    return found


def _text(value: Any) -> str:
    return value.value if hasattr(value, "value") else str(value)


def _province_code(code: int) -> str:
    return f"{int(code):02d}"


def _district_code(code: int) -> str:
    return f"{int(code):03d}"


def _ward_code(code: int) -> str:
    return f"{int(code):05d}"


def provinces(map_: str = "2025") -> list[Province]:
    """Every province of a map, in the order of their codes."""
    module = _module(map_)
    found = sorted(module.Province.iter_all(), key=lambda p: int(p.code))
    return [Province(_province_code(p.code), p.name) for p in found]


# -- finding a province by what a person types -----------------------------------


def normalise(name: str) -> str:
    """Lower case, no diacritics (đ as d), punctuation as spaces, and no leading "Tỉnh", "Thành phố" or "TP"."""
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())
    for prefix in PROVINCE_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def find_province(query: str, map_: str = "2025") -> Province:
    """The province a person means: by its name, whatever the case, diacritics or prefix ("quang ninh",
    "Tỉnh Quảng Ninh", "TP Hồ Chí Minh"), by the words of its name when they fit only one ("Vũng Tàu" on
    the 2024 map), or by its official code ("22"). Otherwise a refusal naming the closest provinces."""
    every = provinces(map_)
    wanted = query.strip()
    if wanted.isdigit():
        for province in every:
            if int(province.code) == int(wanted):
                return province
        raise Refused("province_unknown", query=query, map=map_, closest=[])
    key = normalise(wanted)
    names = {p.code: normalise(p.name) for p in every}
    exact = [p for p in every if names[p.code] == key]
    if len(exact) == 1:
        return exact[0]
    words = f" {key} "
    partial = exact or [p for p in every if key and words in f" {names[p.code]} "]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise Refused("province_ambiguous", query=query, map=map_, names=[p.name for p in partial])
    raise Refused("province_unknown", query=query, map=map_, closest=_closest(key, every, names))


def _closest(key: str, every: list[Province], names: dict[str, str]) -> list[str]:
    """The names nearest to what was typed: those sharing a word with it first, then by spelling."""
    typed = set(key.split())

    def nearness(province: Province) -> tuple[int, float]:
        name = names[province.code]
        return len(typed & set(name.split())), difflib.SequenceMatcher(None, key, name).ratio()

    ranked = sorted(every, key=nearness, reverse=True)
    return [p.name for p in ranked if nearness(p)[0] or nearness(p)[1] >= 0.5][:CLOSEST]


# -- the listing ------------------------------------------------------------------


def _levels(map_: str, levels: Iterable[str] | None) -> tuple[str, ...]:
    known = LEVELS[map_]
    if levels is None:
        return known
    chosen = [level.strip() for level in levels if level.strip()]
    unknown = [level for level in chosen if level not in known]
    if unknown or not chosen:
        raise Refused("map_level_unknown", levels=unknown or chosen, map=map_, known=list(known))
    return tuple(level for level in known if level in chosen)


def _divisions_2025(module, province_code: int) -> list[Division]:
    wards = sorted(module.Ward.iter_by_province(province_code), key=lambda w: int(w.code))
    return [Division(_ward_code(w.code), w.name, _text(w.division_type), WARD_LEVEL) for w in wards]


def _divisions_2024(module, province_code: int, levels: Sequence[str]) -> list[Division]:
    districts = sorted(module.District.iter_by_province(province_code), key=lambda d: int(d.code))
    found: list[Division] = []
    if DISTRICT_LEVEL in levels:
        found += [Division(_district_code(d.code), d.name, _text(d.division_type), DISTRICT_LEVEL) for d in districts]
    if WARD_LEVEL in levels:
        # A commune's parent is its district when the districts are listed too; alone, it has none.
        with_parent = DISTRICT_LEVEL in levels
        for district in districts:
            parent = _district_code(district.code) if with_parent else None
            wards = sorted(module.Ward.iter_by_district(district.code), key=lambda w: int(w.code))
            found += [Division(_ward_code(w.code), w.name, _text(w.division_type), WARD_LEVEL, parent) for w in wards]
    return found


def listing(province: str, map_: str = "2025", levels: Iterable[str] | None = None) -> MapListing:
    """The agency list of one province on one map, limited to ``levels`` (default: every level of the map)."""
    module = _module(map_)
    chosen = _levels(map_, levels)
    found = find_province(province, map_)
    code = int(found.code)
    if map_ == "2025":
        divisions = _divisions_2025(module, code) if WARD_LEVEL in chosen else []
    else:
        divisions = _divisions_2024(module, code, chosen)
    return MapListing(map_, found, chosen, tuple(divisions))


# -- files ------------------------------------------------------------------------


def write_csv(stream: BinaryIO, rows: Iterable[dict[str, str]]) -> None:
    """The importer's header and the rows, in UTF-8 with a byte order mark so that Excel shows the diacritics."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.DictWriter(text, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open


def write_xlsx(stream: BinaryIO, rows: Iterable[dict[str, str]], sheet: str = "Đơn vị") -> None:
    """The same table as one xlsx sheet: every cell a text cell (codes keep their leading zeros), never a formula."""
    workbook = xlsxwriter.Workbook(stream, {"strings_to_formulas": False, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet)
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "num_format": "@"})
    worksheet.freeze_panes(1, 0)
    widths = {"code": 10, "name": 40, "level": 8, "parent_code": 12}
    for col, column in enumerate(COLUMNS):
        worksheet.set_column(col, col, widths.get(column, 20), text)
        worksheet.write_string(0, col, column, bold)
    for n, row in enumerate(rows, start=1):
        for col, column in enumerate(COLUMNS):
            if row.get(column):
                worksheet.write_string(n, col, row[column], text)
    workbook.close()
