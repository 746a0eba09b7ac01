"""CAMARA-compatible answers (SIM Swap, Call Forwarding Signal) from the risk index."""
