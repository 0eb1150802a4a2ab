"""Storage schema version 7: what the read API searches and filters on, per backend.

Applied by sinks/storage/schema.py's migrations like every other version; nothing in the write path
changes, because triggers keep these up to date from the tables the pipeline writes:

    story_cards    one narrow row per story (figures, countries, rules, size, headlines as columns),
                   so the story list filters and pages without decoding every story's JSON state;
                   its headlines are indexed for words (story_fts in SQLite, a GIN index in PostgreSQL)
    full-text      SQLite: an FTS5 index (contentless, keyed by article_search_ids, whose INTEGER
                   PRIMARY KEY survives VACUUM, unlike the articles table's implicit rowid)
                   PostgreSQL: article_search, each article's tsvector (SEARCH_VECTOR) stored with
                   a GIN index, kept by a trigger

Both backends tokenise alike (the 'simple' configuration / unicode61: words, lower-cased, no
stemming), because the articles are in several languages and the two must answer the same.
"""

from __future__ import annotations

# The one definition of an article's searchable text in PostgreSQL.
SEARCH_VECTOR = "to_tsvector('simple', coalesce({a}title, '') || ' ' || {a}text)"

# A story's words (its title and its articles' headlines) for the story list's q filter: the list
# answers "which stories", so it searches what the cards show; bodies are /api/articles' job.
HEADLINES_VECTOR = "to_tsvector('simple', {c}headlines)"

_CARD_COLUMNS = "story_id, title, first_at, last_at, updated_at, killed, injured, countries, rules, size, headlines"

_CARDS_TABLE = """
CREATE TABLE IF NOT EXISTS story_cards (
    story_id    TEXT PRIMARY KEY,
    title       TEXT,
    first_at    {ts} NOT NULL,
    last_at     {ts} NOT NULL,
    updated_at  {ts} NOT NULL,
    killed      BIGINT,
    injured     BIGINT,
    countries   TEXT NOT NULL DEFAULT '',
    rules       TEXT NOT NULL DEFAULT '',
    size        INTEGER NOT NULL DEFAULT 0,
    headlines   TEXT NOT NULL DEFAULT ''
)"""
_CARDS_INDEXES = [
    "CREATE INDEX IF NOT EXISTS story_cards_last_at_idx ON story_cards (last_at, story_id)",
    "CREATE INDEX IF NOT EXISTS story_cards_updated_at_idx ON story_cards (updated_at)",
    "CREATE INDEX IF NOT EXISTS articles_first_seen_idx ON articles (first_seen, canonical_url)",
    "CREATE INDEX IF NOT EXISTS alert_deliveries_created_at_idx ON alert_deliveries (created_at)",
]

# countries and rules are stored as ",A,B," so that "has X" is a LIKE '%,X,%' on both backends.
_SQLITE_CARD = f"""
    DELETE FROM story_cards WHERE story_id = new.story_id;
    INSERT INTO story_cards ({_CARD_COLUMNS}) VALUES (
        new.story_id, new.title, new.first_at, new.last_at, new.updated_at,
        json_extract(new.state, '$.figures.killed.count'), json_extract(new.state, '$.figures.injured.count'),
        coalesce((SELECT ',' || group_concat(value, ',') || ',' FROM json_each(new.state, '$.countries')), ''),
        coalesce((SELECT ',' || group_concat(key, ',') || ',' FROM json_each(new.state, '$.rules')), ''),
        coalesce(json_extract(new.state, '$.size'), 0),
        coalesce(new.title, '') || ' ' || coalesce((SELECT group_concat(json_extract(value, '$.title'), ' ')
                                                     FROM json_each(new.state, '$.members')), ''));
    INSERT INTO story_search_ids (story_id) SELECT new.story_id
        WHERE NOT EXISTS (SELECT 1 FROM story_search_ids WHERE story_id = new.story_id);
    DELETE FROM story_fts WHERE rowid = (SELECT id FROM story_search_ids WHERE story_id = new.story_id);
    INSERT INTO story_fts (rowid, headlines) SELECT s.id, c.headlines FROM story_search_ids s
        JOIN story_cards c ON c.story_id = s.story_id WHERE s.story_id = new.story_id;
"""
# Not INSERT OR IGNORE inside triggers: the statement that fires them (an upsert) imposes its own
# conflict policy on them, so the ignore would be an abort.
_SQLITE_SEARCH_ID = "(SELECT id FROM article_search_ids WHERE canonical_url = {row}.canonical_url)"

