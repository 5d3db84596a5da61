"""``teleimp render``: a rollout to video with the intent, command and prediction drawn in."""
