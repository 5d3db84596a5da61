"""Fallbacks: turn a (predicted intent, trust) pair into a safe action.

``hold`` blends the prediction with the newest received command in proportion to trust and
softens and damps what it distrusts; ``energy_observer`` wraps another fallback and keeps the
robot passive (energy tank, two-port observer in bilateral mode).
"""
