"""A school added to a district joins that district's whole-district initiatives.

``services.initiative_create`` links every school that exists when a whole-district
initiative is created; this keeps the promise of "every school of the district" for the
schools created afterwards.
"""

from django.db.models.signals import post_save

from schools.models import School


def _join_whole_district_initiatives(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    from .models import Initiative

    links = Initiative.schools.through
    ids = Initiative.unscoped.filter(
        district_id=instance.district_id, whole_district=True
    ).values_list("pk", flat=True)
    links.objects.bulk_create(links(initiative_id=pk, school_id=instance.pk) for pk in ids)


def connect() -> None:
    post_save.connect(
        _join_whole_district_initiatives,
        sender=School,
        dispatch_uid="initiatives:School:whole_district",
    )
