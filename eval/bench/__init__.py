"""``teleimp bench``: env, agent and tournament speed against references in the same run."""
