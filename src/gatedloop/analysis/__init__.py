"""Statistics over finished rounds: paired effects between arms and per-family coverage."""
