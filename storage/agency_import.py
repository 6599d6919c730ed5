"""Importing a campaign's agencies: all rows or none, and idempotent.

The rows come as plain :class:`SourceRow` records keyed by the canonical column names
(``code,name,level,parent_code,contact_name,contact_phone,contact_email``), each with where it was
read (a CSV line, a sheet's cells): ``conversations.agency_lists`` reads the files offices keep (xlsx, CSV
with comma or semicolon, Vietnamese headers). :func:`import_csv` still takes today's plain CSV text with
the English header. A re-import updates changed rows and leaves the rest alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from common.errors import Refused
from common.phones import normalise_phone
from common.text import control_character, words
from storage import campaigns
from storage.models import Agency, Campaign, Submission
from storage.records import NOT_STARTED, UNASSESSED

COLUMNS = ("code", "name", "level", "parent_code", "contact_name", "contact_phone", "contact_email")
REQUIRED = ("code", "name", "level")
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
MAX_REPORTED = 20
# A province has a few hundred agencies; the whole country about 12 000 (commune, district and province
# levels). A list past this is a mistake (or an attack), refused before anything is checked.
MAX_AGENCIES = 50_000


class AgencyRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    level: Annotated[str, Field(max_length=40)] = UNASSESSED  # empty: an organisational unit, not assessed
    parent_code: str | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    contact_phone: Annotated[str, Field(max_length=40)] | None = None
    contact_email: EmailStr | None = None

    @field_validator("parent_code", "contact_name", "contact_phone", "contact_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


@dataclass(frozen=True)
class SourceRow:
    """One agency as a file gives it: the canonical column → its text, and where each was read."""

    line: int  # the CSV line, or the sheet's row number
    values: Mapping[str, str]
    cells: Mapping[str, str] = field(default_factory=dict)  # column → "Sheet1!B7", for a sheet
    extra: int = 0  # cells with a value outside the header's columns


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)
    filled: int | None = None  # agencies given a contact from an earlier campaign (with contacts_from)


@dataclass(frozen=True)
class RowFault:
    line: int
    key: str
    params: dict
    cell: str | None = None  # "Sheet1!B7" when the row comes from a sheet


def level_keys(names: Mapping[str, str | None]) -> dict[tuple[str, ...], set[str]]:
    """The words a file may write for each level: its code, its name as the rubric gives it ("Cấp xã"),
    the name without "Cấp" ("xã") and its first words ("sở" for "Cấp sở, ban, ngành")."""
    keys: dict[tuple[str, ...], set[str]] = {}
    for code, name in names.items():
        forms = {words(code)}
        if name:
            full = words(name)
            bare = full[1:] if full[:1] == ("cap",) else full
            forms |= {full, bare, *(bare[:n] for n in range(1, len(bare)))}
        for form in forms:
            if form:
                keys.setdefault(form, set()).add(code)
    return keys


def resolve_level(value: str, levels: Mapping[str, str | None], keys: dict[tuple[str, ...], set[str]]) -> str | None:
    value = value.strip()
    if value in levels:
        return value
    form = words(value)
    found = keys.get(form) or keys.get(form[1:] if form[:1] == ("cap",) else form) or set()
    return next(iter(found)) if len(found) == 1 else None


def validate(
    rows: Sequence[SourceRow], levels: Mapping[str, str | None], headers: Mapping[str, str] | None = None
) -> tuple[list[tuple[SourceRow, AgencyRow]], list[RowFault]]:
    """Each row checked on its own: characters, phone, level, fields, duplicate codes. ``levels`` maps the
    campaign's level codes to their names; ``headers`` the columns to the headers the file writes."""
    headers = headers or {}
    keys = level_keys(levels)
    valid: list[tuple[SourceRow, AgencyRow]] = []
    faults: list[RowFault] = []
    seen: dict[str, SourceRow] = {}

    def fault(row: SourceRow, key: str, column: str | None = None, **params) -> None:
        cell = row.cells.get(column or "code") if row.cells else None
        faults.append(RowFault(row.line, key, params, cell))

    for row in rows:
        if row.extra:
            fault(row, "import_columns", expected=len(headers) or len(COLUMNS))
            continue
        values = {c: row.values.get(c) for c in COLUMNS}
        control = next((c for c in COLUMNS if control_character(values[c])), None)
        if control is not None:
            char = control_character(values[control])
            fault(row, "import_control", control, field=headers.get(control, control), char=char)
            continue
        phone = values["contact_phone"]
        if phone and phone.strip():
            normalised = normalise_phone(phone)
            if normalised is None:
                fault(
                    row,
                    "import_phone",
                    "contact_phone",
                    field=headers.get("contact_phone", "contact_phone"),
                    value=phone.strip(),
                )
                continue
            values["contact_phone"] = normalised
        level = values["level"]
        if level and level.strip():
            resolved = resolve_level(level, levels, keys)
            if resolved is None:
                fault(row, "import_level", "level", level=level.strip(), levels=_level_list(levels))
                continue
            values["level"] = resolved
        try:
            agency = AgencyRow.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            column = str(error["loc"][0]) if error["loc"] else "code"
            fault(row, "import_field", column, field=headers.get(column, column), value=error.get("input"))
            continue
        first = seen.get(agency.code)
        if first is not None:
            where = first.cells.get("code") if first.cells else None
            fault(row, "import_duplicate", code=agency.code, first=first.line, first_cell=where)
            continue
        seen[agency.code] = row
        valid.append((row, agency))
    return valid, faults


