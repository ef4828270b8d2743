"""Sphinx configuration of nswg's documentation: the guides in Markdown, the API reference from
the numpydoc docstrings of the installed package.

Build with ``make docs`` (``pip install ".[docs]"``, then ``sphinx-build -E -W --keep-going -b
html docs docs/_build/html``): every warning fails the build, and so does a public name (one in
the ``__all__`` of a module in ``PUBLIC_MODULES``) that the reference leaves out.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import nswg

project = "nswg"
author = "The nswg developers"
copyright = "2026, The nswg developers"
release = version = nswg.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"nswg {release}"

# Every cross-reference must resolve, except to the libraries whose inventories a build without
# network cannot fetch.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|sklearn|tslearn|pathlib|os|collections|typing)(\..*)?"),
    (r"py:class", r"(array-like|optional|callable|path-like|str|int|float|bool|None)"),
]
# The types are in the numpydoc Parameters sections; signatures stay short, as numpy's do.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
# Parameters, returns and the summary line of every documented object, checked by numpydoc.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "RT02", "SS01", "GL08"}
# Classes whose constructor is not how users make them (Index: Index.build), or whose fields are
# documented as Attributes (the dataclasses): their class docstrings list no Parameters.
numpydoc_validation_exclude = {
    r"^nswg\.Index$",
    r"^nswg\.SearchResult$",
    r"^nswg\.RangeResult$",
    r"^nswg\.GraphStats$",
    r"\.UCRSummary$",
    r"\.DTWWindow$",
    r"^nswg\.distributed\.ShardedIndex$",
    r"^nswg\.distributed\.ShardInfo$",
}
myst_heading_anchors = 3

PUBLIC_MODULES = [
    "nswg",
    "nswg.neighbors",
    "nswg.metrics",
    "nswg.datasets",
    "nswg.words",
    "nswg.distributed",
    "nswg.errors",
]


def _resolve(name: str) -> Any:
    """The object a dotted name documents, or None for one that names no object."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def _check_public_names(app: Any, env: Any) -> None:
    """Warn about each public name that no page documents, under its own name or another's."""
    from sphinx.util import logging

    documented = env.get_domain("py").objects
    objects = [_resolve(name) for name in documented]
    for module_name in PUBLIC_MODULES:
        module: ModuleType = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            shared = not isinstance(obj, (int, float, str, bytes)) and any(
                o is obj for o in objects
            )
            if f"{module_name}.{name}" not in documented and not shared:
                logging.getLogger(__name__).warning(
                    "%s.%s is public but not in the API reference", module_name, name
                )


def _skip_scikit_learn(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> Any:
    """Leave out what the estimators inherit from scikit-learn (get_params, score, metadata
    routing): scikit-learn documents it."""
    if str(getattr(obj, "__module__", None)).startswith("sklearn."):
        return True
    return None


def setup(app: Any) -> None:
    app.connect("autodoc-skip-member", _skip_scikit_learn)
    app.connect("env-check-consistency", _check_public_names)
