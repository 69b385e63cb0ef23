"""omnisync's core. The command is `omnisync`; the distribution that installs it has a name of its
own, because `omnisync` on the public package index is an unrelated project."""

DISTRIBUTION = "omnisync-engine"  # pyproject.toml's [project] name: where the version is read
