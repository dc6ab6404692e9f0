"""Past one machine: the engine-neutral partition entry point (`partition.py`) and the Dask runner
(`runner.py`) that reads Parquet, shuffles claims by person, evaluates partitions and reduces summaries."""
