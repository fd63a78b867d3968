"""Reply: write decided parts up for people.

`compose` numbers citations and writes the markdown reply of an `Answer`; `present`
renders answers and articles as escaped HTML for the chat; `markdown` is the one
escaping of article and user text shown inside markdown.
"""
