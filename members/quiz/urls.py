"""Members' pages of 题库与在线测评 (served by the CMS only, under /accounts/; never on the static site)."""

from django.urls import path

from . import views

urlpatterns = [
    path("quizzes/", views.quiz_list, name="quiz_list"),
    path("quizzes/<int:pk>/", views.quiz_detail, name="quiz_detail"),
    path("quizzes/attempts/<int:pk>/", views.quiz_attempt, name="quiz_attempt"),
]
