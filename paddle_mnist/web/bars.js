// Ten probability bars, one per class: the digit page's answer and, in number
// mode, the digit under the pointer (number.js) draw the same chart.
"use strict";

const Bars = (() => {
  function draw(container, classNames, probabilities, best) {
    container.replaceChildren(...classNames.map((name, index) => {
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
  return { draw };
})();
