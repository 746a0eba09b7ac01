"""Soak and fuzz suite (issue 12): SIGKILL under load, PDU fuzzing, API fuzzing."""
