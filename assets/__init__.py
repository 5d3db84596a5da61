"""Package data of teleimp-env: the MJCF scene and the shipped checkpoints (no code).

Installed as ``teleimp_env.assets``; code finds these files through
``importlib.resources.files("teleimp_env.assets")`` (see :mod:`teleimp_env.resources`).
"""
