"""Several nodes serving one deployment, over Redis: which nodes are alive, and where a test's
live media meets."""
