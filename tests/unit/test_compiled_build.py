"""The optional compiled build (hatch_build.py): it builds, and classifies as the pure one does.

Builds the wheel as ``OTPGATE_COMPILE=1 pip install .`` would (no build isolation: mypy,
hatchling and setuptools come with the test extra), unpacks it, and in a process that
imports the compiled modules compares ``classify`` with this process's pure-Python one on
the corpus and perturbed copies of it, then runs the classifier's unit tests there. Fails,
not skips, when the compiler or headers are missing: CI has them, and a compiled build
nobody can build is not one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hatch_build import COMPILED_MODULES
from policies.classifier import classify
from tests.corpus.corpus import load

ROOT = Path(__file__).resolve().parents[2]
CLASSIFIER_TESTS = (
    "tests/unit/test_classifier_context.py",
    "tests/unit/test_classifier_families.py",
    "tests/unit/test_classifier_languages.py",
    "tests/unit/test_classifier_table.py",
    "tests/unit/test_corpus.py",
)


def answers() -> list[list[object]]:
    """classify() on every corpus text, its upper case, its first half and a perturbed copy."""
    texts = [record.text for record in load()]
    rnd = random.Random(7)
    perturbed = []
    for text in texts:
        chars = list(text)
        for _ in range(3):
            chars.insert(rnd.randrange(len(chars) + 1), rnd.choice(" :.-1234567890AZaz is\n#*"))
        perturbed += ["".join(chars), text.upper(), text[: len(text) // 2]]
    rows = []
    for text in texts + perturbed:
        c = classify(text)
        rows.append(
            [c.is_otp, [list(s) for s in c.code_spans], c.language, c.score, list(c.reasons)]
        )
    return rows


# Run in the child: the compiled modules are imported before pytest can touch sys.path, so
# the unit tests after the comparison run against them too.
CHILD = """
import importlib, json, sys
modules = {m: importlib.import_module(m) for m in sys.argv[2:]}
python = [m for m, module in modules.items() if not module.__file__.endswith(".so")]
assert not python, f"not compiled: {python}"
from tests.unit.test_compiled_build import answers
with open(sys.argv[1], "w") as out:
    json.dump(answers(), out)
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--import-mode=append", *CLASSIFIER_TESTS]))
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_compiled_classifier_answers_as_the_pure_one(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        env={**os.environ, "OTPGATE_COMPILE": "1"},
        check=True,
        timeout=240,
    )
    (wheel,) = wheels.glob("otpgate-*.whl")
    assert "-cp3" in wheel.name, f"{wheel.name}: not a platform wheel"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)

    compiled = tmp_path / "compiled.json"
    modules = [m.removesuffix(".py").replace("/", ".") for m in COMPILED_MODULES]
    child = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            f"CLASSIFIER_TESTS = {CLASSIFIER_TESTS!r}\n{CHILD}",
            str(compiled),
            *modules,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-3000:]
    expected = json.loads(json.dumps(answers()))
    got = json.loads(compiled.read_text())
    assert len(got) == len(expected) > 20_000
    differing = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    assert not differing, f"{len(differing)} answers differ, first at {differing[:5]}"
