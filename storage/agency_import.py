"""Importing a campaign's agencies from CSV: all rows or none, and idempotent.

Columns: ``code,name,level,parent_code,contact_name,contact_phone,contact_email``
(UTF-8, header row). A re-import updates changed rows and leaves the rest alone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Refused
from storage.models import Agency, Campaign, Submission

COLUMNS = ("code", "name", "level", "parent_code", "contact_name", "contact_phone", "contact_email")
MAX_REPORTED = 20


class AgencyRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    level: Annotated[str, Field(min_length=1, max_length=40)]
    parent_code: str | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    contact_phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 .\-()]{5,19}$")] | None = None
    contact_email: EmailStr | None = None

    @field_validator("parent_code", "contact_name", "contact_phone", "contact_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RowFault:
    line: int
    key: str
    params: dict


def parse(text: str, levels: set[str]) -> tuple[list[tuple[int, AgencyRow]], list[RowFault]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise Refused("import_header", missing=missing, unknown=unknown, expected=list(COLUMNS))
    rows: list[tuple[int, AgencyRow]] = []
    faults: list[RowFault] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record or any(v is None for v in record.values()):
            faults.append(RowFault(line, "import_columns", {"expected": len(COLUMNS)}))
            continue
        try:
            row = AgencyRow.model_validate({k.strip(): v for k, v in record.items()})
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            faults.append(RowFault(line, "import_field", {"field": error["loc"][0], "value": error.get("input")}))
            continue
        if row.level not in levels:
            faults.append(RowFault(line, "import_level", {"level": row.level, "levels": sorted(levels)}))
        if row.code in seen:
            faults.append(RowFault(line, "import_duplicate", {"code": row.code, "first": seen[row.code]}))
            continue
        seen[row.code] = line
        rows.append((line, row))
    return rows, faults


def _parent_faults(rows: list[tuple[int, AgencyRow]], existing: dict[str, Agency]) -> list[RowFault]:
    parents = {row.code: row.parent_code for _, row in rows}
    for code, agency in existing.items():
        parents.setdefault(code, agency.parent.code if agency.parent else None)
    faults = []
    for line, row in rows:
        if row.parent_code is None:
            continue
        if row.parent_code not in parents:
            faults.append(RowFault(line, "import_parent", {"parent": row.parent_code}))
            continue
        seen, current = {row.code}, row.parent_code
        while current is not None:
            if current in seen:
                faults.append(RowFault(line, "import_parent_cycle", {"code": row.code}))
                break
            seen.add(current)
            current = parents.get(current)
    return faults


FIELDS = ("name", "level", "contact_name", "contact_phone", "contact_email")


def import_csv(session: Session, campaign: Campaign, text: str) -> ImportResult:
    levels = {cl.level for cl in campaign.levels}
    rows, faults = parse(text, levels)
    existing = {a.code: a for a in session.scalars(select(Agency).where(Agency.campaign_id == campaign.id))}
    faults += _parent_faults(rows, existing)
    if faults:
        faults.sort(key=lambda f: f.line)
        raise Refused("import_invalid", faults=faults[:MAX_REPORTED], more=max(0, len(faults) - MAX_REPORTED))
    if not rows:
        raise Refused("import_empty")
    result = ImportResult()
    by_code = dict(existing)
    changed: set[str] = set()
    for _, row in rows:
        values = {f: getattr(row, f) for f in FIELDS}
        agency = by_code.get(row.code)
        if agency is None:
            agency = Agency(campaign_id=campaign.id, code=row.code, **values)
            session.add(agency)
            by_code[row.code] = agency
            result.created += 1
            changed.add(row.code)
        elif any(getattr(agency, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(agency, f, v)
            changed.add(row.code)
        result.codes.append(row.code)
    session.flush()
    for _, row in rows:
        agency = by_code[row.code]
        parent_id = by_code[row.parent_code].id if row.parent_code else None
        if agency.parent_id != parent_id:
            agency.parent_id = parent_id
            changed.add(row.code)
        if agency.submission is None:
            session.add(Submission(campaign_id=campaign.id, agency_id=agency.id, state="not_started"))
    session.flush()
    result.updated = len(changed) - result.created
    result.unchanged = len(rows) - len(changed)
    return result
