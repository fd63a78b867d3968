"""Answering: from a question to a decided, rated answer per part.

`question` splits a question into parts and tells the answer type each wants;
`candidates` gathers candidate sentences with their features and `ranking` ranks them
(learned sentence model); `spans` finds typed spans, `span_features` scores them
(learned span model), and `span_sources` is the one place that picks where spans come
from (rules, the passage reader, or a reader model of the user's); `corroborate`
groups answers across articles and finds disagreements; `confidence` rates the answer;
`decide` runs these in order and is the one place that decides a part.
"""
