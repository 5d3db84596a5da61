"""The linear read-out (``readout``): ridge read-outs of kinematics and normalised envelopes per
horizon, optionally adapted to each person online by recursive least squares."""
