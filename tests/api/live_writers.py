"""Run by the live sync test as its own process: curators and an import changing published data
while a client syncs. Every kind of change: created, edited, published, retired, deleted, and a
release import whose transaction commits seconds after it wrote."""

import sys
import time

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from codes.models import DiagnosisCode  # noqa: E402
from payers.models import CoverageCriterion, FollowUpGap, Payer  # noqa: E402
from policyhub.choices import WorkflowState  # noqa: E402


def main(release: str, rounds: int) -> None:
    for i in range(rounds):
        payer = Payer.objects.order_by("id")[i % Payer.objects.count()]
        payer.name = f"{payer.name.split(' #')[0]} #{i}"
        payer.save()
        DiagnosisCode.objects.create(code=f"X{i:02d}9", description=f"Live code {i}")
        if i % 3 == 1:
            DiagnosisCode.objects.get(code=f"X{i - 1:02d}9").delete()
        published = CoverageCriterion.objects.filter(state=WorkflowState.PUBLISHED, revision_of=None).first()
        if published and i % 2:
            published.state = WorkflowState.RETIRED
            published.save()
        retired = CoverageCriterion.objects.filter(state=WorkflowState.RETIRED).last()
        if retired and not i % 2:
            retired.state = WorkflowState.PUBLISHED
            retired.save()
        gap = FollowUpGap.objects.order_by("id").last()
        if gap and i % 4 == 3:
            gap.delete()
        if i == rounds // 2:
            with transaction.atomic():  # the import commits late: seconds after its rows were written
                call_command("import_icd10cm", release, verbosity=0)
                time.sleep(4)
        time.sleep(0.2)
    print("writers done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
