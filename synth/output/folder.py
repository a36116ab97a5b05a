"""Folder ownership: an output folder is used only when it is a writable folder that no other
run of synth holds and that holds no file synth did not write; an earlier run's files go.

Nothing is written by the checks; ``claim_output`` takes the folder's lock (synth.output.lock)
and checks again under it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from synth.output.lock import OutputLock, busy_message, lock_holder
from synth.output.manifest import read_manifest
from synth.output.names import MANIFEST, MESSY, PER_LINE, REPORT, TRUTH
from synth.output.records import OutputError


def ours(out_dir: Path) -> set[str]:
    """Names in ``out_dir`` that an earlier run of synth wrote (from its manifest)."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("generator") != "synth":
        return set()
    return {f["name"] for f in manifest.get("files", [])} | {MANIFEST, TRUTH, PER_LINE, MESSY, REPORT}


def check_output(out_dir: Path, force: bool) -> None:
    """Refuse an ``out`` that is not a folder, that another run of synth is writing to, or that
    holds files synth did not write.

    Hidden files (``.gitkeep``, our lock) are never ours and never in the way. Nothing is
    written here.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder")
    if not out_dir.exists():
        parent = out_dir.parent if str(out_dir.parent) else Path(".")
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise OutputError(f"cannot create {out_dir}: {parent} is not a writable folder")
        return
    if not os.access(out_dir, os.W_OK):
        raise OutputError(f"{out_dir} is not writable")
    holder = lock_holder(out_dir)
    if holder is not None:
        raise OutputError(busy_message(out_dir, holder))
    check_foreign(out_dir, force)


def check_foreign(out_dir: Path, force: bool) -> None:
    """Refuse a folder that holds files synth did not write (unless ``force``)."""
    if force:
        return
    known = ours(out_dir)
    foreign = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith(".") and p.name not in known)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputError(f"{out_dir} holds files synth did not write ({shown}); "
                          "use --force to write there anyway, or choose another folder")


def clear_previous(out_dir: Path, keep: Iterable[str] = ()) -> None:
    """Remove the files of an earlier run of ours, so no stale file is left beside the new ones."""
    keep = set(keep)
    for name in ours(out_dir) - keep - {MANIFEST, TRUTH}:
        path = out_dir / name
        if path.is_file():
            path.unlink()


def claim_output(out_dir: Path, force: bool, command: str) -> OutputLock:
    """Lock the output folder for this run, then check it again under the lock (check_output)."""
    check_output(out_dir, force)
    lock = OutputLock(out_dir, command).acquire()
    try:
        check_foreign(out_dir, force)
    except BaseException:
        lock.release()
        raise
    return lock
