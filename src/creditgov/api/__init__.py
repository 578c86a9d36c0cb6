"""The FastAPI application factory, shared dependencies and router wiring."""
