// The demo page: a drawing pad and an upload, both sent to POST /api/predict,
// and the answer drawn as ten probability bars plus the 28x28 image the model saw.
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

  const PAPER = "#ffffff";
  const INK = "#1b1f24";
  // A felt-tip pen on a postcard: about MNIST's own stroke once the digit is
  // scaled to its 20x20 box, whatever the screen size (the canvas is fixed).
  const PEN_WIDTH = 0.065 * pad.width;
  const LIVE_INTERVAL_MS = 200;  // while drawing, predict at most this often

  let drawing = false;
  let hasInk = false;
  let showingUpload = false;
  let last = null;
  let inFlight = false;
  let queued = null;     // the newest request waiting for the one in flight
  let generation = 0;    // bumps on clear/upload so late answers to old input are dropped
  let lastSent = 0;
  let classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];  // until /api/health answers

  function clearPad() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    showingUpload = false;
  }

  function reset(message) {
    generation += 1;
    queued = null;
    clearPad();
    digitOut.textContent = "?";
    delete digitOut.dataset.digit;
    seen.removeAttribute("src");
    latency.textContent = "";
    drawBars(null, null);
    statusLine.textContent = message;
    updateState();
  }

  // Pointer events cover mouse, touch and pen alike; coordinates are scaled
  // because CSS may show the canvas smaller or larger than its pixel size.
  function pointOf(event) {
    const box = pad.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (pad.width / box.width),
      y: (event.clientY - box.top) * (pad.height / box.height),
    };
  }

  function stroke(from, to) {
    ctx.strokeStyle = INK;
    ctx.lineWidth = PEN_WIDTH;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }

  pad.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    if (showingUpload) reset("Drawing.");
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    lastSent = performance.now();  // the first live guess waits for more than a dot
    last = pointOf(event);
    stroke(last, last);  // a tap leaves a dot, as a pen would
    hasInk = true;
  });

  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    // coalesced events keep fast strokes smooth where the browser batches moves
    const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const move of coalesced.length ? coalesced : [event]) {
      const point = pointOf(move);
      stroke(last, point);
      last = point;
    }
    if (performance.now() - lastSent > LIVE_INTERVAL_MS) predictDrawing();
  });

  function endStroke() {
    if (!drawing) return;
    drawing = false;
    predictDrawing();
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  document.getElementById("clear").addEventListener("click", () => {
    reset("Cleared. Draw one digit, as large as the box.");
  });

  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    fileInput.value = "";  // choosing the same file again still fires "change"
    if (!file) return;
    reset(`Uploaded ${file.name}.`);
    showUpload(file);
    const form = new FormData();
    form.append("file", file, file.name);
    send(form, {});
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
    result.dataset.state = "busy";  // set now: toBlob answers asynchronously
    pad.toBlob((blob) => {
      if (mine === generation) send(blob, { "Content-Type": "image/png" });
      else updateState();
    }, "image/png");
  }

  // One request at a time; while one runs only the newest drawing waits.
  function send(body, headers) {
    if (inFlight) {
      queued = { body, headers };
      updateState();
      return;
    }
    inFlight = true;
    updateState();
    const mine = generation;
    fetch("/api/predict", { method: "POST", body, headers })
      .then(async (response) => {
        const answer = await response.json().catch(() => ({}));
        if (mine !== generation) return;
        if (response.ok) show(answer);
        // half a stroke may not be a digit yet; only the finished drawing's error counts
        else if (!drawing && !queued) {
          showError(answer.error || `the server answered ${response.status}`);
        }
      })
      .catch((error) => {
        if (mine === generation) showError(`cannot reach the server (${error.message})`);
      })
      .finally(() => {
        inFlight = false;
        const next = queued;
        queued = null;
        if (next) send(next.body, next.headers);
        else updateState();
      });
  }

  function updateState() {
    result.dataset.state = inFlight || queued ? "busy" : "idle";
  }

  function show(answer) {
    digitOut.textContent = answer.label;
    digitOut.dataset.digit = String(answer.digit);
    seen.src = `data:image/png;base64,${answer.image}`;
    latency.textContent = `Answered in ${answer.latency_ms.toFixed(1)} ms (preprocessing + model).`;
    drawBars(answer.probabilities, answer.digit);
    statusLine.classList.remove("error");
    if (!showingUpload) statusLine.textContent = "Keep drawing, or clear and try another digit.";
  }

  function showError(message) {
    digitOut.textContent = "?";
    delete digitOut.dataset.digit;
    drawBars(null, null);
    statusLine.textContent = message;
    statusLine.classList.add("error");
  }

  function drawBars(probabilities, best) {
    bars.replaceChildren(...classNames.map((name, index) => {
      const p = probabilities ? probabilities[index] : 0;
      const column = document.createElement("div");
      column.className = index === best ? "bar best" : "bar";
      column.title = `${name}: ${(100 * p).toFixed(2)}%`;
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = probabilities ? `${Math.round(100 * p)}%` : "";
      const track = document.createElement("div");
      track.className = "track";
      const fill = document.createElement("div");
      fill.className = "fill";
      fill.style.height = `${(100 * p).toFixed(1)}%`;
      track.append(fill);
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = name;
      column.append(value, track, label);
      return column;
    }));
  }

  fetch("/api/health")
    .then((response) => response.json())
    .then((health) => {
      classNames = health.classes.map(String);
      drawBars(null, null);
      const input = health.input;
      document.getElementById("model").textContent =
        `Model: ${health.model}, input ${input.size}x${input.size}, ${classNames.length} classes.`;
    })
    .catch(() => {
      document.getElementById("model").textContent = "The model server is not reachable.";
    });

  clearPad();
  drawBars(null, null);
})();
