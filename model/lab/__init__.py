"""Training and evaluation only: the synthetic dataset, detector training, metrics and the
synthetic/real evaluations. The runtime (model.foley, model.detector, the app's analyse, render
and studio paths) never imports this package."""
