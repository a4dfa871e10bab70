"""The seven pillars of digital leadership. These keys are used everywhere: in models,
JSON, URLs and settings."""

from django.db import models


class Pillar(models.TextChoices):
    ENGAGEMENT = "engagement", "Student engagement, learning & outcomes"
    SPACES = "spaces", "Learning spaces & environments"
    PROFESSIONAL_LEARNING = "professional_learning", "Professional learning"
    COMMUNICATION = "communication", "Communication"
    PUBLIC_RELATIONS = "public_relations", "Public relations"
    BRANDING = "branding", "Branding"
    OPPORTUNITY = "opportunity", "Opportunity"
