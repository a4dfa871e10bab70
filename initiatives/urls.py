from django.urls import path

from . import views

app_name = "initiatives"

urlpatterns = [
    path("initiatives/", views.initiative_list, name="list"),
    path("initiatives/new/", views.initiative_new, name="new"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="detail"),
    path("initiatives/<int:pk>/edit/", views.initiative_edit, name="edit"),
    path("initiatives/<int:pk>/move/", views.initiative_move, name="move"),
    path("initiatives/<int:pk>/summary/", views.initiative_summary, name="summary"),
    path("initiatives/<int:pk>/budget.csv", views.budget_export, name="budget_export"),
    path("initiatives/<int:pk>/milestones/new/", views.milestone_add, name="milestone_add"),
    path("initiatives/milestones/<int:pk>/", views.milestone_edit, name="milestone_edit"),
    path("initiatives/<int:pk>/budget/new/", views.budget_add, name="budget_add"),
    path("initiatives/budget/<int:pk>/", views.budget_edit, name="budget_edit"),
    path("initiatives/<int:pk>/sign-offs/new/", views.signoff_add, name="signoff_add"),
    path("initiatives/<int:pk>/compliance/new/", views.compliance_add, name="compliance_add"),
    path("initiatives/compliance/<int:pk>/", views.compliance_edit, name="compliance_edit"),
    path("initiatives/schools/<int:pk>/", views.school_initiatives, name="school"),
    path("initiatives/schools/<int:pk>/swot/", views.swot_list, name="swot_list"),
    path("initiatives/swot/<int:pk>/", views.swot_edit, name="swot_edit"),
    path("initiatives/schools/<int:pk>/reflections/", views.reflections, name="reflections"),
]
