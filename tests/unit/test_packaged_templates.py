"""A wheel must carry every template: pyproject's data-files list each folder and file of dockerfiles/."""

import fnmatch
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_data_files_carry_every_template_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    prefix = "share/ai-container-studio/dockerfiles/"
    for folder in sorted(p for p in (ROOT / "dockerfiles").iterdir() if p.is_dir() and p.name != "__pycache__"):
        patterns = data_files.get(prefix + folder.name)
        assert patterns, f"pyproject.toml [tool.setuptools.data-files] has no entry for dockerfiles/{folder.name}"
        for f in folder.iterdir():
            if f.is_file():
                rel = f.relative_to(ROOT).as_posix()
                assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{rel} would be left out of a wheel"
            else:
                assert f.name == "__pycache__", f"{f} is a sub-folder: data-files would not carry it"