SQLITE = [
    _CARDS_TABLE.format(ts="TEXT"),
    *_CARDS_INDEXES,
    "CREATE TABLE IF NOT EXISTS story_search_ids (id INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS story_fts USING fts5(headlines, tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS stories_card_ai AFTER INSERT ON stories BEGIN {_SQLITE_CARD} END",
    f"CREATE TRIGGER IF NOT EXISTS stories_card_au AFTER UPDATE ON stories BEGIN {_SQLITE_CARD} END",
    "UPDATE stories SET title = title",  # cards for the stories stored before this version
    "CREATE TABLE IF NOT EXISTS article_search_ids (id INTEGER PRIMARY KEY, canonical_url TEXT NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(title, text, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO article_search_ids (canonical_url) SELECT new.canonical_url
            WHERE NOT EXISTS (SELECT 1 FROM article_search_ids WHERE canonical_url = new.canonical_url);
        INSERT INTO articles_fts (rowid, title, text) VALUES ({_SQLITE_SEARCH_ID.format(row="new")}, new.title, new.text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES ('delete', {_SQLITE_SEARCH_ID.format(row="old")}, old.title, old.text);
        INSERT INTO articles_fts (rowid, title, text) VALUES ({_SQLITE_SEARCH_ID.format(row="new")}, new.title, new.text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES ('delete', {_SQLITE_SEARCH_ID.format(row="old")}, old.title, old.text);
        DELETE FROM article_search_ids WHERE canonical_url = old.canonical_url;
    END""",
    # The articles stored before this version, oldest first (the search pages newest first by id).
    "INSERT OR IGNORE INTO article_search_ids (canonical_url) SELECT canonical_url FROM articles "
    "ORDER BY first_seen, canonical_url",
    "INSERT INTO articles_fts (rowid, title, text) SELECT i.id, a.title, a.text FROM article_search_ids i "
    "JOIN articles a ON a.canonical_url = i.canonical_url",
]

POSTGRESQL = [
    _CARDS_TABLE.format(ts="TIMESTAMPTZ"),
    *_CARDS_INDEXES,
    f"""CREATE OR REPLACE FUNCTION wirewatch_story_card() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO story_cards ({_CARD_COLUMNS}) VALUES (
            NEW.story_id, NEW.title, NEW.first_at, NEW.last_at, NEW.updated_at,
            (NEW.state #>> '{{figures,killed,count}}')::numeric::bigint,
            (NEW.state #>> '{{figures,injured,count}}')::numeric::bigint,
            coalesce((SELECT ',' || string_agg(c, ',') || ',' FROM jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(NEW.state -> 'countries') = 'array' THEN NEW.state -> 'countries' END) c), ''),
            coalesce((SELECT ',' || string_agg(k, ',') || ',' FROM jsonb_object_keys(
                CASE WHEN jsonb_typeof(NEW.state -> 'rules') = 'object' THEN NEW.state -> 'rules' END) k), ''),
            coalesce((NEW.state ->> 'size')::int, 0),
            coalesce(NEW.title, '') || ' ' || coalesce((SELECT string_agg(m ->> 'title', ' ') FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(NEW.state -> 'members') = 'array' THEN NEW.state -> 'members' END) m), ''))
        ON CONFLICT (story_id) DO UPDATE SET title = excluded.title, first_at = excluded.first_at,
            last_at = excluded.last_at, updated_at = excluded.updated_at, killed = excluded.killed,
            injured = excluded.injured, countries = excluded.countries, rules = excluded.rules, size = excluded.size,
            headlines = excluded.headlines;
        RETURN NULL;
    END $$""",
    "CREATE OR REPLACE TRIGGER stories_card AFTER INSERT OR UPDATE ON stories "
    "FOR EACH ROW EXECUTE FUNCTION wirewatch_story_card()",
    "UPDATE stories SET title = title",  # cards for the stories stored before this version
    # The tsvector is stored, not an expression index: a plan that walks articles newest first
    # and tests each one must not re-parse every article's text (seconds on a few thousand rows).
    "CREATE TABLE IF NOT EXISTS article_search (canonical_url TEXT PRIMARY KEY, first_seen TIMESTAMPTZ NOT NULL, "
    "search TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS article_search_idx ON article_search USING GIN (search)",
    "CREATE INDEX IF NOT EXISTS article_search_first_seen_idx ON article_search (first_seen, canonical_url)",
    f"""CREATE OR REPLACE FUNCTION wirewatch_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM article_search WHERE canonical_url = OLD.canonical_url;
        ELSE
            INSERT INTO article_search (canonical_url, first_seen, search)
            VALUES (NEW.canonical_url, NEW.first_seen, {SEARCH_VECTOR.format(a="NEW.")})
            ON CONFLICT (canonical_url) DO UPDATE SET first_seen = excluded.first_seen, search = excluded.search;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE OR REPLACE TRIGGER articles_search AFTER INSERT OR DELETE OR UPDATE OF title, text ON articles "
    "FOR EACH ROW EXECUTE FUNCTION wirewatch_article_search()",
    f"INSERT INTO article_search (canonical_url, first_seen, search) SELECT canonical_url, first_seen, "
    f"{SEARCH_VECTOR.format(a='')} FROM articles ON CONFLICT (canonical_url) DO NOTHING",
    f"CREATE INDEX IF NOT EXISTS story_cards_search_idx ON story_cards USING GIN ({HEADLINES_VECTOR.format(c='')})",
]

READ_SCHEMA = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
