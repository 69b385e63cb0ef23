"""What a run tells: counters and the report, reject files, progress, step summary, notification."""
