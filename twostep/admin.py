"""二段階認証 on the support site (/support/): no page of its own.

django-otp and django-otp-webauthn register model pages for their devices that would
show support staff every administrator's authenticator secret (and a QR code of it),
the recovery codes, the passkeys' credential data, and would let them add a factor to
any account unseen. They are taken off the support site here. What support staff may
do with an administrator's factors is the audited reset, mailed to the administrator
(the user ID list's action, accounts/admin.py → twostep.services.two_step_reset); the
administrator's own page there shows how many factors they have, never one of them.
"""

from django.contrib import admin

# Imported so that their pages are registered before they are taken off, whatever the
# order of INSTALLED_APPS.
from django_otp.plugins.otp_static import admin as _static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

SECOND_FACTORS = (TOTPDevice, StaticDevice, WebAuthnCredential)

for model in SECOND_FACTORS:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
