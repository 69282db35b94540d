"""The flow plug-ins, one package each; the composition root (worker.py) lists the ones the engine runs."""
