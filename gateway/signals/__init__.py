"""Network signals: the signal model, MSISDN and country tables, and the in-memory risk index."""
