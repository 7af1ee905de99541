"""Benchmarks (not tests): `python -m bench` generates fictional listings and times the app."""
