"""The paper's experiments at laptop scale (`python -m proofs_check experiment ...`).

Pure functions that return plain data, and plotting functions that return matplotlib
Figures (no pyplot state); the command module `proofs_check.commands.experiment` writes
the files.

- `digits`: scikit-learn's bundled digits, a seeded stratified split, MLP dimensions,
  per-epoch reshuffled streams, test accuracy and loss.
- `observe`: reference points W^{(k)} of a continuous `numerics.training.train` run,
  reported while it runs (a device wrapper), and the slots at which they are complete.
- `figure4`: the paper's Figure 4 (accuracy vs epoch and slots, speed-up vs stages).
- `rates`: (1/K) Σ ||∇f(W^{(k)})||² vs K beside MODEL.md §5's right side, and the
  asymptotic floor vs τ and σ.
- `summary`: mean ± std over seeds, log-log slopes.
"""
