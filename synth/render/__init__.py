"""Events into line bytes: escaping, LogFormat, fields, line layouts and formats."""
