"""Evaluation, comparison and load tests of served models, Qt-free (used by the Predict page and the CLI).

- ``load_dataset`` finds labelled items (class folders, a CSV of path,label, or table rows with a label);
- ``match_labels`` matches class names to the model's labels before anything is sent;
- ``PredictionRun`` sends the items to one or more clients and streams ``Answer`` records;
- ``Scoreboard`` / ``Comparison`` turn answers into figures equal to scikit-learn's;
- ``LoadSweep`` measures requests/s and latency at rising concurrency, bounded in time and count;
- ``write_report`` writes the HTML, JSON and CSV report; ``resolve`` finds a ``--target``.
"""

from gui.evaluate.compare import Comparison
from gui.evaluate.dataset import Dataset, DatasetError, LabelledItem, load_dataset
from gui.evaluate.loadtest import DEFAULT_LEVELS, LevelProgress, LevelResult, LoadSweep, picture_request
from gui.evaluate.matching import LabelMatch, match_labels
from gui.evaluate.runner import Answer, PredictionRun
from gui.evaluate.score import Scoreboard

__all__ = [
    "DEFAULT_LEVELS",
    "Answer",
    "Comparison",
    "Dataset",
    "DatasetError",
    "LabelMatch",
    "LabelledItem",
    "LevelProgress",
    "LevelResult",
    "LoadSweep",
    "PredictionRun",
    "Scoreboard",
    "load_dataset",
    "match_labels",
    "picture_request",
]
