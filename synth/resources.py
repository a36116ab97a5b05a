"""Where the data the code reads or ships lives: templates/, filebeat/, ml/ and built-in scenarios.

In a checkout they sit at the top of the repository, beside the package; a wheel installs
them inside the package (setup.cfg maps them there). The installed place is tried first, so
an unrelated ``templates/`` folder beside site-packages is never picked up by mistake.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``templates``, ``filebeat``, ``ml``) from a wheel or a checkout."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"synth data folder {name!r} is missing from this installation")


def scenarios_dir() -> Path:
    return PACKAGE_DIR / "scenarios"
