"""One episode: rollout, its per-step log and its metrics."""
