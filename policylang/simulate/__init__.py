"""`policylang simulate` and `policylang sweep`: a reform's effect on a year of claims, exact to the fen.

Both policies evaluate the same batches of one read of the claims file (`run.py`); each batch's results
are reduced to a `Tally` (`tally.py`: sums in int fen, per person-year arrays) that merges with the
tallies of other batches or other machines (the Dask runner, policylang/scale/); `report.py` turns the
merged tally into the JSON document (schema: `simulate.schema.json`), `text.py` into the terminal table
and `page.py` into the report page (HTML and Markdown, through publish/).
"""
