"""The ``facefeat`` command line: one module per command.

=====================================  ==============================================
:mod:`facefeat.cli.main`               the parser assembled, :func:`main`
:mod:`facefeat.cli.console`            what the commands share (options, records, exit codes)
:mod:`facefeat.cli.benchmark`          ``facefeat benchmark``
:mod:`facefeat.cli.fit`                ``facefeat fit``
:mod:`facefeat.cli.predict`            ``facefeat predict``
:mod:`facefeat.cli.pipelines`          ``facefeat pipelines``
:mod:`facefeat.cli.audit`              ``facefeat audit``
:mod:`facefeat.cli.asm`                ``facefeat asm train``
:mod:`facefeat.cli.landmarks`          ``facefeat landmarks``, ``facefeat landmarks-eval``
:mod:`facefeat.cli.visualize`          ``facefeat visualize``
:mod:`facefeat.cli.extract`            ``facefeat extract``
=====================================  ==============================================

Nothing in the library imports this package.
"""

from facefeat.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
