// The history page without the server's token: sign in, then show the history.
"use strict";

I18n.signIn().then(() => window.location.reload());
