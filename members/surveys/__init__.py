"""Surveys (民意调查) and the feedback mailbox (对话信箱), built on Wagtail's form pages (issue #16 item 1)."""
