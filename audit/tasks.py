from celery import shared_task

from . import purge


@shared_task(acks_late=True)
def apply_retention() -> int:
    """Apply every district's retention rule. Idempotent: a second run finds nothing due."""
    return purge.apply_retention().students
