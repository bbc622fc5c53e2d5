"""Sign-in helpers shared by the login view and django-axes."""


def axes_username(request, credentials):
    """Throttle per login ID case-insensitively: 'Taro' and 'taro' are one account."""
    source = credentials if credentials else request.POST
    return (source.get("username") or "").strip().lower()
