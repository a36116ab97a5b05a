"""The only writer of run files. Its modules, one job each: names (a run folder's file names),
records (FileRecord, WriteError, OutputError), rotation (the plan of files over time), lock and
folder (one run at a time, only in a folder of ours), writers (whole lines, rolled back on a
failed write), live (a stream's rotating access.log), manifest; files re-exports them all.

May import: synth.generate.scenario, synth.generate.zone (rotation options and time zones).
"""
