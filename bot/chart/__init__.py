"""Charts the bot sends as images: the monthly briefing's figures as a PNG that
reads on a phone (`month.py`), drawn with a real CJK font (`fonts.py`).

matplotlib is imported only when a chart is drawn (the Agg backend, no pyplot, no
display): the bot starts without it and draws once a month.
"""
