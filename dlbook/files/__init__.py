"""Files dlbook writes and reads: atomic writes, the safe unpickler, weights and checkpoints, SavedModel export."""
