"""Members taking part (issue #16): who a member is in the organisation tree, reminders sent to them,
and, in time, surveys, the feedback mailbox, the question bank and study records."""
