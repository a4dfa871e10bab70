from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from schools.models import District
from schools.scoping import require_district_admin, scoped_object

from . import selectors, services
from .forms import ProviderForm, SignInSettingsForm, StartForm
from .models import Provider


def _endpoints(request, provider: Provider) -> dict:
    """What the district admin gives the provider: redirect URI, or SP entity and ACS."""
    key = provider.key
    if provider.is_saml:
        metadata = request.build_absolute_uri(reverse("saml_metadata", args=[key]))
        return {
            "entity_id": metadata,
            "metadata": metadata,
            "acs": request.build_absolute_uri(reverse("saml_acs", args=[key])),
        }
    return {
        "redirect_uri": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": key})
        )
    }


@scoped_object(District, methods=["GET", "POST"])
def sign_in_settings(request, district):
    require_district_admin(request.access, district)
    settings = services.ensure_settings(district)
    form = SignInSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_settings(settings=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Sign-in settings were saved.")
            return redirect("identity:settings", pk=district.pk)
    providers = [(p, _endpoints(request, p)) for p in selectors.providers_of(district)]
    return render(
        request,
        "identity/settings.html",
        {"form": form, "district": district, "providers": providers},
    )


def _provider_page(request, district, provider):
    form = ProviderForm(request.POST or None, instance=provider, district=district)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_provider(
                provider=form.save(commit=False),
                secret=form.cleaned_data.get("secret") or None,
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{saved.name} was saved.")
            return redirect("identity:settings", pk=district.pk)
    return render(
        request,
        "identity/provider_form.html",
        {
            "form": form,
            "district": district,
            "provider": provider if provider.pk else None,
            "endpoints": _endpoints(request, provider) if provider.pk else None,
            "unreadable": provider.pk and provider.has_secret and provider.secret() is None,
        },
        status=400 if form.is_bound else 200,
    )


@never_cache
@scoped_object(District, methods=["GET", "POST"])
def provider_new(request, district):
    require_district_admin(request.access, district)
    return _provider_page(request, district, Provider(district=district))


def _providers():
    return Provider.objects.select_related("district")


@never_cache
@scoped_object(_providers, methods=["GET", "POST"])
def provider_edit(request, provider):
    require_district_admin(request.access, provider.district)
    return _provider_page(request, provider.district, provider)


@scoped_object(_providers, methods=["POST"])
def provider_delete(request, provider):
    require_district_admin(request.access, provider.district)
    services.delete_provider(provider=provider, by=request.user)
    messages.success(request, f"{provider.name} was removed.")
    return redirect("identity:settings", pk=provider.district_id)


@require_http_methods(["GET", "POST"])
def start(request):
    """Sign in with the district's account: the address tells which district's providers."""
    form = StartForm(request.POST or None)
    providers = None
    if request.method == "POST" and form.is_valid():
        providers = [
            (p, p.login_url()) for p in selectors.providers_for_email(form.cleaned_data["email"])
        ]
    response = render(
        request,
        "identity/start.html",
        {
            "form": form,
            "providers": providers,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
    if providers:
        # django-csp: this page's buttons lead, through our redirect, to the providers.
        response._csp_update = {
            "form-action": selectors.sign_in_origins(p for p, _url in providers)
        }
    return response
