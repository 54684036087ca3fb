"""Library pieces shared by several stages (the package's top level is kept for the stage CLIs)."""
