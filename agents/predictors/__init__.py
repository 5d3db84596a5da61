"""Intent predictors: ``naive`` (hold), ``cv`` (constant velocity), ``kf`` (Kalman with decaying
acceleration), ``sindy`` (sparse dynamics), ``lstm`` (MC-Dropout LSTM with attention)."""
