from django.urls import path

from . import public_views, views

app_name = "pd"

urlpatterns = [
    path("pd/sessions/", views.session_list, name="session_list"),
    path("pd/calendar/", views.calendar_view, name="calendar"),
    path("pd/sessions/new/", views.session_new, name="session_new"),
    path("pd/sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("pd/sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("pd/sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("pd/sessions/<int:pk>/checkin.svg", views.checkin_qr, name="checkin_qr"),
    path("pd/sessions/<int:pk>/checkin/", views.checkin_toggle, name="checkin_toggle"),
    path(
        "pd/sessions/<int:pk>/feedback-requests/",
        views.feedback_request,
        name="feedback_request",
    ),
    path("pd/schools/<int:pk>/roster/", views.roster_partial, name="roster_partial"),
    path("pd/schools/<int:pk>/leaders/", views.leaders, name="leaders"),
    path("pd/schools/<int:pk>/polls/", views.polls, name="polls"),
    path("pd/polls/<int:pk>/", views.poll_results, name="poll_results"),
    path("pd/reports/", views.reports, name="reports"),
    # Public token links: no account needed.
    path("pd/checkin/<str:token>/", public_views.checkin, name="checkin"),
    path("pd/checkin/<str:token>/code/", public_views.checkin_code, name="checkin_code"),
    path("pd/feedback/<str:token>/", public_views.feedback, name="feedback"),
    path("pd/feedback/<str:token>/my-link/", public_views.feedback_link, name="feedback_link"),
    path("pd/my-feedback/<str:token>/", public_views.feedback_personal, name="feedback_personal"),
    path("pd/polls/answer/<str:token>/", public_views.poll_answer, name="poll_answer"),
]
