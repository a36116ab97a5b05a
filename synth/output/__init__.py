"""The only writer of run files: rotation, folder ownership and lock, writers, manifest."""
