"""The Predict page: drop panel, targets, batches, tabular form."""
