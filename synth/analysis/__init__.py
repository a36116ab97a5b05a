"""Reading logs back: logread, profile, fit (a scenario from a log) and twin (input against twin), score and bench."""
