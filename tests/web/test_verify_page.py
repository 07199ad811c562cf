"""The public verify page ``/v/{tag_id}``: distinct verdicts, no sign-in, throttled per address, and an honest
"not available" while the provenance domain is absent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext
from tests.web import sun
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.web import public_transfer, verification
from vitrina.web.domains import optional_service

HAS_PROVENANCE = optional_service("provenance", verification.VERIFY_FUNCTION) is not None
needs_provenance = pytest.mark.skipif(not HAS_PROVENANCE, reason="the provenance domain is not installed")


def headline(html: str) -> str:
    return html.split('id="verdict"')[1].split("<h1>")[1].split("</h1>")[0]


# --- presentation (pure) ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("authenticity, state, status", [
    ("confirmed", "genuine", 200), ("unverified", "unverified", 200), ("replayed", "replayed", 200),
    ("invalid", "invalid", 200), ("flagged", "flagged", 200), ("unknown", "unknown", 404),
    ("something new", "invalid", 200),
])
def test_each_answer_has_its_own_verdict(authenticity: str, state: str, status: int) -> None:
    outcome = verification.outcome_of({"authenticity": authenticity, "product": {"product_name": "Ring"},
                                       "current_owner": "Eleanor Vance", "ledger": {"leaf_index": 3}})
    assert (outcome.state, outcome.status) == (state, status)
    assert outcome.product is not None and outcome.product.product_name == "Ring"


def test_verdicts_are_distinct() -> None:
    headlines = [v.headline for v in verification.VERDICTS.values()]
    assert len(set(headlines)) == len(headlines)


@pytest.mark.parametrize("url, shown", [("/media/p.jpg", "/media/p.jpg"), ("https://cdn.example/p.jpg", None),
                                        ("//evil.example/p.jpg", None), ("javascript:alert(1)", None)])
def test_only_local_photos_are_shown(url: str, shown: str | None) -> None:
    assert verification.photo_url(verification.Piece(image_url=url)) == shown


# --- the page over HTTP ----------------------------------------------------------------------------------------

def test_the_page_is_public_and_private_about_its_url(browser: TestClient) -> None:
    response = browser.get("/v/TAG-PUBLIC-1?e=00&c=11")
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["referrer-policy"] == "no-referrer"  # the tap's signature stays on this page
    assert "noindex" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "Sign out" not in response.text and "/login" not in response.headers.get("location", "")


@pytest.mark.skipif(HAS_PROVENANCE, reason="the provenance domain is installed")
def test_without_provenance_the_page_says_it_cannot_check(browser: TestClient) -> None:
    response = browser.get("/v/TAG-1?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086")
    assert response.status_code == 503
    assert headline(response.text) == "Verification unavailable"
    assert 'data-state="unavailable"' in response.text
    assert "Genuine" not in response.text


def test_a_hostile_tag_id_renders_as_text(browser: TestClient) -> None:
    for raw, escaped in (("%3Cscript%3Ealert(1)%3C", "&lt;script&gt;alert(1)&lt;"),
                         ("%3Cimg%20src=x%20onerror=alert(1)%3E", "&lt;img src=x onerror=alert(1)&gt;")):
        response = browser.get(f"/v/{raw}")
        assert response.headers["content-type"].startswith("text/html")
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert escaped in response.text


@pytest.mark.parametrize("tag_id", ["x" * 129, "a%20b", "a%09b"])
def test_a_malformed_tag_id_is_not_genuine(browser: TestClient, tag_id: str) -> None:
    response = browser.get(f"/v/{tag_id}")
    assert response.status_code == 200
    assert headline(response.text) == "Not genuine"


def test_overlong_parameters_are_not_genuine(browser: TestClient) -> None:
    response = browser.get("/v/TAG-1?e=" + "A" * 600 + "&c=00")
    assert response.status_code == 200 and headline(response.text) == "Not genuine"


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[TestClient]:
    """The same database with a tight public limit (2 checks a minute per address) and its own counters."""
    tight = settings.model_copy(update={"public_verify_rate_per_minute": 2,
                                        "redis_prefix": f"vitrina-test-{uuid.uuid4().hex[:8]}:"})
    with TestClient(create_app(tight), follow_redirects=False) as client:
        yield client


def test_checks_are_throttled_per_address(strict_app: TestClient) -> None:
    for _ in range(2):
        assert strict_app.get("/v/TAG-T").status_code != 429
    throttled = strict_app.get("/v/TAG-T")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert headline(throttled.text) == "Too many checks"


# --- with the provenance domain: real taps ----------------------------------------------------------------------

def register(database: Database, settings: Settings, org: OrgContext,
             owner: str | None = "Eleanor Vance") -> dict[str, Any]:
    """A passport for AN12196's example tag (all-zero keys), registered through the provenance service."""
    from vitrina.provenance import service as provenance

    tag_id = f"TAG-{uuid.uuid4().hex[:10].upper()}"
    with database.unit_of_work(organization_id=org.id) as session:
        passport = provenance.register_passport(
            session, organization_id=org.id, server_secret=settings.signing_secret, tag_id=tag_id,
            product_name="Solitaire <b>ring</b>", brand="Maison Demo", serial_number="SN-1", owner=owner,
            sun={"uid": sun.EXAMPLE_UID, "meta_read_key": "00" * 16, "file_read_key": "00" * 16})
        return {"id": passport.id, "tag_id": passport.tag_id}


