"""Every processor type the engine runs, a family per module; importing this registers them."""

from synth.elastic.ingest.processors import convert, dates, fields, flow, hashing, network, parse, strings

__all__ = ["convert", "dates", "fields", "flow", "hashing", "network", "parse", "strings"]
