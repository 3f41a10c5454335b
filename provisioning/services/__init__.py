"""Use cases: verbs on nouns.  Each public function takes the Runtime and plain values,
opens one unit of work, and returns models or plain data.  None imports Flask or RQ."""
