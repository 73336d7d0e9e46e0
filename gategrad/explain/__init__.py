"""Backpropagation in words: `explain`'s expression language and the walk as text and JSON."""
