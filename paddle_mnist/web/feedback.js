// "Is it right?" under an answer: "Right" confirms the record the server kept,
// "Wrong: it is 0 ... 9" corrects it (POST /api/records/ID/label); pressing
// another digit relabels the same record. A server with a token asks for it
// once (I18n.signIn) and the label is sent again.
"use strict";

const Feedback = (() => {
  const { t } = I18n;
  const feedback = document.getElementById("feedback");
  const digitButtons = document.getElementById("digits");
  const saved = document.getElementById("saved");
  let answerLabel = null;

  function show(id, label, classNames) {
    answerLabel = label;
    feedback.hidden = false;
    feedback.dataset.record = String(id);
    saved.textContent = "";
    delete saved.dataset.label;
    digitButtons.replaceChildren(...classNames.map((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "digit-choice";
      button.textContent = name;
      button.dataset.label = name;
      button.addEventListener("click", () => send(id, name));
      return button;
    }));
  }

  function hide() {
    feedback.hidden = true;
    delete feedback.dataset.record;
  }

  document.getElementById("right").addEventListener("click", () => {
    if (feedback.dataset.record) send(Number(feedback.dataset.record), answerLabel);
  });

  async function send(id, label) {
    const response = await fetch(`/api/records/${id}/label`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ label }),
    }).catch((error) => ({ ok: false, status: 0,
                           json: async () => ({ code: "unreachable", detail: error.message }) }));
    if (response.status === 401) {
      await I18n.signIn();
      return send(id, label);
    }
    const answer = await response.json().catch(() => ({}));
    if (String(id) !== feedback.dataset.record) return;  // another answer is on display
    if (response.ok) {
      saved.dataset.label = answer.label;
      saved.classList.remove("error");
      render();
    } else {
      const reason = answer.code === "unreachable" ? t("error.unreachable", { detail: answer.detail })
        : I18n.errorText(answer, response.status);
      delete saved.dataset.label;
      saved.textContent = t("feedback.failed", { error: reason });
      saved.classList.add("error");
    }
  }

  function render() {
    for (const button of digitButtons.children) {
      button.setAttribute("aria-pressed", String(button.dataset.label === saved.dataset.label));
    }
    if (saved.dataset.label && feedback.dataset.record) {
      saved.textContent = t("feedback.saved", { id: feedback.dataset.record, label: saved.dataset.label });
    }
  }

  I18n.onChange(render);
  return { show, hide };
})();
