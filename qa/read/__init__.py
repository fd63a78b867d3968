"""Reading: a neural reader scores answer spans (and relevance) in a few sentences.

`base` holds the interface every reader meets — question and passages in, one
`Reading` per passage out — and the span decoding they share. `passage` is the
built-in reader (all-MiniLM-L6-v2 with low-rank updates and two heads; its weights
are written and read side by side there); `extractive` wraps a transformers QA model
of the user's own. How readings become answer spans is the answer stage's business
(`qa.answer.span_sources`).
"""
