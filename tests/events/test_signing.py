"""Standard Webhooks signatures: ours verify with the reference ``standardwebhooks`` package and vice versa."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from vitrina.events import signing
from vitrina.events.secretbox import SecretUnreadable, seal, unseal


def test_generated_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    first, second = signing.generate_secret(), signing.generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_reference_library_verifies_our_signature() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"inventory.sold","timestamp":"2026-01-15T10:30:00Z","data":{"id":"itm_1"}}'
    headers = signing.signature_headers(secret, msg_id="evt_01ABC", body=body)
    assert Webhook(secret).verify(body, headers)["type"] == "inventory.sold"


def test_reference_library_refuses_a_tampered_body_or_another_secret() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"inventory.sold","data":{}}'
    headers = signing.signature_headers(secret, msg_id="evt_01ABC", body=body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"sold", b"held"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(body, headers)


def test_our_signature_equals_the_reference_signature() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the specification's example secret
    body = '{"test": 2432232314}'
    stamp = 1614265330
    ours = signing.sign(secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=stamp, body=body.encode())
    theirs = Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(stamp, UTC), body)
    assert ours == theirs == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_our_verifier_accepts_the_reference_signature_and_checks_time() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"webhook.test"}'
    now = int(time.time())
    signature = Webhook(secret).sign("evt_1", datetime.fromtimestamp(now, UTC), body.decode())
    headers = {"Webhook-Id": "evt_1", "Webhook-Timestamp": str(now), "Webhook-Signature": f"v1,bad= {signature}"}
    signing.verify(secret, headers=headers, body=body)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers=headers, body=body, now=now + 301)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers={"webhook-id": "evt_1"}, body=body)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret, headers=headers, body=body + b" ")


def test_bad_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        signing.secret_key("whsec_not base64!")
    with pytest.raises(ValueError):
        signing.secret_key("whsec_")


def test_sealed_secrets_open_only_for_their_subscription_and_server_secret() -> None:
    secret = signing.generate_secret()
    sealed = seal("server-secret", subscription_id="whk_1", plaintext=secret)
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    assert unseal("server-secret", subscription_id="whk_1", sealed=sealed) == secret
    for server, subscription in (("other-secret", "whk_1"), ("server-secret", "whk_2")):
        with pytest.raises(SecretUnreadable):
            unseal(server, subscription_id=subscription, sealed=sealed)
    with pytest.raises(SecretUnreadable):
        unseal("server-secret", subscription_id="whk_1", sealed="v0:abc")
