// Number mode: a wide pad (or an uploaded photo) read as a whole number by
// POST /api/read. Each digit's box is drawn over the writing; pointing at a
// box (or clicking, or focusing it with the keyboard) shows that digit's
// probabilities and the 28x28 the model saw. The number stays editable, so
// "Wrong: it is ..." stores the corrected number on the record.
"use strict";

(() => {
  const { t } = I18n;
  const $ = (id) => document.getElementById(id);
  const pad = $("number-pad");
  const ctx = pad.getContext("2d");
  const boxes = $("boxes");
  const output = $("number");
  const statusLine = $("number-status");
  const feedback = $("number-feedback");
  const labelInput = $("number-label");
  const saved = $("number-saved");
  const PEN_WIDTH = 0.06 * pad.height;  // as the digit pad: about MNIST's stroke per digit
  const READ_AFTER_MS = 700;  // a pause this long after a stroke: the number is read

  let timer = null;
  let generation = 0;
  let upload = null;     // {scale, left, top} of a photo drawn on the pad
  let shown = null;      // the answer on display
  let detail = -1;       // the digit whose probabilities are shown
  let status = { key: "number.start", values: {} };

  function setStatus(key, values = {}, text = null) {
    status = { key, values, text };
    statusLine.textContent = text || t(key, values);
    statusLine.classList.toggle("error", Boolean(text));
  }

  function clear(key) {
    generation += 1;
    clearTimeout(timer);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    upload = null;
    show(null);
    setStatus(key);
  }

  Pen.attach(pad, PEN_WIDTH, {
    start() {
      if (upload) clear("number.drawing");
      clearTimeout(timer);
    },
    move() {},
    end() {  // read once the pen has rested a moment, not after every stroke
      clearTimeout(timer);
      timer = setTimeout(() => pad.toBlob((blob) => read(blob, { "Content-Type": "image/png" }),
                                          "image/png"), READ_AFTER_MS);
    },
  });
  $("number-clear").addEventListener("click", () => clear("number.cleared"));

  $("number-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    clear("number.start");
    setStatus("status.uploaded", { name: file.name });
    const url = URL.createObjectURL(file);
    const picture = new Image();
    picture.onload = () => {
      const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
      upload = { scale, left: (pad.width - picture.width * scale) / 2,
                 top: (pad.height - picture.height * scale) / 2 };
      ctx.drawImage(picture, upload.left, upload.top, picture.width * scale,
                    picture.height * scale);
      URL.revokeObjectURL(url);
      if (shown) show(shown);  // the boxes follow the photo once it is drawn
    };
    picture.src = url;
    const form = new FormData();
    form.append("file", file, file.name);
    read(form, {});
  });

  async function read(body, headers) {
    const mine = generation;
    $("number-result").dataset.state = "busy";
    const response = await fetch("/api/read", { method: "POST", body, headers })
      .catch((error) => ({ ok: false, json: async () => ({ code: "unreachable",
                                                           detail: error.message }) }));
    const answer = await response.json().catch(() => ({}));
    if (mine !== generation) return;
    $("number-result").dataset.state = "idle";
    if (response.ok) {
      show(answer);
      setStatus(upload ? status.key : "number.keep", status.values);
    } else {
      show(null);
      setStatus("", {}, answer.code === "unreachable" ?
        t("error.unreachable", { detail: answer.detail }) : I18n.errorText(answer, response.status));
    }
  }

  // Boxes come in the uploaded picture's pixels: the pad's own for a drawing,
  // the photo's for an upload (shown scaled and centred on the pad).
  function onPad(box) {
    const [x, y, w, h] = box;
    const s = upload ? upload.scale : 1;
    const left = upload ? upload.left : 0;
    const top = upload ? upload.top : 0;
    return [(left + x * s) / pad.width, (top + y * s) / pad.height, w * s / pad.width,
            h * s / pad.height].map((share) => `${(100 * share).toFixed(2)}%`);
  }

  function show(answer) {
    shown = answer;
    detail = -1;
    output.textContent = answer ? answer.lines.join(" ") : "?";
    $("number-latency").textContent = answer ?
      t("result.latency", { ms: answer.latency_ms.toFixed(1) }) : "";
    boxes.replaceChildren(...(answer ? answer.digits : []).map((digit, index) => {
      const box = document.createElement("button");
      box.type = "button";
      box.className = digit.probability >= 0.9 ? "box" : "box unsure";
      box.dataset.digit = digit.digit;
      [box.style.left, box.style.top, box.style.width, box.style.height] = onPad(digit.box);
      box.textContent = digit.digit;
      box.setAttribute("aria-label", t("number.box", { digit: digit.digit,
        p: (100 * digit.probability).toFixed(1) }));
      for (const kind of ["pointerenter", "focus", "click"]) {
        box.addEventListener(kind, () => showDigit(index));
      }
      return box;
    }));
    showDigit(answer && answer.digits.length ? 0 : -1);
    feedback.hidden = !answer || answer.id === undefined;
    labelInput.value = answer ? answer.digits.map((digit) => digit.digit).join("") : "";
    saved.textContent = "";
  }

  function showDigit(index) {
    detail = index;
    const digit = shown && index >= 0 ? shown.digits[index] : null;
    for (const [i, box] of [...boxes.children].entries()) box.classList.toggle("chosen", i === index);
    const seen = $("number-seen");
    if (digit) seen.src = `data:image/png;base64,${digit.image}`;
    else seen.removeAttribute("src");
    const names = digit ? digit.probabilities.map((_, i) => String(i)) : [];
    Bars.draw($("number-bars"), names.length ? names : [..."0123456789"],
              digit ? digit.probabilities : null, digit ? Number(digit.digit) : null);
    $("number-detail").textContent = digit ? t("number.detail", {
      position: index + 1, digit: digit.digit, p: (100 * digit.probability).toFixed(1) }) : "";
  }

  async function label(value) {
    const id = shown && shown.id;
    if (id === undefined || id === null) return;
    const response = await fetch(`/api/records/${id}/label`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ label: value }) }).catch(() => null);
    if (response && response.status === 401) {
      await I18n.signIn();
      return label(value);
    }
    const answer = response ? await response.json().catch(() => ({})) : { code: "unreachable" };
    if (!shown || shown.id !== id) return;
    saved.classList.toggle("error", !(response && response.ok));
    saved.textContent = response && response.ok ? t("feedback.saved", { id, label: answer.label })
      : t("feedback.failed", { error: I18n.errorText(answer, response ? response.status : 0) });
  }

  $("number-right").addEventListener("click", () => {
    if (shown) label(shown.digits.map((digit) => digit.digit).join(""));
  });
  feedback.addEventListener("submit", (event) => {
    event.preventDefault();
    label(labelInput.value.trim());
  });

  // The two modes share the page; #number in the address opens this one.
  function mode(number) {
    $("digit-mode").hidden = number;
    $("number-mode").hidden = !number;
    $("mode-digit").setAttribute("aria-selected", String(!number));
    $("mode-number").setAttribute("aria-selected", String(number));
    history.replaceState(null, "", number ? "#number" : location.pathname);
  }
  $("mode-digit").addEventListener("click", () => mode(false));
  $("mode-number").addEventListener("click", () => mode(true));

  I18n.onChange(() => {
    if (shown) {
      const keep = detail;
      show(shown);
      showDigit(keep);
    }
    setStatus(status.key, status.values, status.text);
  });

  clear("number.start");
  if (location.hash === "#number") mode(true);
})();
