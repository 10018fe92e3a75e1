"""CSV imports: purchases and contacts, from the command line, from code and from the
dashboard's upload (docs/architecture.md)."""
