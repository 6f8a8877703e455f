"""CMS places of service, and the typical sites where a code is performed."""

from django.db import models
from django.db.models import Q

from codes.choices import SettingType
from codes.models.billing_codes import BillingCode
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, current_rows


class PlaceOfService(CuratedModel):
    """A CMS place-of-service code (two digits)."""

    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=255)
    setting = models.CharField(
        max_length=16,
        choices=SettingType.choices,
        help_text="Whether Medicare pays the facility or non-facility rate here.",
    )
    description = models.TextField(blank=True)

    change_log = ChangeLogSpec("places-of-service", keys=("code",))

    class Meta:
        ordering = ["code"]
        verbose_name = "place of service"
        verbose_name_plural = "places of service"
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{2}$"),
                name="pos_code_format",
                violation_error_message="A place-of-service code is two digits.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class SiteOfService(ReviewedModel):
    """Where a code is typically performed. Reviewed: part of the code's change set."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="sites_of_service")
    place_of_service = models.ForeignKey(PlaceOfService, on_delete=models.PROTECT, related_name="sites")
    setting_note = models.CharField(
        max_length=255, blank=True, help_text="E.g. 'catheterization laboratory or hybrid operating room'."
    )
    is_typical = models.BooleanField("typical", default=True)

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "place_of_service__code"]
        verbose_name = "site of service"
        verbose_name_plural = "sites of service"
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["code", "place_of_service"],
                condition=current_rows(),
                name="siteofservice_unique",
                violation_error_message="This place of service is already listed for the code.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} at {self.place_of_service}"
