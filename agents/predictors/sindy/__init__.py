"""SINDy predictor: sparse dynamics of hand motion and stiffness driven by the envelopes."""
