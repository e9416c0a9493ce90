"""Enrichment from the public web; `enrichment.web` is the leaf library for outbound HTTP."""
