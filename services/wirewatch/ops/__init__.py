"""The worker's HTTP surface: health (live, ready), link intake, and the checks behind them.

`routes.install(app, runtime, settings, submit)` is the one call app.py makes; the rules of intake
(`intake.py`) and readiness (`health.py`) are plain Python, tested without a server.
"""
