"""Per-attempt proctoring: browser events now; server-side rules on vision observations later."""
