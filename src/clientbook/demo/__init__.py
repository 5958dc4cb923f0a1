"""The demo retailer: a documented generator with ground truth."""
