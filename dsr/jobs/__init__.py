"""Background work: job functions and the scheduler that runs them."""
