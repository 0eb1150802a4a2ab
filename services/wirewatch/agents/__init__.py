"""Thin Faust adapters, one module per stage. Each builds the stage's `core`: a coroutine that takes
the decoded input message and returns the messages to emit (`runner.Emit`). Decoding, emitting,
counting and the error policy live in `runner.Stage`, the same for every agent; `app.py` wires
cores to topics.
"""
