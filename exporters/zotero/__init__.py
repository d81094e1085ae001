"""Zotero as a sink: the catalog mirrored into a group collection, one sub-collection per category.

`items` maps records to Zotero items, `remote` reads the library, `plan` is the
pure difference (desired vs remote -> actions), `session` wraps pyzotero,
`errors` says what a failed request means, and `sync` applies the plan. Not in
the file exporters' registry: it writes no file.
"""
