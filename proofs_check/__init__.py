"""Cross-checks of the symbolic theory against simulations, and the command line."""
