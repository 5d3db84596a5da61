"""The operator's fidelity scorecard: the simulated human measured against literature targets."""
