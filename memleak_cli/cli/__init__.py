"""The CLI: one module per subcommand, each converting options and calling the engine."""
