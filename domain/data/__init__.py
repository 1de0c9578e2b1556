"""Data files of the domain (tracks.toml, ladder.toml); a package so wheels ship them."""
