"""The story board: plain HTML, CSS and JavaScript served as package data by api/routes.py (no build step)."""
