"""Tests of the Flask web app (webapp.web)."""
