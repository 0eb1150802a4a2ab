"""Pure cores of the pipeline, one module per step: each takes plain values in and returns plain values out.

    fetch        a submitted link -> FetchResult (redirect chain, final URL, decoded HTML);
                 with ``netguard`` (which addresses a connection may reach), ``politeness``
                 (per-host turns, robots.txt) and ``dedupe`` (the alias shortcut)
    extract      that HTML -> an Extracted article (``extract_meta``, ``extract_clean``;
                 ``extract_score`` is the benchmark's metric)
    enrich       an article -> casualty figures, places, language, keyword matches (a package)
    route        enriched article + rules -> the story it joins (``story``) and the alerts it
                 raises, held back per window by ``throttle``; ``rules_watch`` hot-reloads the rules
    urls         the URL rules the others share

Agents in ``wirewatch.agents`` wrap these; the stages know nothing of Faust, topics or metrics.
"""
