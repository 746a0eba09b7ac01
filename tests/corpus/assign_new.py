"""Put every group that split.toml does not name yet on a side, by a hash of its name.

Run after adding texts: ``python -m tests.corpus.assign_new``. The rule is blind to the
classifier: the first hex digit of sha256(group) below 6 holds it back (about 3 in 8).
"""

from __future__ import annotations

import hashlib
import re
import tomllib

from .corpus import HERE, load

SPLIT = HERE / "split.toml"


def side_by_hash(group: str) -> str:
    return "heldout" if hashlib.sha256(group.encode()).hexdigest()[0] in "012345" else "train"


def main() -> None:
    text = SPLIT.read_text(encoding="utf-8")
    split = tomllib.loads(text)
    known = set(split["heldout"]["groups"]) | set(split["train"]["groups"])
    new: dict[str, list[str]] = {"heldout": [], "train": []}
    for group in sorted({r.group for r in load()} - known):
        new[side_by_hash(group)].append(group)
    for side, groups in new.items():
        if not groups:
            continue
        block = re.search(rf"\[{side}\]\ngroups = \[\n(.*?)\n\]", text, re.S)
        assert block is not None
        lines = block.group(1) + "".join(f'\n    "{g}",' for g in groups)
        text = text[: block.start(1)] + lines + text[block.end(1) :]
        print(f"{side}: {', '.join(groups)}")
    SPLIT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
