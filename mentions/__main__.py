"""`python -m mentions` works like `mentions`."""

from mentions.cli import main

main()
