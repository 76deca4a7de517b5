"""The nightly autopilot: daily candidate batches and the training trigger (plain logic)."""
