"""The sample pictures behind "Try sample pictures": shipped in the package, found without Qt, readable."""

from __future__ import annotations

import re

from PIL import Image

from gui.resources import resource_dir, sample_pictures


def test_digit_samples_are_shipped_in_the_package():
    found = sample_pictures("digits")
    assert 6 <= len(found) <= 10, found
    assert all(p.is_relative_to(resource_dir()) for p in found)
    assert found == sorted(found)
    digits = set()
    for path in found:
        digit = re.fullmatch(r"digit-(\d)-[a-z-]+\.png", path.name)
        assert digit, path.name  # the name says the right answer
        digits.add(digit.group(1))
        with Image.open(path) as img:
            img.load()
            assert 200 <= max(img.size) <= 800, (path.name, img.size)
        assert path.stat().st_size < 50_000
    assert len(digits) == len(found)  # all different digits


def test_both_polarities_are_among_the_samples():
    def paper_is_light(path) -> bool:
        with Image.open(path) as img:
            return img.convert("L").getpixel((0, 0)) > 128

    kinds = {paper_is_light(p) for p in sample_pictures("digits")}
    assert kinds == {True, False}


def test_unknown_kinds_have_no_samples():
    assert sample_pictures("cats") == []
    assert sample_pictures("../icons") == []
    assert sample_pictures("") == []
