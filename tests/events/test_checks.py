"""``vitrina check``'s outbox and delivery invariants."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.events.conftest import create_webhook
from tests.support import OrgContext
from vitrina.events import checks
from vitrina.events.models import WebhookDelivery


def test_checks_pass_and_catch_an_unexplained_success(client: TestClient, org: OrgContext, db: Session) -> None:
    hook = create_webhook(client, org, "https://127.0.0.1:9/hook")
    delivery = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=org.headers).json()["data"]
    assert [v for v in checks.run_checks(db) if org.id in v] == []
    db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery["id"]).values(status="succeeded"))
    violations = [v for v in checks.run_checks(db) if delivery["id"] in v]
    assert violations == [f"events {org.id} {delivery['id']}: succeeded without the attempt that explains it"]
