"""Pure decision logic: the OTP classifier and the policy engine. Imports nothing from gateway or smpp_adapters."""
