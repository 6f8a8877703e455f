"""`python manage.py queue_webhook_deliveries`: queue a delivery to every enabled webhook endpoint.

Deliveries are queued when changes commit; run this from cron (every few minutes) as a safety net
for a notification lost with a process that died between its commit and the queueing.
"""

from django.core.management.base import BaseCommand

from policyhub import webhooks
from policyhub.webhooks import WebhookEndpoint
from policyhub.wording import counted


class Command(BaseCommand):
    help = "Queue a delivery of pending changes to every enabled webhook endpoint (a worker sends them)."

    def handle(self, *args, **options):
        queued = webhooks.queue_deliveries(WebhookEndpoint.objects.all())
        self.stdout.write(f"Queued delivery to {counted(queued, 'webhook endpoint')}.")
