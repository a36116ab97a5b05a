"""Events into line bytes: LogFormat, fields, the HTTP response model, line layouts and formats.

May import: synth.generate (the events, pools and time zones it renders).
"""
