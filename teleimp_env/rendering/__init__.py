"""Rendering: MuJoCo frames with ghost pegs (intent, received command, prediction), plots."""
