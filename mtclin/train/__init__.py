"""Training: schedules over tasks, one loop, checkpoints."""
