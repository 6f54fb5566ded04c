"""Channel adapters, the simulator, the runner and the journal."""
