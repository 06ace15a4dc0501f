"""The learned visual event detector: track features, the network (torch for training, a numpy
twin for inference), and the switch that applies it to an analysis."""
