"""`python -m bot ...` is `pingan ...`: for hosts (and tests) without the console script."""
from bot.run.cli import main

main(prog_name="pingan")
