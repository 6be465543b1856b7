"""Accuracy of the demo digit model on pictures its build never saw, over HTTP. Prints one JSON object.

- held_back: typed digits (the DejaVu fonts of this computer; the build only has Pillow's Aileron) and
  drawn digits (tests/perf/held_back_digits.py, a pen model written apart from the training one), both
  polarities, 200-800 px, off-centre, PNG and JPEG. Goal >= 95 %.
- rows_1500_1796: load_digits rows 1500-1796 sent as the 8x8 PNGs they are. Goal >= 90 %.
- unsure: share of answers marked "unsure" on each set, and on a blank picture and sklearn's sample photos.

It builds the sklearn-image template with its defaults (or tensorflow-image with --template, on LiteRT
or --variant tensorflow; or a model file of yours with --model, served by the template the studio
chooses for it; or uses --url of a running container), runs it on 127.0.0.1, sends every
picture to POST /predict, and removes what it made (cache images stay).

    .venv/bin/python tests/perf/bench_demo_accuracy.py [--pictures 1000] [--url http://127.0.0.1:PORT]
        [--template sklearn-image|tensorflow-image] [--variant litert|tensorflow] [--model FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits, load_sample_images  # noqa: E402

from tests.perf.held_back_digits import fonts, held_back_set, load_digits_png  # noqa: E402
from tests.support.model_images import build_model_image, model_values  # noqa: E402
from tests.support.templates import build_template, http, run_container, wait_for  # noqa: E402

LABELS = {"ai-container-studio.bench": "demo-accuracy", "ai-container-studio.test": "bench-demo-accuracy"}


def ask(base: str, picture: bytes) -> dict:
    status, body = http("POST", f"{base}/predict?top_k=3", picture, {"Content-Type": "application/octet-stream"},
                        timeout=30)
    if status != 200:
        raise RuntimeError(f"/predict answered {status}: {body}")
    return body


def score(base: str, items: list[tuple[str, int, bytes]]) -> dict:
    """Accuracy and unsure share per kind, and overall."""
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda it: ask(base, it[2]), items))
    out: dict = {}
    kinds = sorted({k for k, _, _ in items})
    for kind in [*kinds, "all"]:
        pairs = [(it, a) for it, a in zip(items, answers, strict=True) if kind in ("all", it[0])]
        right = [a["predictions"][0]["label"] == str(it[1]) for it, a in pairs]
        unsure = ["unsure" in a for _, a in pairs]
        out[kind] = {
            "n": len(pairs),
            "accuracy": round(sum(right) / len(pairs), 4),
            "unsure": round(sum(unsure) / len(pairs), 4),
            "wrong_and_sure": sum(1 for r, u in zip(right, unsure, strict=True) if not r and not u),
        }
    return out


def off_distribution(base: str) -> dict:
    """What the server says about a blank picture, a speck and photos."""
    pics = {"blank_white": Image.new("L", (400, 400), 255), "blank_black": Image.new("L", (300, 300), 0)}
    speck = Image.new("L", (600, 600), 255)
    speck.paste(0, (300, 300, 302, 302))
    pics["speck"] = speck
    for i, photo in enumerate(load_sample_images().images):
        pics[f"photo_{i}"] = Image.fromarray(photo)
    out = {}
    for name, img in pics.items():
        buf = io.BytesIO()
        img.save(buf, "PNG")
        answer = ask(base, buf.getvalue())
        out[name] = {"top": answer["predictions"][0], "unsure": answer.get("unsure", "")}
    return out


def measure(base: str, n: int) -> dict:
    digits = load_digits()
    rows = [("rows", int(digits.target[i]), load_digits_png(digits.data[i])) for i in range(1500, 1797)]
    t0 = time.perf_counter()
    held = score(base, held_back_set(n))
    return {
        "held_back": held,
        "rows_1500_1796": score(base, rows)["rows"],
        "off_distribution": off_distribution(base),
        "fonts": [f.name for f in fonts()],
        "seconds": round(time.perf_counter() - t0, 1),
        "goals": {"held_back": 0.95, "rows_1500_1796": 0.90},
    }


@contextlib.contextmanager
def demo_server(template: str = "sklearn-image", variant: str = "litert", model: str = ""):
    """Build the template's defaults (or ``model`` served by the template it chooses), run them on
    127.0.0.1, yield the base URL, remove both."""
    from gui.builder import get_template
    from tests.support.templates import engine

    api = engine().api()
    t = get_template(template)
    tag = "aicsbench-digits:accuracy"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if model:
            build = build_model_image(model, Path(tmp) / "ctx", tag, LABELS)
        elif template == "tensorflow-image":
            from tests.support.tensorflow_builds import build_variant, remove_leftovers

            build, _, _ = build_variant({"runtime": variant, "tag": tag}, Path(tmp) / "ctx", tag, LABELS)
            remove_leftovers(build)
        else:
            build, _ = build_template(t, t.defaults(), Path(tmp) / "ctx", tag, LABELS)
        build_s = time.perf_counter() - t0
    cid, ports = run_container(api, tag, LABELS, "aicsbench-digits-accuracy", ports={8080: 0})
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", api, cid)
        yield base, round(build_s, 1)
    finally:
        api.remove_container(cid, force=True)
        with contextlib.suppress(Exception):
            api.remove_image(build.image_id, force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=1000, help="held-back pictures (half typed, half drawn)")
    parser.add_argument("--url", help="a running demo container, e.g. http://127.0.0.1:8080 (no build)")
    parser.add_argument("--template", choices=["sklearn-image", "tensorflow-image"], default="sklearn-image")
    parser.add_argument("--variant", choices=["litert", "tensorflow"], default="litert",
                        help="tensorflow-image: the serving runtime")
    parser.add_argument("--model", default="", help="serve this model file instead of the demo (no training at "
                        "build time: the template is the one the studio chooses for it)")
    args = parser.parse_args()
    if args.url:
        result = measure(args.url.rstrip("/"), args.pictures)
    else:
        with demo_server(args.template, args.variant, args.model) as (base, build_s):
            template = model_values(args.model)[0] if args.model else args.template
            result = {"template": template, "build_seconds": build_s, **measure(base, args.pictures)}
            if args.model:
                result["model"] = args.model
            elif args.template == "tensorflow-image":
                result["variant"] = args.variant
    result["pass"] = (
        result["held_back"]["all"]["accuracy"] >= 0.95 and result["rows_1500_1796"]["accuracy"] >= 0.90
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
