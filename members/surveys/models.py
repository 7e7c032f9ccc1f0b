"""Models of 问卷与信箱."""
