"""A coordinator's scope: the whole campaign, or one agency and everything under it."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Agency


def agencies_in_scope(session: Session, campaign_id: int, scope_agency_id: int | None) -> set[int]:
    rows = session.execute(select(Agency.id, Agency.parent_id).where(Agency.campaign_id == campaign_id)).all()
    if scope_agency_id is None:
        return {agency_id for agency_id, _ in rows}
    children: dict[int, list[int]] = defaultdict(list)
    for agency_id, parent_id in rows:
        if parent_id is not None:
            children[parent_id].append(agency_id)
    found, stack = set(), [scope_agency_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children[current])
    return found
