// Writing on a canvas with a mouse, a finger or a pen: the digit pad (app.js)
// and the number pad (number.js) draw the same strokes.
"use strict";

const Pen = (() => {
  const INK = "#1b1f24";

  // Pointer events cover mouse, touch and pen alike; coordinates are scaled
  // because CSS may show the canvas smaller or larger than its pixel size.
  function pointOf(canvas, event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height),
    };
  }

  // `width` is the pen's line width in canvas pixels; `on.start()` runs as a
  // stroke begins, `on.move()` after each move, `on.end()` when it is lifted.
  function attach(canvas, width, on) {
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let last = null;

    function stroke(from, to) {
      Object.assign(ctx, { strokeStyle: INK, lineWidth: width, lineCap: "round",
                           lineJoin: "round" });
      ctx.beginPath();
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      on.start();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = pointOf(canvas, event);
      stroke(last, last);  // a tap leaves a dot, as a pen would
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      // coalesced events keep fast strokes smooth where the browser batches moves
      const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const move of coalesced.length ? coalesced : [event]) {
        const point = pointOf(canvas, move);
        stroke(last, point);
        last = point;
      }
      on.move();
    });
    function lift() {
      if (!drawing) return;
      drawing = false;
      on.end();
    }
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    return { isDrawing: () => drawing };
  }

  return { attach, INK };
})();
