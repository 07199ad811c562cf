"""The session-level tenancy guard: a session bound to one organization cannot read another's rows."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vitrina.db.session import ORG_KEY
from vitrina.inventory import service
from vitrina.inventory.models import Location


def test_bound_session_sees_only_its_organization(db: Session) -> None:
    mine = service.create_location(db, organization_id="org_A", name="A", code="A", address=None, timezone="UTC")
    theirs = service.create_location(db, organization_id="org_B", name="B", code="B", address=None, timezone="UTC")
    db.flush()
    db.expunge_all()
    db.info[ORG_KEY] = "org_A"
    try:
        # Even a query that forgets the organization filter only sees org_A's rows.
        assert [loc.id for loc in db.scalars(select(Location))] == [mine.id]
        assert db.get(Location, theirs.id) is None
        db.execute(update(Location).values(name="renamed"))
    finally:
        db.info.pop(ORG_KEY)
    names = {loc.id: loc.name for loc in db.scalars(select(Location).execution_options(populate_existing=True))}
    assert names[mine.id] == "renamed" and names[theirs.id] == "B"
