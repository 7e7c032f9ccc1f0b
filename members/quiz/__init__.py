"""The question bank (题库) and online assessment (在线测评) (issue #16 item 2)."""
