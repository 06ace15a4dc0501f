"""Runtime foley: choose each object's sounds, generate and vary them, render the scene."""
