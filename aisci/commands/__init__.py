"""Subcommands of the `aisci` CLI, one module each, found automatically.

A module here defines `register(subparsers)`, which adds its parser and sets
`handler=<function(args) -> int>` with `parser.set_defaults(handler=...)`.
"""
