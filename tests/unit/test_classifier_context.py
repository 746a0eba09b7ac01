"""The context exclusion yields to OTP wording standing between the context word and the code."""

from __future__ import annotations

import pytest

from policies.classifier import classify


@pytest.mark.parametrize(
    "text",
    [
        "您正在从基金账户转出40,000元，验证码 482913，5分钟内有效，请勿泄露给任何人。",
        "Transfer from your savings account: verification code 482913.",
    ],
)
def test_wording_after_an_account_word_keeps_the_code(text: str) -> None:
    result = classify(text)
    assert result.is_otp and len(result.code_spans) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Your verification is pending for account 48291377.",
        "验证码已发送。您的账户 48291377 余额充足。",
    ],
)
def test_account_number_without_wording_between_is_excluded(text: str) -> None:
    assert not classify(text).is_otp
