"""``otpgate classify`` as an operator runs it: a real process, a file or standard input, one
JSON line per text with the documented fields, and never the text itself."""

from __future__ import annotations

import json
import subprocess
import sys

TEXTS = [
    "Your PayBank verification code is 482913. Never share it.",
    "Your order 552910 has shipped.",
    "",
    json.dumps({"text": "<#> 318204 is your NorthPay code kR2dW8xPq1z", "id": 7}),
    "not json {",
]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_file_gives_one_json_line_per_text_in_order(tmp_path) -> None:
    sample = tmp_path / "sample.txt"
    sample.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    done = run(str(sample))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 4, 5]
    assert [line["is_otp"] for line in lines] == [True, False, True, False]
    for line in lines:
        assert set(line) == {"line", "is_otp", "score", "codes", "language", "reasons"}
        assert 0.0 <= line["score"] <= 1.0
    first = lines[0]
    start, end = first["codes"][0]
    assert TEXTS[0][start:end] == "482913" and first["language"] == "en"
    assert "otp_wording_near" in first["reasons"]
    assert "sms_retriever" in lines[2]["reasons"]
    assert "482913" not in done.stdout and "PayBank" not in done.stdout


def test_standard_input_and_a_threshold(tmp_path) -> None:
    text = "Use 969700 to verify your LBRY account.\n"
    lenient = json.loads(run("-", "--threshold", "0.05", stdin=text).stdout)
    strict = json.loads(run("--threshold", "0.99", stdin=text).stdout)
    assert lenient["is_otp"] and not strict["is_otp"]
    assert lenient["score"] == strict["score"]


def test_a_missing_file_and_a_bad_threshold_are_clear_errors(tmp_path) -> None:
    missing = run(str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    bad = run("--threshold", "7", stdin="x\n")
    assert bad.returncode == 2 and "threshold" in bad.stderr
