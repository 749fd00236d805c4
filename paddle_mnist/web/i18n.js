// What every page shares: its text from the server's table for the chosen
// language (one table per language under /static/i18n/), the language switch,
// error answers shown by their stable `code`, and the access-token sign-in.
"use strict";

const I18n = (() => {
  let strings = JSON.parse(document.getElementById("strings").textContent);
  const listeners = [];
  const ATTRIBUTES = ["aria-label", "alt", "placeholder"];

  function t(key, values = {}) {
    const text = key in strings ? strings[key] : key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function apply() {
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.dataset.i18n);
    }
    for (const attribute of ATTRIBUTES) {
      for (const element of document.querySelectorAll(`[data-i18n-${attribute}]`)) {
        element.setAttribute(attribute, t(element.getAttribute(`data-i18n-${attribute}`)));
      }
    }
  }

  // The page switches in place (a drawing is not lost); the cookie makes the
  // server render the next page in the same language.
  async function switchTo(language) {
    const response = await fetch(`/static/i18n/${encodeURIComponent(language)}.json`);
    if (!response.ok) return;
    strings = await response.json();
    document.documentElement.lang = language;
    document.cookie = `lang=${encodeURIComponent(language)}; path=/; max-age=31536000; samesite=lax`;
    apply();
    listeners.forEach((listener) => listener());
  }

  const select = document.getElementById("lang");
  if (select) select.addEventListener("change", () => switchTo(select.value));

  // An API error in the page's language: its code's text when the table has one.
  function errorText(answer, status) {
    if (answer && answer.code && `error.${answer.code}` in strings) return t(`error.${answer.code}`);
    return (answer && answer.error) || t("error.status", { status });
  }

  // Shows the token form; resolves once the server accepted the token (it then
  // keeps it in an HttpOnly cookie, so scripts never hold it).
  function signIn() {
    const form = document.getElementById("signin");
    const input = document.getElementById("token");
    const problem = document.getElementById("signin-error");
    form.hidden = false;
    input.focus();
    return new Promise((resolve) => {
      form.onsubmit = async (event) => {
        event.preventDefault();
        const response = await fetch("/api/session", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: input.value }),
        });
        if (response.ok) {
          form.hidden = true;
          input.value = "";
          problem.textContent = "";
          resolve();
        } else {
          problem.textContent = t("token.rejected");
        }
      };
    });
  }

  return { t, errorText, signIn, onChange: (listener) => listeners.push(listener) };
})();
