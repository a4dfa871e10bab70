from django.core.management.base import BaseCommand

from core import queue
from core.models import PendingTask


class Command(BaseCommand):
    help = "Re-send the tasks held while the broker (Redis) was unreachable."

    def handle(self, *args, **options):
        sent = queue.flush()
        left = PendingTask.objects.count()
        self.stdout.write(f"Sent {sent} held task(s); {left} still held.")
