// The history page: recent records from GET /api/records (the image the model
// saw, its answer, the user's correction), filtered to corrected or wrong ones,
// paged back with "Older records", and the live model's figures from /api/stats.
"use strict";

(() => {
  const { t } = I18n;
  const body = document.querySelector("#records tbody");
  const corrected = document.getElementById("corrected");
  const wrong = document.getElementById("wrong");
  const older = document.getElementById("older");
  const empty = document.getElementById("empty");
  const problem = document.getElementById("error");
  const statsLine = document.getElementById("stats");
  let next = null;
  let stats = null;
  let failure = null;

  function query() {
    const params = new URLSearchParams({ limit: "20" });
    if (corrected.checked) params.set("labelled", "true");
    if (wrong.checked) params.set("wrong", "true");
    return `/api/records?${params}`;
  }

  async function load(url, append) {
    const response = await fetch(url).catch(() => null);
    const answer = response ? await response.json().catch(() => ({})) : { code: "unreachable" };
    if (!response || !response.ok) {
      failure = { answer, status: response ? response.status : 0 };
      renderFailure();
      return;
    }
    failure = null;
    renderFailure();
    if (!append) body.replaceChildren();
    answer.records.forEach((record) => body.append(row(record)));
    next = answer.next;
    older.hidden = !next;
    empty.hidden = body.children.length > 0;
  }

  function renderFailure() {
    problem.textContent = !failure ? "" : failure.answer.code === "unreachable"
      ? t("error.unreachable", { detail: "fetch" }) : I18n.errorText(failure.answer, failure.status);
  }

  function cell(content, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    return td;
  }

  function row(record) {
    const tr = document.createElement("tr");
    tr.dataset.record = String(record.id);
    const images = document.createElement("span");
    images.className = "seen-list";
    for (const image of record.images) {
      const img = document.createElement("img");
      img.className = "seen-small";
      img.width = 28;
      img.height = 28;
      img.src = `data:image/png;base64,${image.png}`;
      img.alt = record.result;
      images.append(img);
    }
    const label = document.createElement("span");
    label.className = "label";
    label.dataset.label = record.label === null ? "" : record.label;
    label.dataset.state = record.label === null ? "unlabelled" : record.wrong ? "corrected" : "confirmed";
    const time = cell("", "time");
    time.dataset.time = record.created_at;
    renderTime(time);
    tr.append(cell(String(record.id)), time,
              cell(images), cell(record.result, "answer"), cell(label),
              cell(`${record.model.name} ${record.model.version.slice(0, 8)}`, "muted"));
    renderLabel(label);
    return tr;
  }

  function renderTime(td) {
    td.textContent = new Date(td.dataset.time).toLocaleString(document.documentElement.lang);
  }

  function renderLabel(label) {
    const state = label.dataset.state;
    label.textContent = state === "unlabelled" ? t("history.unlabelled")
      : `${label.dataset.label} (${t(state === "corrected" ? "history.corrected_mark" : "history.confirmed")})`;
  }

  function renderStats() {
    if (!stats) return;
    const live = stats.live_model;
    statsLine.textContent = t("history.stats", {
      records: stats.records, labelled: stats.labelled, correct: live.correct, live: live.labelled,
      accuracy: live.accuracy === null ? t("history.no_accuracy") : `${(100 * live.accuracy).toFixed(1)}%`,
    });
  }

  function refresh() {
    load(query(), false);
    fetch("/api/stats").then((response) => (response.ok ? response.json() : null))
      .then((answer) => { stats = answer; renderStats(); }).catch(() => {});
  }

  corrected.addEventListener("change", refresh);
  wrong.addEventListener("change", refresh);
  document.getElementById("refresh").addEventListener("click", refresh);
  older.addEventListener("click", () => { if (next) load(next, true); });
  I18n.onChange(() => {
    document.querySelectorAll("#records .label").forEach(renderLabel);
    document.querySelectorAll("#records td.time").forEach(renderTime);
    renderStats();
    renderFailure();
  });
  refresh();
})();
