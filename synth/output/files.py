"""The output stage under one name: every public name of synth.output's modules.

The work is done in the modules this imports: ``names`` (a run folder's file names and their
time order), ``records`` (FileRecord and the errors), ``rotation`` (which time each file holds),
``lock`` and ``folder`` (one run at a time in a folder, and only in a folder of ours),
``writers`` (whole lines, cut back on a failed write), ``live`` (a stream's rotating
``access.log``) and ``manifest``. Code inside synth imports those modules directly.
"""

from __future__ import annotations

from synth.output.folder import check_foreign, check_output, claim_output, clear_previous, ours
from synth.output.live import LIVE_WRITE_BYTES, LiveLog, Placed
from synth.output.lock import OutputLock, busy_message, forget_inherited_locks, lock_holder
from synth.output.manifest import Manifest, read_manifest, run_files, versions_used
from synth.output.names import ACTIVE, LOCK, MANIFEST, MESSY, PER_LINE, REPORT, TRUTH, file_order, size_names
from synth.output.records import FileRecord, OutputError, WriteError
from synth.output.rotation import (
    Stretch,
    dated_name,
    next_boundary,
    plan_stretches,
    rotation_period,
    shard_stretches,
    unique_name,
)
from synth.output.writers import (
    NEWLINE,
    WRITE_GUARD,
    Chunk,
    LogFile,
    line_ends,
    lines_that_fit,
    write_by_size,
    write_json,
    write_stretch,
    write_whole,
)

__all__ = [
    "ACTIVE", "LIVE_WRITE_BYTES", "LOCK", "MANIFEST", "MESSY", "NEWLINE", "PER_LINE", "REPORT", "TRUTH", "WRITE_GUARD",
    "Chunk", "FileRecord", "LiveLog", "LogFile", "Manifest", "OutputError", "OutputLock", "Placed", "Stretch",
    "WriteError", "busy_message", "check_foreign", "check_output", "claim_output", "clear_previous",
    "dated_name", "file_order", "forget_inherited_locks", "line_ends", "lines_that_fit", "lock_holder",
    "next_boundary", "ours", "plan_stretches", "read_manifest", "rotation_period", "run_files",
    "shard_stretches", "size_names", "unique_name", "versions_used", "write_by_size", "write_json",
    "write_stretch", "write_whole",
]
