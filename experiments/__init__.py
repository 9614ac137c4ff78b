"""Hydra entry points, one per stage: ``lmforecast <stage> [overrides]`` imports ``experiments.<stage>``.

Each script turns its config into plain arguments (``experiments/_common.py``) and calls
:mod:`lmforecast.pipeline`; nothing else in the project sees a Hydra ``DictConfig``.
"""
