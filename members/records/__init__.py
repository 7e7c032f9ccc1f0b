"""Study records: reading time, quizzes taken and 学习积分, for the member and their branch administrators (issue #16 item 3)."""
