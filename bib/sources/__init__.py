"""One module per upstream; each turns that upstream's responses into records."""
