"""The optional compiled build: the classifier's modules compiled with mypyc into the wheel.

    OTPGATE_COMPILE=1 pip install .

Without the variable, and for any editable install, the wheel is the pure-Python one (the
default, and what the tests run). With it, hatchling asks for mypy and setuptools as build
requirements, mypyc compiles ``COMPILED_MODULES`` (gcc and the Python headers must be
there), and the extension modules go into the wheel beside their ``.py`` sources, which
Python then no longer imports. Why these modules and what it buys: docs/benchmarks.md,
"Compiled classifier".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# The classifier and what it calls per message: pure, regex and string work driven by
# Python loops. Compiled together, so their calls to each other are native.
COMPILED_MODULES = (
    "policies/candidates.py",
    "policies/classifier.py",
    "policies/compounds.py",
    "policies/evidence.py",
    "policies/lexicon.py",
    "policies/trie.py",
    "policies/wordings.py",
)


def compile_modules(root: Path, build_dir: Path) -> list[Path]:
    """Compile ``COMPILED_MODULES`` of the tree at ``root``; the extension files made, relative
    to ``build_dir`` (where they sit as they would in site-packages)."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    build_dir.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(root)  # mypyc reads the mypy configuration and the paths from the tree's root
    try:
        extensions = mypycify(list(COMPILED_MODULES), target_dir=str(build_dir / "c"))
        distribution = Distribution({"name": "otpgate-compiled", "ext_modules": extensions})
        build_ext = distribution.get_command_obj("build_ext")
        build_ext.build_lib = str(build_dir / "lib")  # type: ignore[attr-defined]
        build_ext.build_temp = str(build_dir / "temp")  # type: ignore[attr-defined]
        distribution.run_command("build_ext")
    finally:
        os.chdir(here)
    lib = build_dir / "lib"
    return sorted(path.relative_to(lib) for path in lib.rglob("*.so"))


def wanted() -> bool:
    return os.environ.get("OTPGATE_COMPILE", "") == "1"


class CompiledBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"
    _build_dir: Path | None = None

    def dependencies(self) -> list[str]:
        return ["mypy>=2.4,<3", "setuptools>=65"] if wanted() else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if not wanted() or version == "editable":
            return
        build_dir = self._build_dir = Path(tempfile.mkdtemp(prefix="otpgate-mypyc-"))
        for extension in compile_modules(Path(self.root), build_dir):
            build_data["force_include"][str(build_dir / "lib" / extension)] = str(extension)
        # A platform wheel (cp311-...-linux_x86_64), not py3-none-any.
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._build_dir is not None:  # the wheel holds the extensions now
            shutil.rmtree(self._build_dir, ignore_errors=True)
