"""Our Standard Webhooks signatures, checked by the ``standardwebhooks`` library (not ours)."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.webhooks.signing import PREFIX, headers, new_secret, sign

BODY = b'{"specversion":"1.0","type":"otp.held","id":"evt_1","data":{"hold":"h_1"}}'
MSG_ID = "evt_1"


def signed(secrets: list[str], body: bytes = BODY) -> dict[str, str]:
    # The verifier refuses timestamps more than five minutes off its own clock.
    return headers(MSG_ID, int(time.time()), body, secrets)


def test_new_secret_has_the_prefix_and_24_to_64_random_bytes() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(PREFIX)
        assert 24 <= len(base64.b64decode(secret.removeprefix(PREFIX), validate=True)) <= 64


def test_a_signed_request_verifies() -> None:
    secret = new_secret()
    sent = signed([secret])
    assert sent["webhook-id"] == MSG_ID
    assert sent["content-type"] == "application/json"
    assert Webhook(secret).verify(BODY, sent)["data"] == {"hold": "h_1"}


def test_sign_reproduces_the_specification_s_test_vector() -> None:
    # The example of the Standard Webhooks specification, reproduced by its libraries.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, sent: (body.replace(b"h_1", b"h_2"), sent),
        lambda body, sent: (body + b" ", sent),
        lambda body, sent: (body, {**sent, "webhook-id": "evt_2"}),
        lambda body, sent: (
            body,
            {**sent, "webhook-timestamp": str(int(sent["webhook-timestamp"]) + 1)},
        ),
    ],
    ids=["body", "trailing-space", "id", "timestamp"],
)
def test_anything_tampered_fails(tamper) -> None:
    secret = new_secret()
    body, sent = tamper(BODY, signed([secret]))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, sent)


def test_another_secret_fails() -> None:
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, signed([new_secret()]))


def test_during_a_rotation_each_secret_alone_verifies() -> None:
    new, old = new_secret(), new_secret()
    sent = signed([new, old])
    assert len(sent["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, sent)
    Webhook(old).verify(BODY, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, sent)


@pytest.mark.parametrize(
    "secret",
    [
        base64.b64encode(bytes(32)).decode(),  # no prefix
        PREFIX + "not*base64!",
        PREFIX + base64.b64encode(bytes(16)).decode(),  # too short
        PREFIX + base64.b64encode(bytes(65)).decode(),  # too long
    ],
    ids=["no-prefix", "not-base64", "16-bytes", "65-bytes"],
)
def test_a_malformed_secret_is_refused_not_salvaged(secret: str) -> None:
    with pytest.raises(ValueError):
        sign(secret, MSG_ID, 0, BODY)


def test_no_secret_no_headers() -> None:
    with pytest.raises(ValueError):
        headers(MSG_ID, 0, BODY, [])
