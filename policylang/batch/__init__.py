"""Claims in bulk: a batch engine (vectorized, or the scalar evaluator as the visible fallback) fed by
streamed Parquet/CSV/JSONL readers and writers. contract.py is what the two sides agree on."""

BATCH_SIZE = 100_000  # rows read per batch by default (`eval --out --batch-size`)
