"""Choosing the next best offer: the offer catalogue, contact policy and the decision itself."""
