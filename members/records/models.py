"""Models of 学习记录."""
