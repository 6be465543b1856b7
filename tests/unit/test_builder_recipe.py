"""Build recipes: save and open round trip, secrets left out, bad files refused."""

from __future__ import annotations

import pytest

from gui.builder import Recipe, RecipeError, get_template, load_recipe, recipe_text, save_recipe


def test_round_trip(tmp_path):
    t = get_template("sklearn-image")
    build = {
        **t.defaults(),
        "packages": ["scikit-learn==1.9.1", 'numpy; python_version < "3.13"', "pillow"],
        "input_max": 16.0,
        "labels_extra": {"a.b": 'x "quoted" \\ value'},
        "tag": "me/digits:2",
    }
    run = {"host_port": 8081, "environment": {"X": "1"}}
    recipe = Recipe("sklearn-image", build, run, dockerfile="FROM x\nRUN echo 'hi' \\\n  && true\n")
    path = tmp_path / "r.toml"
    save_recipe(path, recipe)
    back = load_recipe(path)
    assert back == recipe
    values, errors = t.check_build(back.build)
    assert errors == {"labels_extra": errors["labels_extra"]}  # the quoted label is refused on build


def test_secrets_are_never_saved(tmp_path):
    t = get_template("jupyter")
    recipe = Recipe("jupyter", t.defaults(), {"host_port": 0, "token": "very-secret"})
    text = recipe_text(recipe, t)
    assert "very-secret" not in text
    path = tmp_path / "j.toml"
    save_recipe(path, recipe)
    assert "token" not in load_recipe(path).run


def test_bad_recipes(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('format = 1\ntemplate = "nope"\n')
    with pytest.raises(RecipeError, match="no template"):
        load_recipe(p)
    p.write_text('format = 1\ntemplate = "sklearn-image"\n[build]\nbogus = 1\n')
    with pytest.raises(RecipeError, match="bogus"):
        load_recipe(p)
    p.write_text("format = 99\n")
    with pytest.raises(RecipeError, match="format"):
        load_recipe(p)
    p.write_text("{not toml")
    with pytest.raises(RecipeError):
        load_recipe(p)
    with pytest.raises(RecipeError):
        load_recipe(tmp_path / "missing.toml")
