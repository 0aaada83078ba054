"""From processed rows to model input and back: subword encoding with windows, collation, span decoding.

``IGNORE_INDEX`` is the project's single ignore index: alignment writes it on non-first subwords and special
tokens, collation pads NER labels with it, the loss and the metrics skip it.
"""

IGNORE_INDEX = -100
