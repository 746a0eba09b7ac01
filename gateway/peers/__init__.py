"""Facts about other operators' numbers, pulled from their CAMARA APIs at decision time."""
