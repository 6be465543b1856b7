"""Lint warnings for a Dockerfile and for form values: things that build but are slow, unsafe or fragile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gui.builder.references import is_pinned

SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_KEY|CREDENTIAL)", re.I)


@dataclass(frozen=True)
class LintWarning:
    line: int  # 1-based line of the Dockerfile; 0 for a form value
    message: str
    severity: str = "warning"  # "warning", or "error" for what our engine cannot build
    field: str = ""


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(first line number, INSTRUCTION, arguments) with continuation lines joined."""
    out: list[tuple[int, str, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    if buf:
        word, _, rest = buf.partition(" ")
        out.append((start, word.upper(), rest.strip()))
    return out


def lint_dockerfile(text: str) -> list[LintWarning]:
    warnings: list[LintWarning] = []
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if re.match(r"#\s*syntax\s*=", first):
        warnings.append(
            LintWarning(1, "a '# syntax=' line makes BuildKit pull a frontend: offline it fails", "error")
        )
    instructions = _instructions(text)
    if not any(i == "FROM" for _, i, _ in instructions):
        warnings.append(LintWarning(0, "no FROM instruction", "error"))
    user = None
    for n, instr, args in instructions:
        if instr == "FROM":
            image = args.split()[0] if args else ""
            if image != "scratch" and (
                "@" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"))
            ):
                warnings.append(LintWarning(n, f"{image}: pin a tag (not latest) so rebuilds are repeatable"))
        if instr == "RUN":
            if args.startswith("--mount") or " --mount=" in f" {args}":
                warnings.append(
                    LintWarning(n, "RUN --mount needs BuildKit; the classic builder fails", "error")
                )
            if "<<" in args:
                warnings.append(LintWarning(n, "heredocs need BuildKit; the classic builder fails", "error"))
            if re.search(r"\bpip3? install\b", args) and "--no-cache-dir" not in args:
                warnings.append(
                    LintWarning(n, "pip install without --no-cache-dir keeps pip's cache in the layer")
                )
            if "apt-get install" in args and "--no-install-recommends" not in args:
                warnings.append(
                    LintWarning(n, "apt-get install without --no-install-recommends makes a big layer")
                )
            if "apt-get install" in args and "rm -rf /var/lib/apt/lists" not in args:
                warnings.append(
                    LintWarning(n, "remove /var/lib/apt/lists in the same RUN to keep the layer small")
                )
        if instr == "ADD" and re.search(r"https?://", args):
            warnings.append(
                LintWarning(n, "ADD from a URL is not cached well and not checked: download in RUN")
            )
        elif instr == "ADD":
            warnings.append(LintWarning(n, "use COPY for local files (ADD also unpacks archives)"))
        if instr in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or args.split()[:1]:
                if SECRET_NAME.search(name):
                    warnings.append(
                        LintWarning(
                            n, f"{name} looks secret: {instr} values stay in the image; pass it at run time"
                        )
                    )
        if instr == "HEALTHCHECK" and "--start-interval" in args:
            warnings.append(
                LintWarning(n, "HEALTHCHECK --start-interval needs API 1.44; this engine has 1.41", "error")
            )
        if instr == "COPY" and re.match(r"^(--\S+\s+)*\.\s", args):
            pip_later = any(i == "RUN" and "pip install" in a for m, i, a in instructions if m > n)
            if pip_later:
                warnings.append(
                    LintWarning(n, "COPY . before pip install: any file change reinstalls packages")
                )
        if instr == "USER":
            user = args
    if user is None or user in ("root", "0", "0:0"):
        warnings.append(LintWarning(0, "the container runs as root: add a USER"))
    return warnings


def lint_values(values: dict[str, Any]) -> list[LintWarning]:
    """Warnings about form values that pass validation."""
    warnings = []
    for req in values.get("packages") or []:
        try:
            pinned = is_pinned(req)
        except ValueError:
            continue
        if not pinned:
            warnings.append(
                LintWarning(0, f"{req}: not pinned (==); a rebuild may get another version", field="packages")
            )
    if values.get("labels") and not values.get("model"):
        warnings.append(LintWarning(0, "a labels file is used only with a model file", field="labels"))
    return warnings
