"""HTTP APIs (aiohttp): the operator API, and later the tenant and CAMARA endpoints."""
