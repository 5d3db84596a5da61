"""The design-space study (``teleimp study``): which predictor earns its place at which horizon, per
sEMG generator, and whether the sEMG envelopes help.

For each generator preset (``linear``, ``hard``, ``physiological``) the study records operator
episodes, fits every predictor family on the training subjects
(:data:`~teleimp_env.operator.subjects.TRAIN_SUBJECTS`), selects on the validation subjects
(``VALIDATION_SUBJECTS``) and reports position (mm) and stiffness (N/m) errors at each horizon
(default 50, 100, 200 ms; mean and 95 % CI over episodes) on the test subjects (``TEST_SUBJECTS``)
only. The classical and learned predictors are the agents' own classes — ``naive``, ``cv``,
``kf``, ``sindy``, ``lstm``, ``readout`` — retrained and evaluated through their offline path,
beside study-only window regressors and the shipped checkpoints as they are. The report prints
SINDy's equations, term counts and thresholds per component, and whether SINDy beats the hold at
the shortest horizon. With ``--modalities`` every family that learns from the envelopes is also
fitted without them (``·noemg``) and/or on per-person normalised envelopes (``·norm``), and the
report adds "Does sEMG help? (paired by person)" with clustered intervals across people.

Modules, one job each:

* :mod:`~teleimp_env.eval.study.config` — :class:`StudyConfig`, validated, and the flag parsers;
* :mod:`~teleimp_env.eval.study.families` — family names, table order, row names per modality;
* :mod:`~teleimp_env.eval.study.data` — recording, samples, train / validation / test splits;
* :mod:`~teleimp_env.eval.study.base` — the :class:`StudyModel` contract;
* :mod:`~teleimp_env.eval.study.agent_rows` — adapters of the agents' predictors;
* :mod:`~teleimp_env.eval.study.offline` — their predictions at the study's samples;
* :mod:`~teleimp_env.eval.study.shipped` — the shipped checkpoints as rows;
* :mod:`~teleimp_env.eval.study.window_models`, :mod:`~teleimp_env.eval.study.sequence`,
  :mod:`~teleimp_env.eval.study.esn` — study-only window regressors;
* :mod:`~teleimp_env.eval.study.models` — a fresh model of any family;
* :mod:`~teleimp_env.eval.study.stats` — errors, confidence intervals, paired differences;
* :mod:`~teleimp_env.eval.study.ablation` — the modality ablation: each envelope row against its
  ``·noemg`` twin, clustered bootstrap across people (:mod:`teleimp_env.eval.clustered`);
* :mod:`~teleimp_env.eval.study.runner` — the run loop (and the subject-leak check);
* :mod:`~teleimp_env.eval.study.result`, :mod:`~teleimp_env.eval.study.report`,
  :mod:`~teleimp_env.eval.study.sindy_report`, :mod:`~teleimp_env.eval.study.tables`,
  :mod:`~teleimp_env.eval.study.plot` — results and their Markdown / CSV / PNG files;
* :mod:`~teleimp_env.eval.study.run` — ``teleimp study`` (flags, command; re-exports ``run``).

Importing this package imports nothing else (torch and the agents load with the submodules).
"""
