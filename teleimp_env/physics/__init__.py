"""Physics: the MjSpec scene (peg, hole, impedance-controlled stage) and its configuration."""
