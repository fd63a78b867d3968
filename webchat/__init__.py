"""The web chat's server side: shared state (`assistant`) and upload handling (`uploads`); `app.py` builds the page."""
