"""The paper's experiments at laptop scale (`python -m proofs_check experiment ...`).

Pure functions that return plain data, and plotting functions that return matplotlib
Figures (no pyplot state); the command module `proofs_check.commands.experiment` writes
the files.

- `digits`: scikit-learn's bundled digits, a seeded stratified split, MLP dimensions,
  per-epoch reshuffled streams, test accuracy and loss.
- `observe`: reference points W^{(k)} of a continuous `numerics.training.train` run,
  reported while it runs (a device wrapper), and the slots at which they are complete.
- `figure4`: the paper's Figure 4 (accuracy vs epoch and slots, speed-up vs stages) with every
  schedule of the registry, and peak memory per schedule beside MODEL.md §3's closed forms.
- `rates`: (1/K) Σ ||∇f(W^{(k)})||² vs K beside MODEL.md §5's right side, and the
  asymptotic floor vs τ and σ.
- `devices`: every device kind of MODEL.md §2 on the digits MLP with AP and SP: final accuracy
  and the measured floor beside 4 G_max² σ²/(B β²).
- `summary`: mean ± std over seeds, log-log slopes.
"""
