"""Reads of the schools app. Each owns its query shape; callers run inside a scope."""

from django.db.models import Count, Q

from .models import TEACHING_POSITIONS, Membership, Role, School, StaffMember


def schools_overview():
    """Visible schools with enrollment and roster counts, highest need first."""
    return (
        School.objects.select_related("district")
        .with_enrollment()
        .annotate(
            staff_count=Count("staff", filter=Q(staff__active=True)),
            teaching_count=Count(
                "staff", filter=Q(staff__active=True, staff__position__in=TEACHING_POSITIONS)
            ),
        )
        .order_by("-economically_disadvantaged_pct", "name")
    )


def school_staff(school, *, search: str = "", include_inactive: bool = False):
    qs = StaffMember.objects.filter(school=school).select_related("user")
    if not include_inactive:
        qs = qs.active()
    if search:
        qs = qs.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("full_name")


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