def _level_list(levels: Mapping[str, str | None]) -> list[str]:
    return [f"{code} ({name})" if name else code for code, name in sorted(levels.items())]


def _parent_faults(rows: list[tuple[SourceRow, AgencyRow]], existing: Mapping[str, str | None]) -> list[RowFault]:
    """Parents the list does not name and cycles; ``existing`` maps the stored agencies to their parents."""
    parents = {row.code: row.parent_code for _, row in rows}
    for code, parent in existing.items():
        parents.setdefault(code, parent)
    faults = []
    for source, row in rows:
        if row.parent_code is None:
            continue
        cell = source.cells.get("parent_code") if source.cells else None
        if row.parent_code not in parents:
            faults.append(RowFault(source.line, "import_parent", {"parent": row.parent_code}, cell))
            continue
        seen, current = {row.code}, row.parent_code
        while current is not None:
            if current in seen:
                faults.append(RowFault(source.line, "import_parent_cycle", {"code": row.code}, cell))
                break
            seen.add(current)
            current = parents.get(current)
    return faults


def level_names(campaign: Campaign) -> dict[str, str | None]:
    """The campaign's level codes with their names as the rubrics give them ("xa" → "Cấp xã")."""
    rubrics = campaigns.facts_of(campaign).rubrics
    return {level: rubrics[level].rubric.level_name or None for level in sorted(rubrics)}


def campaign_level_names(session: Session, campaign_id: int) -> dict[str, str | None]:
    return level_names(campaigns.get(session, campaign_id))


def _fill_contacts(
    session: Session, rows: list[tuple[SourceRow, AgencyRow]], campaign_id: int
) -> tuple[list[tuple[SourceRow, AgencyRow]], int]:
    """Missing contact fields taken from the agency with the same code in campaign ``campaign_id``; a value
    the file gives is never replaced. Returns the rows and how many agencies got at least one field."""
    campaigns.get(session, campaign_id)
    query = select(Agency.code, Agency.contact_name, Agency.contact_phone, Agency.contact_email).where(
        Agency.campaign_id == campaign_id
    )
    previous = {code: dict(zip(CONTACT_FIELDS, rest)) for code, *rest in session.execute(query)}
    filled, out = 0, []
    for source, row in rows:
        old = previous.get(row.code)
        update = {}
        for name in CONTACT_FIELDS if old else ():
            value = old[name]
            if getattr(row, name) is not None or not value:
                continue
            if name == "contact_phone":
                value = normalise_phone(value)  # kept as typed by an older import: skip what is not a phone
                if value is None:
                    continue
            update[name] = value
        if update:
            filled += 1
            row = row.model_copy(update=update)
        out.append((source, row))
    return out, filled


