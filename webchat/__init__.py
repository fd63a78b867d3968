"""The web chat's server side: the page (`page`, one builder per panel), shared state (`assistant`)
and refused uploads (`uploads`); `app.py` loads the corpus and serves the page."""
