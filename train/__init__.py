"""Training and model export: the passage reader, the stacking models and the data they learn from.

`eval/` measures; this package learns. Everything here reads only training data: SQuAD
v1.1 train and the training half of the dev files (see `eval.squad.squad_split_titles`).
"""
