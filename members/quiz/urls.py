"""Members' pages of 题库与在线测评 (served by the CMS only, under /accounts/; never on the static site)."""

urlpatterns: list = []
