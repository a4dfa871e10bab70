"""Reads of the schools app. Each owns its query shape; callers run inside a scope."""

from django.db.models import Count, Q

from .models import TEACHING_POSITIONS, Membership, Role, School, StaffMember

# Every list of a district's schools (1,800 at the largest) pages by this many.
SCHOOLS_PER_PAGE = 50


def schools_by_need(schools=None):
    """Schools (visible ones by default) with enrollment, highest need first.

    No roster counts here: grouping the staff of every school to show a page of them reads
    the whole district's roster; ``with_roster_counts`` counts for the schools shown.
    """
    schools = School.objects.all() if schools is None else schools
    return (
        schools.select_related("district")
        .with_enrollment()
        .order_by("-economically_disadvantaged_pct", "name", "pk")
    )


def with_roster_counts(schools) -> list[School]:
    """``schools`` as a list, each with ``staff_count`` and ``teaching_count`` (one query)."""
    schools = list(schools)
    counts = {
        row["school_id"]: row
        for row in StaffMember.objects.filter(school__in=[s.pk for s in schools], active=True)
        .order_by()
        .values("school_id")
        .annotate(
            staff=Count("pk"), teaching=Count("pk", filter=Q(position__in=TEACHING_POSITIONS))
        )
    }
    for school in schools:
        row = counts.get(school.pk, {})
        school.staff_count = row.get("staff", 0)
        school.teaching_count = row.get("teaching", 0)
    return schools


def school_staff(school, *, search: str = "", include_inactive: bool = False):
    qs = StaffMember.objects.filter(school=school).select_related("user")
    if not include_inactive:
        qs = qs.active()
    if search:
        qs = qs.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("full_name", "pk")  # the pk keeps pages of namesakes apart


def school_members(school):
    """Accounts with a role at the school, directly or district-wide."""
    return (
        Membership.objects.filter(
            Q(school=school) | Q(school__isnull=True, district=school.district)
        )
        .select_related("user", "school")
        .order_by("role", "user__email")
    )


def district_members(district):
    return (
        Membership.objects.filter(district=district)
        .select_related("user", "school", "invited_by")
        .order_by("user__email", "role")
    )


def district_admin_districts(access):
    """Districts in which the user is a district admin."""
    from .models import District

    qs = District.objects.all()
    if access.unrestricted:
        return qs
    return qs.filter(
        memberships__user_id=access.user_id,
        memberships__role=Role.DISTRICT_ADMIN,
        memberships__school__isnull=True,
    ).distinct()
