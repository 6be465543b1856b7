"""Run fields -> what the Run dialog passes to the engine. These values never enter the image."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from gui.builder.fields import ValidationError
from gui.builder.templates import Template


@dataclass(frozen=True)
class RunSettings:
    ports: dict[int, int] = field(default_factory=dict)  # container port -> host port (0: pick a free one)
    environment: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)  # host folder -> container folder
    host_ip: str = "127.0.0.1"


def new_token() -> str:
    """A token for a run field with `generate = true` that was left empty (48 hex digits)."""
    return secrets.token_hex(24)


def secret_env_names(template: Template) -> set[str]:
    """Environment variables that carry a secret run field (the Run dialog masks their values)."""
    return {str(f.extra["env"]) for f in template.run_fields if f.secret and f.extra.get("env")}


def run_settings(template: Template, build_values: dict[str, Any], run_values: dict[str, Any]) -> RunSettings:
    """Ports to publish (on 127.0.0.1), environment and mounts for a container of this template.

    A run field with `env = "NAME"` in the manifest becomes that environment variable (a token, say);
    a secret one with `generate = true` left empty gets a new token;
    one with `mount = "/path"` mounts the chosen host folder there; `publishes = "port"` publishes the
    container port held by that build field."""
    build = template.clean_build(build_values)
    clean, errors = template.check_run(run_values)
    if errors:
        raise ValidationError(errors)
    ports: dict[int, int] = {}
    env: dict[str, str] = {}
    volumes: dict[str, str] = {}
    for f in template.run_fields:
        value = clean[f.name]
        if f.publishes:
            ports[int(build[f.publishes])] = int(value)
        elif f.type == "mapping" and f.extra.get("kind", "environment") == "environment":
            env.update(value)
        elif f.extra.get("env") and value not in ("", None):
            env[str(f.extra["env"])] = str(value)
        elif f.extra.get("env") and f.extra.get("generate"):
            env[str(f.extra["env"])] = new_token()  # a token left empty: made here, never in a layer
        elif f.extra.get("mount") and value:
            volumes[str(value)] = str(f.extra["mount"])
    return RunSettings(ports=ports, environment=env, volumes=volumes)
