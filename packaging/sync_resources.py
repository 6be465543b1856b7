"""Copy the canonical resources/ into the package folder gui/_resources, which wheels and bundles ship.

resources/ (top level) is what people edit; gui/_resources is its exact copy inside the package, so
`pip install .`, `pip install -e .` and the PyInstaller bundle all find the files next to the code.
tests/unit/test_desktop_resources.py fails when the two differ. Run after changing resources/:
    .venv/bin/python packaging/sync_resources.py
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources"
TARGET = ROOT / "gui" / "_resources"
README = "Generated from resources/ by packaging/sync_resources.py: edit resources/, not this folder.\n"


# README's screenshots live beside the other resources but are not part of the app.
NOT_SHIPPED = ("screenshots",)


def source_files() -> list[Path]:
    return sorted(p.relative_to(SOURCE) for p in SOURCE.rglob("*")
                  if p.is_file() and p.relative_to(SOURCE).parts[0] not in NOT_SHIPPED)


def differences() -> list[str]:
    """Relative paths that are missing, extra or different in gui/_resources."""
    want = set(source_files())
    have = {p.relative_to(TARGET) for p in TARGET.rglob("*") if p.is_file()} if TARGET.exists() else set()
    have.discard(Path("README"))
    diff = [f"missing {p}" for p in sorted(want - have)]
    diff += [f"extra {p}" for p in sorted(have - want)]
    diff += [f"differs {p}" for p in sorted(want & have)
             if not filecmp.cmp(SOURCE / p, TARGET / p, shallow=False)]
    return diff


def sync() -> None:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    for rel in source_files():
        (TARGET / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOURCE / rel, TARGET / rel)
    (TARGET / "README").write_text(README)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        diff = differences()
        for line in diff:
            print(line)
        return 1 if diff else 0
    sync()
    print(f"copied {len(source_files())} files from resources/ to gui/_resources/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
