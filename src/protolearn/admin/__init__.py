"""The administrator's view of the whole platform: counts, live load and the health of its parts."""
