"""Evidence that separates stacks: anytime-valid intervals, power."""
