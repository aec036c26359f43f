"""Numerical half of the toolkit: the network of MODEL.md §1, the analog devices of §2,
the slot-accurate pipeline schedules of §3 and the training runs that drive them."""
