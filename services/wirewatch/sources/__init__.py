"""Sources: where links come from (feeds, the CLI, HTTP) and how they are put on the links topic."""
