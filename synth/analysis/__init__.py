"""Reading logs back: logread (over logblocks, logtimes, logparse, logdetect), profile, fit (a
scenario from a log) and twin (input against twin), score and bench."""
