"""From read corpora to training tables: word tokenization, flattening to one BIO layer, segmentation."""
