"""What changed, told after the change is committed: the events (`schemas.py`) and the bus
that carries them from the writers to whoever listens (`bus.py`)."""