FIELDS = ("name", "level", "contact_name", "contact_phone", "contact_email")


_STORED = (Agency.id, Agency.code, Agency.parent_id, *(getattr(Agency, f) for f in FIELDS))


def import_rows(
    session: Session,
    campaign: Campaign,
    rows: Sequence[SourceRow],
    *,
    headers: Mapping[str, str] | None = None,
    contacts_from: int | None = None,
) -> ImportResult:
    """Validate every row, then write them all, or refuse with each bad row's line or cell.

    The writes are bulk statements (one INSERT of the new agencies, one UPDATE of the changed ones, one
    INSERT of the missing submissions), never a query per row: 12 000 agencies import in seconds."""
    if len(rows) > MAX_AGENCIES:
        raise Refused("import_too_many", count=len(rows), limit=MAX_AGENCIES)
    valid, faults = validate(rows, level_names(campaign), headers)
    stored = {r.code: r for r in session.execute(select(*_STORED).where(Agency.campaign_id == campaign.id))}
    code_of = {r.id: r.code for r in stored.values()}
    faults += _parent_faults(valid, {code: code_of.get(r.parent_id) for code, r in stored.items()})
    if faults:
        faults.sort(key=lambda f: f.line)
        raise Refused("import_invalid", faults=faults[:MAX_REPORTED], more=max(0, len(faults) - MAX_REPORTED))
    if not valid:
        raise Refused("import_empty")
    result = ImportResult()
    if contacts_from is not None:
        valid, result.filled = _fill_contacts(session, valid, contacts_from)
    changed: dict[str, dict] = {}  # code → the fields to update
    new = []
    for _, row in valid:
        values = {f: getattr(row, f) for f in FIELDS}
        old = stored.get(row.code)
        if old is None:
            new.append({"campaign_id": campaign.id, "code": row.code, **values})
        elif any(getattr(old, f) != v for f, v in values.items()):
            changed[row.code] = values
        result.codes.append(row.code)
    if new:
        session.execute(insert(Agency), new)
    id_of = {r.code: r.id for r in stored.values()}
    if new:
        codes = {n["code"] for n in new}
        query = select(Agency.code, Agency.id).where(Agency.campaign_id == campaign.id)
        id_of.update((code, id_) for code, id_ in session.execute(query) if code in codes)
    for _, row in valid:
        parent_id = id_of[row.parent_code] if row.parent_code else None
        old = stored.get(row.code)
        if (old.parent_id if old is not None else None) != parent_id:
            changed.setdefault(row.code, {})["parent_id"] = parent_id
    updates = [{"id": id_of[code], **values} for code, values in changed.items()]
    if updates:
        session.execute(update(Agency), updates)
    with_submission = set(session.scalars(select(Submission.agency_id).where(Submission.campaign_id == campaign.id)))
    missing = [
        {"campaign_id": campaign.id, "agency_id": id_of[row.code], "state": NOT_STARTED}
        for _, row in valid
        if id_of[row.code] not in with_submission and row.level != UNASSESSED
    ]
    if missing:
        session.execute(insert(Submission), missing)
    session.flush()
    result.created = len(new)
    result.updated = len(set(changed) - {n["code"] for n in new})
    result.unchanged = len(valid) - result.created - result.updated
    return result


def parse_csv(text: str) -> list[SourceRow]:
    """Plain CSV text with exactly the English header (what the tests, the demo and the preview write)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise Refused("import_header", missing=missing, unknown=unknown, duplicate=[], accepted=list(COLUMNS), line=1)
    rows = []
    for record in reader:
        if not any(v.strip() for v in record):
            continue
        extra = sum(1 for v in record[len(header) :] if v.strip())
        rows.append(SourceRow(reader.line_num, dict(zip(header, record)), extra=extra))
    return rows


def import_csv(session: Session, campaign: Campaign, text: str) -> ImportResult:
    return import_rows(session, campaign, parse_csv(text))
