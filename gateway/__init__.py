"""The otpgate application: configuration, the message path, stores, APIs and the command line."""
