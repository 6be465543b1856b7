"""Form-based Dockerfile builder. Qt-free: manifests -> validated values -> Dockerfile and build context."""

from gui.builder.context import (
    BuildContext,
    assemble_context,
    export_context,
    requirements_text,
    serving_config,
)
from gui.builder.fields import Field, ValidationError
from gui.builder.lint import LintWarning, lint_dockerfile, lint_values
from gui.builder.recipe import Recipe, RecipeError, load_recipe, recipe_text, save_recipe
from gui.builder.references import reference_error, requirement_error
from gui.builder.render import render_dockerfile
from gui.builder.run import RunSettings, run_settings
from gui.builder.templates import Template, TemplateError, get_template, list_templates, templates_root

__all__ = [
    "BuildContext",
    "Field",
    "LintWarning",
    "Recipe",
    "RecipeError",
    "RunSettings",
    "Template",
    "TemplateError",
    "ValidationError",
    "assemble_context",
    "export_context",
    "get_template",
    "lint_dockerfile",
    "lint_values",
    "list_templates",
    "load_recipe",
    "recipe_text",
    "reference_error",
    "render_dockerfile",
    "requirement_error",
    "requirements_text",
    "run_settings",
    "save_recipe",
    "serving_config",
    "templates_root",
]
