"""Reading logs back: profile, score and bench."""
