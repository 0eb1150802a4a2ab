"""Pure cores of the pipeline, one module per step: each takes plain values in and returns plain values out.

``fetch`` turns a submitted link into a FetchResult (redirect chain, final URL, decoded HTML);
``extract`` turns that HTML into an Extracted article; ``urls`` holds the URL rules both share.
Agents in ``wirewatch.agents`` wrap these; the stages know nothing of Faust, topics or metrics.
"""
