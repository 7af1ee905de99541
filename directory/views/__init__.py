"""Blueprints: public pages, the JSON API, error handlers."""
