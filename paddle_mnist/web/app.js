// The main page: a drawing pad and an upload, both sent to POST /api/predict,
// the answer drawn as ten probability bars plus the 28x28 image the model saw,
// then "Right" / "Wrong: it is ..." (feedback.js) to label the record the
// server kept. Text comes from I18n (i18n.js) in the page's language.
"use strict";

(() => {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const fileInput = document.getElementById("file");
  const statusLine = document.getElementById("status");
  const result = document.getElementById("result");
  const digitOut = document.getElementById("digit");
  const seen = document.getElementById("seen");
  const bars = document.getElementById("bars");
  const latency = document.getElementById("latency");
  const { t } = I18n;

  const PAPER = "#ffffff";
  // A felt-tip pen on a postcard: about MNIST's own stroke once the digit is
  // scaled to its 20x20 box, whatever the screen size (the canvas is fixed).
  const PEN_WIDTH = 0.065 * pad.width;
  const LIVE_INTERVAL_MS = 200;  // while drawing, predict at most this often

  let hasInk = false;
  let showingUpload = false;
  let inFlight = false;
  let queued = null;     // the newest request waiting for the one in flight
  let generation = 0;    // bumps on clear/upload so late answers to old input are dropped
  let lastSent = 0;
  let classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];  // until /api/health answers
  let health = null;
  let shown = null;      // the answer on display, re-rendered when the language changes
  let status = { key: "status.start", values: {}, error: false };

  function clearPad() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    showingUpload = false;
  }

  function setStatus(key, values = {}, error = false) {
    status = { key, values, error };
    statusLine.title = "";
    renderStatus();
  }

  function renderStatus() {
    statusLine.textContent = status.text || t(status.key, status.values);
    statusLine.classList.toggle("error", status.error);
  }

  function reset(key, values) {
    generation += 1;
    queued = null;
    shown = null;
    clearPad();
    digitOut.textContent = "?";
    delete digitOut.dataset.digit;
    seen.removeAttribute("src");
    latency.textContent = "";
    Feedback.hide();
    drawBars(null, null);
    setStatus(key, values);
    updateState();
  }

  const pen = Pen.attach(pad, PEN_WIDTH, {
    start() {
      if (showingUpload) reset("status.drawing");
      lastSent = performance.now();  // the first live guess waits for more than a dot
      hasInk = true;
    },
    move() {
      if (performance.now() - lastSent > LIVE_INTERVAL_MS) predictDrawing();
    },
    end: () => predictDrawing(),
  });

  document.getElementById("clear").addEventListener("click", () => {
    reset("status.cleared");
  });

  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    fileInput.value = "";  // choosing the same file again still fires "change"
    if (!file) return;
    reset("status.uploaded", { name: file.name });
    showUpload(file);
    const form = new FormData();
    form.append("file", file, file.name);
    send(form, {}, false);
  });

  // The photo is shown on the pad for reference; the server gets the original file.
  function showUpload(file) {
    const url = URL.createObjectURL(file);
    const picture = new Image();
    picture.onload = () => {
      const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
      const w = picture.width * scale;
      const h = picture.height * scale;
      ctx.drawImage(picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
      URL.revokeObjectURL(url);
    };
    picture.onerror = () => URL.revokeObjectURL(url);
    picture.src = url;
    showingUpload = true;
  }

  function predictDrawing() {
    if (!hasInk) return;
    lastSent = performance.now();
    const mine = generation;
    const preview = pen.isDrawing();  // a guess while the pen moves is not kept as a record
    result.dataset.state = "busy";  // set now: toBlob answers asynchronously
    pad.toBlob((blob) => {
      if (mine === generation) send(blob, { "Content-Type": "image/png" }, preview);
      else updateState();
    }, "image/png");
  }

  // One request at a time; while one runs only the newest drawing waits.
  function send(body, headers, preview) {
    if (inFlight) {
      queued = { body, headers, preview };
      updateState();
      return;
    }
    inFlight = true;
    updateState();
    const mine = generation;
    fetch(preview ? "/api/predict?preview=1" : "/api/predict", { method: "POST", body, headers })
      .then(async (response) => {
        const answer = await response.json().catch(() => ({}));
        if (mine !== generation) return;
        if (response.ok) show(answer);
        // half a stroke may not be a digit yet; only the finished drawing's error counts
        else if (!pen.isDrawing() && !queued) showError(answer, response.status);
      })
      .catch((error) => {
        if (mine === generation) showError({ code: "unreachable", detail: error.message });
      })
      .finally(() => {
        inFlight = false;
        const next = queued;
        queued = null;
        if (next) send(next.body, next.headers, next.preview);
        else updateState();
      });
  }

  function updateState() {
    result.dataset.state = inFlight || queued ? "busy" : "idle";
  }

  function show(answer) {
    shown = answer;
    digitOut.textContent = answer.label;
    digitOut.dataset.digit = String(answer.digit);
    seen.src = `data:image/png;base64,${answer.image}`;
    renderLatency();
    drawBars(answer.probabilities, answer.digit);
    if (answer.id === undefined) Feedback.hide();
    else Feedback.show(answer.id, answer.label, classNames);
    if (!showingUpload) setStatus("status.keep");
    else if (status.key) setStatus(status.key, status.values);  // keeps "Uploaded x"
  }

  function renderLatency() {
    latency.textContent = shown ? t("result.latency", { ms: shown.latency_ms.toFixed(1) }) : "";
  }

  function showError(answer, code) {
    shown = null;
    digitOut.textContent = "?";
    delete digitOut.dataset.digit;
    Feedback.hide();
    drawBars(null, null);
    if (answer.code === "unreachable") setStatus("error.unreachable", { detail: answer.detail }, true);
    else {
      status = { text: I18n.errorText(answer, code), answer, code, error: true };
      renderStatus();
      statusLine.title = answer.error || "";
    }
  }

  function drawBars(probabilities, best) {
    Bars.draw(bars, classNames, probabilities, best);
  }

  function renderModel() {
    const line = document.getElementById("model");
    if (health === false) line.textContent = t("model.unreachable");
    else if (health) {
      line.textContent = t("model.info", { model: health.model, size: health.input.size,
                                           classes: classNames.length });
    }
  }

  I18n.onChange(() => {
    renderModel();
    renderLatency();
    if (status.answer) status.text = I18n.errorText(status.answer, status.code);
    renderStatus();
  });

  fetch("/api/health")
    .then((response) => response.json())
    .then((answer) => {
      health = answer;
      classNames = health.classes.map(String);
      drawBars(null, null);
      renderModel();
    })
    .catch(() => {
      health = false;
      renderModel();
    });

  clearPad();
  drawBars(null, null);
})();
