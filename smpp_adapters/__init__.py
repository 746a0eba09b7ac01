"""SMPP 3.4 for otpgate: a sans-I/O codec and session, text decoding, receipts, and thin asyncio transports."""
