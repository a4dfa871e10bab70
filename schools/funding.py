"""Where a district's money comes from: the same list for a device's purchase (equity) and
an initiative's budget line (initiatives), so the two can be added up."""

from django.db import models


class FundingSource(models.TextChoices):
    GENERAL_FUND = "general_fund", "General fund"
    TITLE_I = "title_i", "Title I"
    TITLE_IV_A = "title_iv_a", "Title IV-A"
    E_RATE = "e_rate", "E-Rate"
    GRANT = "grant", "Grant"
    DONATION = "donation", "Donation"
    OTHER = "other", "Other"
