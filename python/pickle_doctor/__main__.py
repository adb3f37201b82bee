"""``python -m pickle_doctor ...`` runs the CLI."""

from ._cli import main

main()
