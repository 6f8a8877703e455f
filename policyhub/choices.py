"""Vocabularies shared by both apps."""

from django.db import models


class WorkflowState(models.TextChoices):
    """Where a reviewed item stands; only PUBLISHED content reaches readers and the API."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"
