"""What the bundled ML jobs read, and which of a kind's jobs a run's lines let see a window."""

from __future__ import annotations

# What a format's lines tell, in words both sides share: a format lists those it writes
# (synth.render.formats.LineFormat.carries), a job those its fields come from. Each job reads
# the ECS fields named here (its detectors, influencers, datafeed query and aggregations);
# tests/test_jobs_see_formats.py holds both sides to the documents the ingest pipeline makes.
CARRIED = {
    "status": "the status code (%s, read as http.response.status_code)",
    "client": "the client address (%h, read as source.address)",
    "url": "the request line (%r, read as url.original)",
    "agent": "the User-Agent (%{User-agent}i, read as user_agent.original)",
    "body_bytes": "the body size (%b or %B, read as http.response.body.bytes)",
    "bytes_sent": "the bytes sent (%O, read as http.response.bytes)",
    "duration": "a response time (%D or %T, read as event.duration)",
}
JOB_NEEDS: dict[str, frozenset[str]] = {
    "smoke-request-count": frozenset({"status"}),
    "smoke-low-request-rate": frozenset({"status"}),
    "smoke-status-code-rate": frozenset({"status", "client"}),
    "smoke-url-scanning": frozenset({"status", "client", "url"}),
    "smoke-source-request-rate": frozenset({"status", "client"}),
    "smoke-visitor-rate": frozenset({"status", "client"}),
    "smoke-bytes-per-client": frozenset({"status", "client", "body_bytes"}),
    "smoke-bytes-sent-per-client": frozenset({"status", "client", "bytes_sent"}),
    "smoke-rare-agent": frozenset({"status", "client", "agent"}),
    "smoke-response-time": frozenset({"duration"}),
}
ALL_CARRIED = frozenset(CARRIED)


def choose_job(candidates: tuple[str, ...], carries: frozenset[str]) -> tuple[list[str], str | None]:
    """The first of ``candidates`` whose fields the format's lines carry, or none and why."""
    for job in candidates:
        if JOB_NEEDS[job] <= carries:
            return [job], None
    if not candidates:
        return [], None
    missing = sorted(JOB_NEEDS[candidates[0]] - carries, key=list(CARRIED).index)
    jobs = " or ".join(candidates)
    return [], (f"the format's lines do not carry {', '.join(CARRIED[m] for m in missing)}, which {jobs} "
                f"{'read' if len(candidates) > 1 else 'reads'}: no bundled job can see this window")
