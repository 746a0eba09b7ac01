"""Payment platforms: who owns which traffic, and their API keys."""
