"""One module per command: plain functions that take a `Project` and return a report.

`bib.cli` imports a command's module only when that command runs, so each
command pays only for the libraries it uses.
"""
