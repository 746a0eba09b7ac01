"""Messages the gateway keeps instead of forwarding: sealed at rest, released, cancelled or expired."""
