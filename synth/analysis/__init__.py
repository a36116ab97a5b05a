"""Reading logs back: logread (over logblocks, logtimes, logparse, logdetect), profile, fit (a
scenario from a log), twin (input against twin), score (records against truth) and the report.

It reads files and figures; it never draws traffic, so the generator is not among its imports.

May import: synth.render (line formats to parse), synth.elastic (grok), synth.output (manifests).
"""
