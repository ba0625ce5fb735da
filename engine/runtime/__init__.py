"""Moving customers: entry, the batch runner, one executor per step type, the scheduler, the simulator."""
