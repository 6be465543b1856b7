"""Entry point of every serving image.

serve                      run the HTTP server (the default command)
health                     exit 0 when /health answers 200 (the image's HEALTHCHECK)
predict ROW [ROW ...]      tabular models: print one prediction per row ("1.5,2,3.25")
predict FILE.csv | -       rows from a CSV file or standard input (a header line is skipped)
predict PICTURE [...]      image models: print the top labels of each picture
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = Path(os.environ.get("AICS_CONFIG", HERE.parent / "serving.json"))
sys.path.insert(0, str(HERE))


def load_config() -> dict:
    return json.loads(CONFIG.read_text(encoding="utf-8"))


def health() -> int:
    from urllib.error import URLError
    from urllib.request import urlopen

    port = os.environ.get("AICS_PORT") or os.environ.get("PORT") or "8080"
    try:
        with urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except (URLError, OSError):
        return 1


def _rows(args: list[str]) -> list[list[float]]:
    import csv

    lines: list[list[str]] = []
    for arg in args:
        if arg == "-":
            lines.extend(csv.reader(sys.stdin))
        elif Path(arg).is_file():
            with open(arg, newline="", encoding="utf-8") as fh:
                lines.extend(csv.reader(fh))
        else:
            lines.append(arg.split(","))
    rows = []
    for i, cells in enumerate(lines):
        cells = [c.strip() for c in cells if c.strip()]
        if not cells:
            continue
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if i == 0:
                continue  # a header line
            raise SystemExit(f"line {i + 1}: not a row of numbers: {','.join(cells)}") from None
    return rows


def predict(args: list[str]) -> int:
    from service import RequestError, Service

    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    service = Service(load_config())
    service.load()
    if service.error is not None:
        print(f"could not load the model: {service.error}", file=sys.stderr)
        return 1
    try:
        if service.is_image:
            for arg in args:
                result = service.classify_pictures([Path(arg).read_bytes()], top_k=3)[0]
                best = ", ".join(f"{p['label']} {p['score']:.3f}" for p in result["predictions"])
                print(f"{arg}: {best}")
        else:
            for value in service.predict_rows(_rows(args))["predictions"]:
                print(value if isinstance(value, str) else repr(float(value)))
    except RequestError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("serve", [])
    if command == "health":
        return health()
    if command == "predict":
        return predict(args)
    if command == "serve":
        from server import serve

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 ignores SIGTERM otherwise
        serve(load_config())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
