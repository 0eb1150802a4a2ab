"""The read side: a JSON API over what the pipeline stored, and the story board that uses it.

params.py   query string -> typed filters (pure; a bad value is BadRequest -> 400 with the reason)
views.py    stored rows -> the API's JSON (pure: cards, toll history, evidence highlights)
queries.py  ReadStore: the read queries, on its own connections (never the writer's)
schema.py   storage schema version 7: full-text search and story cards, kept by triggers
events.py   one poller per process turning changed stories into server-sent events
routes.py   the pages registered on the service's web server, read authorisation
"""
