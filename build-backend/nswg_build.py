"""maturin's PEP 517 backend, with the wheel's platform tag chosen as ``maturin build`` does.

maturin's hooks pass ``--compatibility off`` unless the caller names a compatibility, which
gives a ``linux_*`` wheel that PyPI refuses and skips the manylinux audit. Here a build that
names none gets a bare ``--compatibility``, so that maturin takes ``[tool.maturin]
compatibility`` from pyproject.toml: a plain ``pip wheel .`` then audits the extension and tags
it with the oldest manylinux (or musllinux) policy it meets. Compatibility given in
``-C build-args=...`` or ``MATURIN_PEP517_ARGS`` wins, as with maturin itself.

maturin warns when pyproject.toml's build-backend is not maturin itself; this module is only a
wrapper around it, so that warning is turned off.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from typing import Any

import maturin
from maturin import (
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_wheel",
]


os.environ["MATURIN_NO_MISSING_BUILD_BACKEND_WARNING"] = "1"


def _with_compatibility(config_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    args = maturin.get_maturin_pep517_args(config_settings)
    if not any(a.split("=")[0] in ("--compatibility", "--manylinux") for a in args):
        args = [*args, "--compatibility"]
    settings = {k: v for k, v in (config_settings or {}).items() if not k.endswith("build-args")}
    settings["build-args"] = shlex.join(args)
    return settings


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    return maturin.build_wheel(
        wheel_directory, _with_compatibility(config_settings), metadata_directory
    )


def build_editable(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    return maturin.build_editable(
        wheel_directory, _with_compatibility(config_settings), metadata_directory
    )
