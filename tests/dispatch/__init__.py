"""Durable deliveries: unit tests with a FakeClock, and the SIGKILL test with a real process."""
