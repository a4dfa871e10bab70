from .models import Role
from .scoping import NO_ACCESS


def access(request):
    """Expose the user's roles to templates so navigation shows what they may use."""
    acc = getattr(request, "access", NO_ACCESS)
    roles = acc.all_roles
    return {
        "access": acc,
        "nav": {
            "district_admin": Role.DISTRICT_ADMIN in roles,
            "principal": Role.PRINCIPAL in roles,
            "coach": Role.COACH in roles,
            "tech_staff": Role.TECH_STAFF in roles,
            "any_role": bool(roles),
        },
    }
