// 二段階認証の設定: once django-otp-webauthn's script has registered a passkey, the page
// is loaded again, so that the new passkey appears in the list with its name field
// (and the console's message, set by the registration, is shown).
"use strict";

document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
