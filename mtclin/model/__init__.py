"""The multitask model: one shared Hugging Face encoder, one light head per task."""