def flag(database: Database, org: OrgContext, passport_id: str, status: str) -> None:
    from vitrina.provenance import service as provenance

    with database.unit_of_work(organization_id=org.id) as session:
        provenance.flag_passport(session, organization_id=org.id, passport_id=passport_id, status=status)


@needs_provenance
def test_a_genuine_tap_then_its_copy(browser: TestClient, database: Database, settings: Settings,
                                     org: OrgContext) -> None:
    passport = register(database, settings, org)
    url = f"/v/{passport['tag_id']}?e={sun.EXAMPLE_E}&c={sun.EXAMPLE_C}"
    first = browser.get(url)
    assert first.status_code == 200 and headline(first.text) == "Genuine"
    assert "Solitaire &lt;b&gt;ring&lt;/b&gt;" in first.text and "Maison Demo" in first.text
    assert "Eleanor Vance" not in first.text  # the owner is masked
    again = browser.get(url)
    assert headline(again.text) == "Copied link"


@needs_provenance
def test_a_tampered_tap_and_a_flagged_piece(browser: TestClient, database: Database, settings: Settings,
                                            org: OrgContext) -> None:
    passport = register(database, settings, org)
    tampered = browser.get(f"/v/{passport['tag_id']}?e={sun.EXAMPLE_E}&c=0000000000000000")
    assert headline(tampered.text) == "Not genuine"
    flag(database, org, passport["id"], "stolen")
    page = browser.get(f"/v/{passport['tag_id']}", params=sun.tap(sun.EXAMPLE_UID, 70))
    assert headline(page.text) == "Reported stolen or lost"


@needs_provenance
def test_an_unknown_tag(browser: TestClient) -> None:
    response = browser.get(f"/v/NO-SUCH-{uuid.uuid4().hex[:8]}")
    assert response.status_code == 404 and headline(response.text) == "Unknown tag"


# --- passing the piece on from the page ---------------------------------------------------------------------------

_TAP_PASS = re.compile(r'name="tap_pass" value="([^"]+)"')


def tap_pass_of(html: str) -> str:
    match = _TAP_PASS.search(html)
    assert match, "no transfer form on the page"
    return match.group(1)


def owner_of(database: Database, org: OrgContext, passport_id: str) -> str:
    from vitrina.provenance import service as provenance

    with database.unit_of_work(organization_id=org.id) as session:
        return provenance.get_passport(session, organization_id=org.id, passport_id=passport_id).current_owner


