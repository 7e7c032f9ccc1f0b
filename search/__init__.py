"""Chinese full-text search for 书苑: engine contract, engines, indexing and query services."""
