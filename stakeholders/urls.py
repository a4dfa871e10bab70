from django.urls import path

from . import views

app_name = "stakeholders"

urlpatterns = [
    path("stakeholders/", views.home, name="home"),
    path("stakeholders/surveys/new/", views.survey_new, name="survey_new"),
    path("stakeholders/surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("stakeholders/surveys/<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("stakeholders/surveys/<int:pk>/close/", views.survey_close, name="survey_close"),
    path("stakeholders/surveys/<int:pk>/preview/", views.survey_preview, name="survey_preview"),
    path("stakeholders/surveys/<int:pk>/questions/new/", views.question_add, name="question_add"),
    path("stakeholders/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path("stakeholders/questions/<int:pk>/move/", views.question_move, name="question_move"),
    path("stakeholders/questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path("stakeholders/surveys/<int:pk>/links/", views.survey_links, name="survey_links"),
    path("stakeholders/links/<int:pk>/qr.svg", views.link_qr, name="link_qr"),
    path("stakeholders/links/<int:pk>/handout/", views.link_handout, name="link_handout"),
    path("stakeholders/surveys/<int:pk>/results/", views.survey_results, name="survey_results"),
    path("stakeholders/surveys/<int:pk>/results.csv", views.survey_export, name="survey_export"),
    path("stakeholders/surveys/<int:pk>/you-said/", views.survey_you_said, name="survey_you_said"),
    path("stakeholders/schools/<int:pk>/", views.community, name="community"),
    path("stakeholders/schools/<int:pk>/stories/new/", views.story_add, name="story_add"),
    path("stakeholders/stories/<int:pk>/", views.story_edit, name="story_edit"),
    path(
        "stakeholders/schools/<int:pk>/partnerships/new/",
        views.partnership_add,
        name="partnership_add",
    ),
    path("stakeholders/partnerships/<int:pk>/", views.partnership_edit, name="partnership_edit"),
    path("stakeholders/schools/<int:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("stakeholders/schools/<int:pk>/log/", views.log_add, name="log_add"),
    # Public survey links: no account needed.
    path("s/<str:token>/", views.respond, name="respond"),
    path("s/<str:token>/thanks/", views.thanks, name="thanks"),
]
