"""Training: datasets recorded from the env, evaluation and calibration, ``teleimp train``."""
