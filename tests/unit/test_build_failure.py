"""A failed build's cause in one sentence, and ANSI colours read across lines as the classic builder splits them."""

from gui.builder.failure import AnsiLines, failure_cause, strip_ansi

# As the engine sends a failing pip step (stderr wrapped in ESC[91m ... ESC[0m by the classic builder).
PIP_LOG = [
    "Step 7/15 : RUN python3 -m venv /opt/venv  && pip install --no-cache-dir --requirement /app/requirements.txt",
    " ---> Running in 9bb3ae66d78d",
    "\x1b[91mERROR: Could not find a version that satisfies the requirement sklearn-pandas-typo-xyz==0.0.1 "
    "(from versions: none)",
    "\x1b[0m\x1b[91mERROR: No matching distribution found for sklearn-pandas-typo-xyz==0.0.1",
    "\x1b[0mRemoving intermediate container 9bb3ae66d78d",
    "The command '/bin/sh -c pip install' returned a non-zero code: 1",
]


def test_pip_failure_names_the_missing_distribution_and_its_line():
    sentence, row = failure_cause(PIP_LOG, PIP_LOG[-1])
    assert sentence == "No matching distribution found for sklearn-pandas-typo-xyz==0.0.1"
    assert row == 3


def test_without_a_telling_line_the_engine_message_is_the_cause():
    sentence, row = failure_cause(["Step 1/1 : RUN false", " ---> Running in abc"],
                                  "The command '/bin/sh -c false' returned a non-zero code: 1")
    assert (sentence, row) == ("The command '/bin/sh -c false' returned a non-zero code: 1", -1)


def test_lines_before_the_failing_step_are_not_its_cause():
    log = ["Step 1/2 : RUN pip install x || true", "ERROR: No matching distribution found for x",
           "Step 2/2 : RUN apt-get install nope", "E: Unable to locate package nope"]
    assert failure_cause(log) == ("Unable to locate package nope", 3)


def test_colours_carry_from_line_to_line_and_escapes_are_dropped():
    ansi = AnsiLines()
    assert [ansi.feed(t) for t in PIP_LOG[1:5]] == [
        (" ---> Running in 9bb3ae66d78d", ""),
        ("ERROR: Could not find a version that satisfies the requirement sklearn-pandas-typo-xyz==0.0.1 "
         "(from versions: none)", "red"),
        ("ERROR: No matching distribution found for sklearn-pandas-typo-xyz==0.0.1", "red"),
        ("Removing intermediate container 9bb3ae66d78d", ""),
    ]
    assert ansi.feed("\x1b[1;32mok\x1b[0m") == ("ok", "green")
    assert ansi.feed("open \x1b[33myellow") == ("open yellow", "yellow")
    assert ansi.feed("still") == ("still", "yellow")
    assert strip_ansi("\x1b[2K\rDownloading\x1b[0m") == "Downloading"
