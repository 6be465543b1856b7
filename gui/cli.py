"""The command line for pipelines: ``ai-container-studio build|predict|evaluate|bench ...``, Qt-free.

gui.app.run() hands these subcommands over before anything of Qt is imported, so a pipeline step starts
quickly on a machine without a display. Results are JSON on stdout (``predict``: one JSON object a line);
progress and messages go to stderr.

Exit codes:
  0  done (evaluate: at or above --min-accuracy / below --max-mae)
  1  the check failed: evaluate below the threshold, a build that failed, a picture that failed (predict)
  2  the command line is wrong (argparse)
  3  the target, the engine or the data cannot be used (nothing was scored)
  130 interrupted (Ctrl+C)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from gui import APP_ID, __version__

COMMANDS = ("build", "predict", "evaluate", "bench")
OK, FAILED, USAGE, UNUSABLE, INTERRUPTED = 0, 1, 2, 3, 130


class Unusable(Exception):
    """Nothing could be scored: a sentence for stderr, exit code 3."""


def _say(text: str) -> None:
    print(f"{APP_ID}: {text}", file=sys.stderr, flush=True)


def _out(doc) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=APP_ID, description="Build, ask, score and load-test AI containers "
                                "from a shell or a pipeline (JSON on stdout). Without a command: the window.",
                                epilog="exit codes: 0 done, 1 check failed, 2 usage, 3 target/engine/data "
                                "unusable, 130 interrupted")
    p.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build an image from a Build page recipe (log on stderr)")
    b.add_argument("recipe", metavar="RECIPE.toml")
    b.add_argument("--tag", help="image tag (default: the recipe's tag field)")
    b.add_argument("--engine", metavar="URL", help="engine (default: DOCKER_HOST, else the current context)")
    b.add_argument("--trust-model", action="store_true",
                   help="build even when loading the model file would run code the scan does not know "
                   "(the risk is named on stderr); without it such a build is refused")

    def target_args(q):
        q.add_argument("--target", required=True, metavar="T",
                       help="a running container's name or id on the engine, or a server URL")
        q.add_argument("--protocol", choices=("studio-v1", "v2", "tf-serving"),
                       help="the URL's protocol (default: asked of the server)")
        q.add_argument("--model", default="", help="the model's name (v2, TF Serving; default: the first)")
        q.add_argument("--engine", metavar="URL", help="engine for container targets")
        q.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request")
        q.add_argument("--wait", type=float, default=0.0, metavar="S",
                       help="wait up to S seconds for the target to run and its model to be ready")

    pr = sub.add_parser("predict", help="ask the model about pictures (one JSON line each)")
    target_args(pr)
    pr.add_argument("files", nargs="+", metavar="FILE_OR_FOLDER")
    pr.add_argument("--top-k", type=int, default=3)
    pr.add_argument("--concurrency", type=int, default=4)

    ev = sub.add_parser("evaluate", help="score the model on labelled data (class folders or CSV)")
    target_args(ev)
    ev.add_argument("data", metavar="FOLDER_OR_CSV")
    ev.add_argument("--min-accuracy", type=float, metavar="X", help="exit 1 when accuracy is below X (0..1)")
    ev.add_argument("--max-mae", type=float, metavar="X", help="regressors: exit 1 when MAE is above X")
    ev.add_argument("--report", metavar="OUT.html", help="write the HTML report, and .json and .csv beside it")
    ev.add_argument("--concurrency", type=int, default=4)

    be = sub.add_parser("bench", help="load test: requests/s and latency at rising concurrency")
    target_args(be)
    be.add_argument("--concurrency", default="1,2,4,8,16", metavar="LIST", help="levels (default 1,2,4,8,16)")
    be.add_argument("--seconds", type=float, default=5.0, help="seconds per level (default 5)")
    be.add_argument("--max-requests", type=int, default=5000, help="requests per level at most (default 5000)")
    be.add_argument("--pictures", metavar="FOLDER", help="pictures to send (default: the bundled samples)")
    be.add_argument("--csv", metavar="OUT.csv", help="also write the levels as CSV")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return {"build": cmd_build, "predict": cmd_predict, "evaluate": cmd_evaluate,
                "bench": cmd_bench}[args.command](args)
    except Unusable as exc:
        _say(str(exc))
        return UNUSABLE
    except KeyboardInterrupt:
        _say("interrupted")
        return INTERRUPTED


def run() -> None:
    """Entry point: main(), then exit with its code."""
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.exit(code)


# -- targets ------------------------------------------------------------------------------------------
_FIRST_REQUEST: list[float] = []  # time.time() just before the first request to the model's server


def _connect(args):
    """(ResolvedTarget, client, metadata) or Unusable."""
    from gui.evaluate.targets import looks_like_url, resolve
    from gui.predict import PredictError

    deadline = time.monotonic() + max(0.0, args.wait)
    while True:
        try:
            if looks_like_url(args.target):  # the protocol is asked of the server itself
                _FIRST_REQUEST.append(time.time())
            target = resolve(args.target, args.protocol or "", args.model, args.engine, timeout=args.timeout)
            _FIRST_REQUEST.append(time.time())  # a container: the engine was asked, now its server is
            client = target.client(timeout=args.timeout)
            if args.wait and not client.ready():
                raise PredictError("the model is not loaded yet", kind="connection")
            return target, client, client.metadata()
        except PredictError as exc:
            if time.monotonic() >= deadline:
                raise Unusable(f"cannot use the target {args.target}: {exc.message}") from None
            time.sleep(0.5)


# -- build --------------------------------------------------------------------------------------------
def _model_refused(model: str, trusted: bool, accepted: list[str] | None = None) -> dict | None:
    """The Build page's model scan, headless: why the model is refused (None: it may be built). With
    --trust-model, a .skops model's refused types are put in `accepted` (the image's allow-list widens)."""
    if not model:
        return None
    from gui.models import NotAModel, inspect_model

    try:
        info = inspect_model(model)
    except NotAModel as exc:
        raise Unusable(f"the model file: {exc}") from None
    if not info.needs_trust:
        return None
    if trusted:
        _say(f"--trust-model: {info.risk()}")
        if info.format == "skops" and info.scan is not None and accepted is not None:
            accepted.extend(g.qualname for g in info.scan.offending)
        return None
    offending = [g.qualname for g in info.scan.offending] if info.scan is not None else list(info.risks)
    return {"error": f"{info.risk()}. Give --trust-model to build it anyway", "untrusted": offending}


def cmd_build(args) -> int:
    import tempfile

    from gui.builder import RecipeError, ValidationError, assemble_context, get_template, load_recipe
    from gui.engine import Engine, EngineError, resolve_engine
    from gui.engine.build import BuildError, ImageBuild

    try:
        recipe = load_recipe(args.recipe)
        template = get_template(recipe.template)
        clean = template.clean_build(recipe.build)
    except (RecipeError, ValidationError) as exc:
        raise Unusable(str(exc)) from None
    tag = args.tag or clean.get("tag")
    if not tag:
        raise Unusable("the recipe names no tag: give --tag")
    accepted: list[str] = []
    refused = _model_refused(str(clean.get("model") or ""), args.trust_model, accepted)
    if refused is not None:
        _out({"ok": False, "tag": tag, **refused})
        return FAILED
    engine = Engine(resolve_engine(args.engine))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aics-build-") as folder:
        values = dict(recipe.build)
        if accepted and any(f.name == "trusted_types" for f in template.build_fields):
            values["trusted_types"] = sorted({*clean.get("trusted_types", []), *accepted})
        ctx = assemble_context(template, values, folder, recipe.dockerfile)
        buildargs = {}
        if "AICS_CREATED" in ctx.dockerfile:
            from datetime import datetime, timezone

            buildargs["AICS_CREATED"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        build = ImageBuild(engine, folder, tag, buildargs=buildargs)
        try:
            for line in build:
                print(line.text, file=sys.stderr, flush=True)
        except BuildError as exc:
            _out({"ok": False, "tag": tag, "error": str(exc), "step": exc.step, "instruction": exc.instruction})
            return FAILED
        except EngineError as exc:
            raise Unusable(f"the engine cannot build: {exc}") from None
        finally:
            engine.close()
    ok = bool(build.image_id) and not build.cancelled
    _out({"ok": ok, "tag": tag, "image_id": build.image_id, "seconds": round(time.perf_counter() - start, 2),
          "steps": len(build.steps), "cached_steps": sum(s.cached for s in build.steps)})
    return OK if ok else FAILED


# -- predict ------------------------------------------------------------------------------------------
def _picture_items(paths: list[str]):
    from gui.evaluate.dataset import PICTURE_SUFFIXES, LabelledItem

    items = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                items += [LabelledItem(name=os.path.join(root, f), label="", path=os.path.join(root, f))
                          for f in sorted(files) if f.lower().endswith(PICTURE_SUFFIXES)]
        else:
            problem = "" if os.path.isfile(p) else f"{p} does not exist"
            items.append(LabelledItem(name=p, label="", path=p, problem=problem))
    return items


def cmd_predict(args) -> int:
    from gui.predict import PredictError
    from gui.predict.sources import PictureSource, read_source

    items = _picture_items(args.files)
    if not items:
        raise Unusable("no pictures found in " + ", ".join(args.files))
    _, client, meta = _connect(args)
    failed = 0
    from concurrent.futures import ThreadPoolExecutor

    def ask(item):
        if item.problem:
            return {"file": item.name, "error": item.problem}
        try:
            p = client.predict_image(read_source(PictureSource(name=item.name, path=item.path)), args.top_k)
        except PredictError as exc:
            return {"file": item.name, "error": exc.message, "kind": exc.kind}
        return {"file": item.name, "labels": list(p.labels), "scores": list(p.scores),
                "ms": round(p.round_trip_ms, 3), **({"unsure": p.unsure} if p.unsure else {})}

    with ThreadPoolExecutor(max(1, args.concurrency)) as pool:
        for doc in pool.map(ask, items):
            failed += "error" in doc
            _out(doc)
    client.close()
    return FAILED if failed else OK


# -- evaluate -----------------------------------------------------------------------------------------
def cmd_evaluate(args) -> int:
    from gui.evaluate import DatasetError, PredictionRun, Scoreboard, load_dataset, match_labels
    from gui.predict.models import TABULAR

    try:
        data = load_dataset(args.data)
    except DatasetError as exc:
        raise Unusable(str(exc)) from None
    for line in data.skipped[:20]:
        _say(f"skipped {line}")
    target, client, meta = _connect(args)
    first_request = _FIRST_REQUEST[0]
    if (meta.input_kind == TABULAR) != (data.kind == "rows"):
        raise Unusable(f"{target.name} takes {'table rows' if meta.input_kind == TABULAR else 'pictures'}, "
                       f"but {args.data} holds {'table rows' if data.kind == 'rows' else 'pictures'}")
    regression = "regress" in (meta.task or "")
    match = None if regression else match_labels(data.classes, meta.labels)
    if match is not None and match.describe() and not match.exact:
        _say(match.describe())  # before the run, not after
    run = PredictionRun([client], data.items, match, args.concurrency, regression)
    board = Scoreboard(regression)
    last = time.monotonic()
    for answer in run:
        board.add(answer)
        if not answer.ok:
            _say(f"{answer.name}: {answer.error}")
        if sys.stderr.isatty() and time.monotonic() - last > 1:
            last = time.monotonic()
            print(f"\r{len(board.answers)}/{len(data.items)}", end="", file=sys.stderr, flush=True)
    client.close()
    doc = board.summary()
    doc["target"] = target.as_dict()
    doc["dataset"] = {"source": args.data, "kind": data.kind, "items": len(data.items),
                      "classes": len(data.classes), "skipped": len(data.skipped)}
    if match is not None:
        doc["unmatched_classes"] = list(match.unmatched)
    doc["timing"] = {"first_request_unix": first_request, "seconds": round(time.time() - first_request, 3)}
    if args.report:
        from gui.evaluate.report import write_report

        try:
            doc["report_files"] = write_report(args.report, board, target.as_dict(), doc["dataset"])
        except OSError as exc:
            raise Unusable(f"cannot write the report: {exc.strerror or exc}") from None
    code = OK
    if board.answered == 0:
        _say("no item was answered")
        code = UNUSABLE
    elif args.min_accuracy is not None and not regression:
        if board.accuracy < args.min_accuracy:
            _say(f"accuracy {board.accuracy:.2%} is below the required {args.min_accuracy:.2%} "
                 f"({board.right} of {board.answered} right)")
            code = FAILED
        doc["passed"] = code == OK
    elif args.max_mae is not None and regression:
        mae = (doc.get("regression") or {}).get("mae")
        if mae is None or mae > args.max_mae:
            _say(f"MAE {mae} is above the allowed {args.max_mae}")
            code = FAILED
        doc["passed"] = code == OK
    _out(doc)
    return code


# -- bench --------------------------------------------------------------------------------------------
def cmd_bench(args) -> int:
    from gui.evaluate import LevelResult, LoadSweep, picture_request
    from gui.evaluate.dataset import PICTURE_SUFFIXES
    from gui.predict.models import TABULAR

    try:
        levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    except ValueError:
        raise Unusable(f"--concurrency wants whole numbers like 1,2,4,8, not {args.concurrency!r}") from None
    if args.pictures:
        paths = [os.path.join(r, f) for r, _, fs in os.walk(args.pictures) for f in sorted(fs)
                 if f.lower().endswith(PICTURE_SUFFIXES)]
    else:
        from gui.resources import sample_pictures

        paths = [str(p) for p in sample_pictures("digits")]
    payloads = []
    for p in sorted(paths)[:64]:
        with open(p, "rb") as fh:
            payloads.append(fh.read())
    if not payloads:
        raise Unusable("no pictures to send: give --pictures FOLDER")
    target, client, meta = _connect(args)
    if meta.input_kind == TABULAR:
        raise Unusable(f"{target.name} takes table rows: bench sends pictures")
    try:
        sweep = LoadSweep(picture_request(client, payloads), levels, args.seconds, args.max_requests)
    except ValueError as exc:
        raise Unusable(str(exc)) from None
    for step in sweep:
        if isinstance(step, LevelResult):
            _say(f"{step.concurrency} clients: {step.rps:.1f} requests/s, p50 {step.p50 or 0:.1f} ms, "
                 f"p95 {step.p95 or 0:.1f} ms, p99 {step.p99 or 0:.1f} ms, {step.errors} errors")
    client.close()
    levels_out = [r.as_dict() for r in sweep.results]
    if args.csv:
        from gui.evaluate.loadtest import write_levels_csv

        write_levels_csv(args.csv, sweep.results)
    _out({"target": target.as_dict(), "pictures": len(payloads), "levels": levels_out})
    return OK if all(r.requests for r in sweep.results) else FAILED


if __name__ == "__main__":
    run()
