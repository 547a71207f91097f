"""Tests of memleak_cli.probes."""
