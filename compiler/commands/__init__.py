"""One module per ``planc`` subcommand (see :data:`compiler.cli.COMMANDS`)."""