@needs_provenance
def test_the_owner_passes_the_piece_on_and_the_recipient_accepts(browser: TestClient, database: Database,
                                                                  settings: Settings, org: OrgContext) -> None:
    passport = register(database, settings, org)
    base = f"/v/{passport['tag_id']}"
    page = browser.get(base, params=sun.tap(sun.EXAMPLE_UID, 100))
    assert headline(page.text) == "Genuine" and 'id="start-transfer"' in page.text
    tap_pass = tap_pass_of(page.text)

    stranger = browser.post(f"{base}/transfer", data={"tap_pass": tap_pass, "owner": "Someone Else",
                                                      "to_owner": "Sam Lee"})
    assert stranger.status_code == 403 and headline(stranger.text) == "Transfer not done"
    missing = browser.post(f"{base}/transfer", data={"tap_pass": tap_pass, "owner": "Eleanor Vance"})
    assert missing.status_code == 422 and "New owner: is required." in missing.text

    started = browser.post(f"{base}/transfer", data={"tap_pass": tap_pass, "owner": "  eleanor   VANCE ",
                                                     "to_owner": "Sam Lee", "message": "<b>for you</b>"})
    assert started.status_code == 200 and headline(started.text) == "Transfer started"
    claim_code = started.text.split('id="claim-code-value">')[1].split("<")[0]
    assert owner_of(database, org, passport["id"]) == "Eleanor Vance"  # not until the recipient accepts

    handed_over = browser.get(base, params=sun.tap(sun.EXAMPLE_UID, 101))
    assert 'id="accept-transfer"' in handed_over.text and 'id="start-transfer"' not in handed_over.text
    assert "Sam Lee" not in handed_over.text  # the recipient is masked too
    transfer_id = handed_over.text.split('name="transfer_id" value="')[1].split('"')[0]
    accept = {"tap_pass": tap_pass_of(handed_over.text), "transfer_id": transfer_id}
    wrong = browser.post(f"{base}/accept", data=accept | {"claim_code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 422 and "Claim code:" in wrong.text
    accepted = browser.post(f"{base}/accept", data=accept | {"claim_code": claim_code.lower()})
    assert accepted.status_code == 200 and headline(accepted.text) == "You are the owner now"
    assert owner_of(database, org, passport["id"]) == "Sam Lee"


@needs_provenance
def test_only_a_fresh_genuine_tap_may_start_a_transfer(browser: TestClient, database: Database,
                                                       settings: Settings, org: OrgContext) -> None:
    passport = register(database, settings, org)
    base = f"/v/{passport['tag_id']}"
    url = f"{base}?e={sun.EXAMPLE_E}&c={sun.EXAMPLE_C}"
    genuine = browser.get(url)
    tap_pass = tap_pass_of(genuine.text)
    copied = browser.get(url)
    assert headline(copied.text) == "Copied link" and "tap_pass" not in copied.text
    unsigned = browser.get(base)
    assert "tap_pass" not in unsigned.text
    form = {"owner": "Eleanor Vance", "to_owner": "Sam Lee"}
    for forged in ("", "x.y.z", tap_pass[:-1] + ("0" if tap_pass[-1] != "0" else "1")):
        refused = browser.post(f"{base}/transfer", data=form | {"tap_pass": forged})
        assert refused.status_code == 403 and "Tap the piece" in refused.text
    other_tag = browser.post("/v/ANOTHER-TAG/transfer", data=form | {"tap_pass": tap_pass})
    assert other_tag.status_code == 403  # a pass is bound to its tag
    cross_site = browser.post(f"{base}/transfer", data=form | {"tap_pass": tap_pass},
                              headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert owner_of(database, org, passport["id"]) == "Eleanor Vance"


def test_a_tap_pass_expires() -> None:
    token = public_transfer.issue_pass("secret", tag_id="T-1", passport_id="psp_1", now=1_000)
    assert public_transfer.read_pass("secret", token, tag_id="T-1", now=1_000 + 60).passport_id == "psp_1"
    for secret, tag_id, now in (("secret", "T-1", 1_000 + public_transfer.TAP_PASS_SECONDS + 1),
                                ("other", "T-1", 1_060), ("secret", "T-2", 1_060), ("secret", "T-1", 900)):
        with pytest.raises(public_transfer.TapPassInvalid):
            public_transfer.read_pass(secret, token, tag_id=tag_id, now=now)


@needs_provenance
def test_a_piece_the_store_still_owns_says_so_and_offers_no_transfer(browser: TestClient, database: Database,
                                                                     settings: Settings, org: OrgContext) -> None:
    passport = register(database, settings, org, owner=None)
    page = browser.get(f"/v/{passport['tag_id']}", params=sun.tap(sun.EXAMPLE_UID, 100))
    assert headline(page.text) == "Genuine"
    assert "Maison Demo (not sold yet)" in page.text and org.id[-4:] not in page.text
    assert 'id="start-transfer"' not in page.text and 'id="accept-transfer"' not in page.text
