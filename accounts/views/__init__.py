"""HTML views of the accounts app, one module per settings area."""
