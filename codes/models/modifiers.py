"""CPT and HCPCS Level II modifiers, and the curated guidance on using one with a code."""

from django.db import models
from django.db.models import Q

from codes.choices import CodeStatus, ModifierLevel
from codes.models.billing_codes import BillingCode
from codes.models.releases import CodeSetRelease
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, current_rows


class Modifier(CuratedModel):
    """A two-character CPT or HCPCS Level II modifier."""

    code = models.CharField(max_length=2, unique=True)
    description = models.CharField(max_length=255)
    long_description = models.TextField(blank=True)
    level = models.CharField(max_length=8, choices=ModifierLevel.choices, default=ModifierLevel.HCPCS)
    status = models.CharField(max_length=12, choices=CodeStatus.choices, default=CodeStatus.ACTIVE, db_index=True)
    effective_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    action_code = models.CharField(max_length=1, blank=True)
    action_effective_date = models.DateField(
        null=True, blank=True, help_text="When the CMS action (add, change, discontinue...) took effect."
    )
    release = models.ForeignKey(CodeSetRelease, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    change_log = ChangeLogSpec("modifiers", keys=("code",))

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9]{2}$"),
                name="modifier_code_format",
                violation_error_message="A modifier is two capital letters or digits.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description}"


class ModifierGuidance(ReviewedModel):
    """When to report a modifier with a code. Reviewed: part of the code's change set.

    A row with no modifier is the "no modifier" guidance (the briefs print it as "00"): it says when
    the code is reported bare. Keeping it as a row without inventing a fake "00" modifier lets the
    table keep its order and wording while the modifier catalogue stays true to CMS.
    """

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="modifier_guidance")
    modifier = models.ForeignKey(
        Modifier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guidance",
        help_text="Leave empty for the 'no modifier' row.",
    )
    when_to_use = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    NO_MODIFIER_LABEL = "00"
    NO_MODIFIER_DESCRIPTION = "No modifier"

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "display_order", "id"]
        verbose_name = "modifier guidance"
        verbose_name_plural = "modifier guidance"
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["code", "modifier"],
                condition=current_rows(),
                name="modifierguidance_unique",
                violation_error_message="This modifier already has guidance for the code.",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(modifier__isnull=True) & current_rows(),
                name="modifierguidance_one_no_modifier",
                violation_error_message="The code already has a 'no modifier' row.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} / {self.modifier_label}"

    @property
    def modifier_label(self):
        return self.modifier.code if self.modifier_id else self.NO_MODIFIER_LABEL

    @property
    def modifier_description(self):
        return self.modifier.description if self.modifier_id else self.NO_MODIFIER_DESCRIPTION
