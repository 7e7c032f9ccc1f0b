"""Members' pages of 学习记录 (served by the CMS only, under /accounts/; never on the static site)."""

from django.urls import path

from . import views

urlpatterns = [
    path("study/", views.my_study, name="study_records_mine"),
]
