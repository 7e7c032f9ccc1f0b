"""Models of 题库与在线测评."""
